"""The command line's arguments for torch code: which are tensors to differentiate, which are constants.

They follow what torch.autograd.gradcheck and gv.torch.check do with what they are handed:

- an array (--input x=4,5, randn(4,5), a list [1, 0, 2], an array or tensor in `gradviz_inputs`) becomes a
  tensor: a float array a float64 tensor, differentiated; an integer or boolean array an int64 or bool tensor,
  data held fixed (indices, class targets, masks);
- anything else reaches forward as the Python value it is and is held constant: a parameter default
  (`lo=-0.5`, `eps=1e-5`), an --args value (`{"dim": 1}`), a plain number given with --input (`dim=1` is
  the int 1, `eps=1e-6` the float);
- a plain number the forward cannot take as a number (`torch.tanh(w)` with --input w=1.5) is found by one
  trial run and passed as a 0-d float64 tensor instead, differentiated, and the report says so.

A number the user wants differentiated is given as a one-element array: --input w=[1.5].
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import spec as spec_mod
from ..checking.streams import INPUTS, stream
from ..errors import GradvizError, describe
from ..tensor import Tensor
from ..value import Value
from .tracer import callable_of, function_inputs


@dataclass
class Arguments:
    """forward's arguments in order, which of them are plain numbers the user gave, and what to tell them."""

    values: list
    numbers: dict[int, str] = field(default_factory=dict)  # position -> the argument's name
    notes: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)  # the arguments nothing gave: seeded random tensors


def parameters(obj: Any) -> list[inspect.Parameter]:
    """The arguments the command line fills: forward's after ctx for a Function, forward's for a module, else its own."""
    if isinstance(obj, type):
        params = function_inputs(obj)
    else:  # a module's own signature is __call__'s (*args, **kwargs): its forward says what it takes
        params = list(inspect.signature(obj.forward if isinstance(obj, torch.nn.Module) else obj).parameters.values())
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def build(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], settings: dict,
          seed: int, shape: tuple[int, ...] | None = None) -> Arguments:
    """Each argument from --input, --args, `gradviz_inputs`, its default, or else a seeded random tensor.

    The random tensor is a scalar, or standard normal of `shape` (--input-shape), as a layer's input is.
    """
    params = parameters(obj)
    names = [p.name for p in params]
    who = f"{name}.forward" if isinstance(obj, type) else name
    for flag, given in (("--input", overrides), ("--args", settings)):
        unknown = [n for n in given if n not in names]
        if unknown:
            raise GradvizError(f"{flag} {unknown[0]}: {who} has no argument {unknown[0]}; its arguments are "
                               f"{', '.join(names) or 'none'}")
    twice = sorted(set(overrides) & set(settings))
    if twice:
        raise GradvizError(f"{twice[0]} is given twice, with --input and in --args: give it once")
    declared, notes = _declared(obj, name, module_inputs, names)
    rng = stream(seed, INPUTS)
    args = Arguments([], notes=notes)
    for position, p in enumerate(params):
        if p.name in overrides:
            value, number = from_text(p.name, overrides[p.name], rng)
        elif p.name in settings:
            value, number = settings[p.name], False
        elif p.name in declared:
            value, number = _from_declared(p.name, declared[p.name], rng)
        elif p.default is not inspect.Parameter.empty:
            value, number = p.default, False
        elif shape is not None:  # --input-shape: every generated argument has that shape
            value, number = torch.from_numpy(rng.normal(size=shape)), False
            args.generated.append(p.name)
        else:  # as for a function target: a seeded random scalar
            value, number = torch.tensor(float(np.round(rng.uniform(-1.5, 1.5), 3)), dtype=torch.float64), False
            args.generated.append(p.name)
        if number:
            args.numbers[position] = p.name
        args.values.append(value)
    return args


def confirmed(obj: Any, args: Arguments) -> list:
    """The plain numbers the user gave as constants, unless forward only runs with them as tensors (then 0-d tensors).

    One trial run decides, and only when such numbers were given; when neither reading runs, the constants are
    kept and the check reports the user's own error.
    """
    if not args.numbers:
        return args.values
    given = {name: args.values[i] for i, name in args.numbers.items()}
    named = ", ".join(f"{name}={value!r}" for name, value in given.items())
    if _runs(obj, args.values):
        example = next((n for n, v in given.items() if isinstance(v, float)), next(iter(given)))
        many = len(given) > 1
        args.notes.append(f"{named}: {'plain numbers' if many else 'a plain number'}, passed to forward as "
                          f"{'Python numbers' if many else 'a Python number'} and held constant (as "
                          f"torch.autograd.gradcheck does); to differentiate {'one' if many else 'it'}, give it as "
                          f"a one-element float array, e.g. --input {example}=[{float(given[example])!r}]")
        return args.values
    tensors = [torch.tensor(float(v), dtype=torch.float64) if i in args.numbers else v
               for i, v in enumerate(args.values)]
    if _runs(obj, tensors):
        why = "forward needs a tensor there, so the number was passed"
    elif not _differentiable(obj, args.values):  # neither reading runs: the one with something to differentiate
        why = "passed"
    else:
        return args.values
    sizes = [f"--input {n}=randn({v})" for n, v in given.items() if isinstance(v, int) and v > 0]
    args.notes.append(f"{named}: {why} as a 0-d float64 tensor and differentiated"
                      + (f" (for a random array of that many elements: {', '.join(sizes)})" if sizes else ""))
    return tensors


def _runs(obj: Any, values: list) -> bool:
    """forward runs on these values and has something to differentiate: a float tensor in and out."""
    if not _differentiable(obj, values):
        return False
    try:
        with torch.no_grad():
            out = callable_of(obj)(*values)
    except Exception:  # the user's code: which reading it fails under is what is being found out
        return False
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return any(isinstance(t, torch.Tensor) and t.is_floating_point() for t in outs)


def _differentiable(obj: Any, values: list) -> bool:
    """Something to differentiate: a float tensor among the values, or a module's parameters."""
    return (isinstance(obj, torch.nn.Module) and any(True for _ in obj.parameters())) or \
        any(isinstance(v, torch.Tensor) and v.is_floating_point() for v in values)


def from_text(name: str, text: str, rng: np.random.Generator, flag: str = "--input") -> tuple[Any, bool]:
    """--input NAME=TEXT (or --init): a plain number stays a number (an int when it is written as one); else a SPEC."""
    number = _number(text)
    if number is not None:
        return number, True
    value = spec_mod.parse(text, f"{flag} {name}", rng)
    return (as_tensor(value, f"{flag} {name}") if isinstance(value, np.ndarray) else value), False


def _number(text: str) -> int | float | None:
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def _from_declared(name: str, value: Any, rng: np.random.Generator) -> tuple[Any, bool]:
    """A `gradviz_inputs` value: a tensor as it is, an array or list by its dtype, a shape tuple a random array."""
    what = f"gradviz_inputs[{name!r}]"
    if isinstance(value, torch.Tensor):
        return value.detach(), False
    if isinstance(value, (Value, Tensor)):
        value = value.data
    if isinstance(value, bool) or not isinstance(value, (int, float, tuple, list, np.ndarray, np.number)):
        return value, False
    if isinstance(value, (int, float, np.number)):
        return value.item() if isinstance(value, np.number) else value, True
    if isinstance(value, tuple) and value and all(type(n) is int for n in value):
        return torch.from_numpy(rng.normal(size=value)), False
    return as_tensor(np.asarray(value), what), False


def as_tensor(array: np.ndarray, what: str) -> torch.Tensor:
    """An array as torch code expects it: float64, or int64 / bool for indices, targets and masks."""
    if array.dtype.kind == "b":
        return torch.from_numpy(array.copy())
    if array.dtype.kind in "iu":
        return torch.from_numpy(array.astype(np.int64))
    if array.dtype.kind == "f":
        return torch.from_numpy(np.array(array, dtype=np.float64))
    raise GradvizError(f"{what}: an array of {array.dtype} is not a torch input; give numbers")


def _declared(obj: Any, name: str, module_inputs: dict | None, names: list[str]) -> tuple[dict, list[str]]:
    """The `gradviz_inputs` entry for this target (on it, or in its file keyed by its name), and a note if unused."""
    own = getattr(obj, "gradviz_inputs", None)
    if own is None and module_inputs is not None:
        if name not in module_inputs:
            keys = ", ".join(map(str, module_inputs)) or "none"
            return {}, [f"gradviz_inputs has no entry {name!r} (its keys: {keys}), so it was not used"]
        own = module_inputs[name]
    if own is None:
        return {}, []
    if not isinstance(own, dict):
        raise GradvizError(f"gradviz_inputs for {name} must be a dict of argument name -> value, got {describe(own)}")
    unknown = [k for k in own if k not in names]
    if unknown:
        raise GradvizError(f"gradviz_inputs for {name} names {unknown[0]!r}, which is not an argument of its "
                           f"forward ({', '.join(names) or 'none'})")
    return own, []
