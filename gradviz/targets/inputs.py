"""Building a target's inputs: from --input / --init / --args, a `gradviz_inputs` dict, defaults, or seeds.

Functions get their inputs from, in order: the --input option, a
`gradviz_inputs` dict (an attribute of the function, or a module-level dict
keyed by function name), parameter defaults, and otherwise a random scalar. A
value may be a number, an array, or a shape tuple (a seeded random array of
that shape). A missing argument is an error that says which flag supplies it.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from typing import Any, Callable

import numpy as np

from .. import spec as spec_mod
from ..checking.streams import INPUTS, PARAMETERS, SPREAD, stream
from ..errors import GradvizError
from ..tensor import Tensor
from ..value import Value
from .parsing import as_number, parse_shape


def input_value(name: str, spec: Any, rng: np.random.Generator):
    if isinstance(spec, (Value, Tensor)):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Value(float(spec), label=name)
    if isinstance(spec, tuple) and all(isinstance(n, int) for n in spec):
        return Tensor(rng.normal(size=spec), label=name)
    if isinstance(spec, (list, np.ndarray)):
        return Tensor(np.asarray(spec, dtype=np.float64), label=name)
    raise GradvizError(f"input {name!r}: {spec!r} is not a number, an array or a shape tuple")


def function_inputs(fn: Callable, name: str, module_inputs: dict | None, overrides: dict[str, str],
                    seed: int) -> list:
    rng = stream(seed, INPUTS)
    declared = getattr(fn, "gradviz_inputs", None) or (module_inputs or {}).get(name) or {}
    inputs = []
    for param in inspect.signature(fn).parameters.values():
        if param.name in overrides:
            text = overrides[param.name]
            number = as_number(text)  # a plain number is a Value here; anything else is a SPEC (4,5, randn(2,3), ...)
            value = number if number is not None else spec_mod.parse(text, f"--input {param.name}", rng)
            inputs.append(input_value(param.name, value, rng) if isinstance(value, (int, float, np.ndarray))
                          else value)
        elif param.name in declared:
            inputs.append(input_value(param.name, declared[param.name], rng))
        elif param.default is not inspect.Parameter.empty:
            inputs.append(input_value(param.name, param.default, rng))
        else:
            inputs.append(Value(float(np.round(rng.uniform(-1.5, 1.5), 3)), label=param.name))
    return inputs


def user_op_inputs(op: type, label: str, inputs: dict[str, str], input_shape: str | None, seed: int) -> list:
    """A gv.Function's inputs, named after its forward's arguments: --input NAME=SPEC, else --input-shape.

    Without either, each argument is a seeded random scalar (a Value), as for a function target.
    """
    overrides = dict(inputs)
    if input_shape:
        shape = ",".join(map(str, parse_shape(input_shape, "--input-shape")))
        for name in inspect.signature(op.forward).parameters:
            overrides.setdefault(name, f"randn({shape})")
    unknown = set(overrides) - set(inspect.signature(op.forward).parameters)
    if unknown:
        raise GradvizError(f"--input {', '.join(sorted(unknown))}: {label}.forward has no such argument "
                           f"(its arguments are {', '.join(inspect.signature(op.forward).parameters)})")
    return function_inputs(op.forward, label, None, overrides, seed)


class Given:
    """What the flags supply: --input arrays/values, --init constructor arrays, --args settings."""

    def __init__(self, inputs: dict, raw_numbers: dict, init: dict, settings: dict, positional: list,
                 init_texts: dict | None = None):
        self.inputs, self.raw_numbers, self.init = inputs, raw_numbers, init
        self.settings, self.positional = settings, positional
        self.init_texts = init_texts or {}  # what the user typed after --init NAME=, for the error hints
        self.bound: list[str] = []  # inputs given under another name, bound to the one argument left (said as notes)

    @classmethod
    def from_flags(cls, args_json: str | None, inputs: dict[str, str], init: dict[str, str], seed: int,
                   spread: bool = False) -> "Given":
        """The flags' values; `spread=True`: a second draw whose normal inputs span scales 0.1x to 10x, both signs."""
        parsed = json_args(args_json)
        settings, positional = (parsed, []) if isinstance(parsed, dict) else ({}, parsed)
        input_rng, init_rng = stream(seed, SPREAD if spread else INPUTS), stream(seed, PARAMETERS)
        values = {n: spec_mod.parse(t, f"--input {n}", input_rng) for n, t in inputs.items()}
        for n, t in inputs.items() if spread else ():
            if normal_draw(t) and isinstance(values[n], np.ndarray):  # each element at its own scale
                values[n] = values[n] * 10.0 ** input_rng.uniform(-1.0, 1.0, size=values[n].shape)
        numbers = {n: as_number(t) for n, t in inputs.items() if as_number(t) is not None}
        made = {n: spec_mod.parse(t, f"--init {n}", init_rng) for n, t in init.items()}
        return cls(values, numbers, made, settings, positional, init_texts=dict(init))

    def arguments(self, fn: Callable, who: str, *, skip_first: int = 0,
                  also: Callable | None = None) -> tuple[list, dict]:
        """fn's arguments from --input and --args by parameter name: positional up to the last given.

        `also`: a partner (a pair's backward) whose own arguments given by name (L_model_backward's Y) are
        returned with the settings, for it alone, rather than refused."""
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][skip_first:]
        partner = set(inspect.signature(also).parameters) if also is not None else set()
        known = {**self.settings, **self.inputs}
        unknown = [n for n in self.inputs if n not in {p.name for p in params} and n not in partner]
        unfilled = [p.name for p in params if p.name not in known and p.default is inspect.Parameter.empty]
        if len(unknown) == 1 and len(unfilled) == 1:  # x given, relu_forward(z): the one input for the one argument
            known[unfilled[0]] = known.pop(unknown[0])
            self.bound = [f"--input {unknown[0]} is given to {who}'s argument {unfilled[0]}, the only one left"]
            unknown = []
        if unknown:
            raise GradvizError(f"--input {unknown[0]}: {who} has no argument {unknown[0]}; its arguments are "
                               f"{', '.join(p.name for p in params) or 'none'}")
        last = max((i for i, p in enumerate(params) if p.name in known), default=-1)
        args = []
        for p in params[:last + 1]:
            if p.name in known:
                args.append(known[p.name])
            elif p.default is not inspect.Parameter.empty:
                args.append(p.default)
            else:
                raise missing_argument(fn, who, p.name)
        missing = [p.name for p in params[last + 1:] if p.default is inspect.Parameter.empty]
        if missing:
            raise missing_argument(fn, who, missing[0])
        extra = {k: v for k, v in self.settings.items() if k not in {p.name for p in params}}
        extra.update({k: v for k, v in self.inputs.items() if k not in {p.name for p in params} and k in partner})
        return args, extra

    def has_arrays(self) -> bool:
        return bool(self.inputs)

    def construct(self, cls, name):
        kwargs = {**self.settings, **self.init}
        try:
            signature = inspect.signature(cls)
            signature.bind(*self.positional, **kwargs)
        except TypeError as exc:
            needed = [p.name for p in inspect.signature(cls).parameters.values()
                      if p.default is inspect.Parameter.empty and p.name not in kwargs]
            hint = (f"; give {', '.join(needed)}: a setting in --args JSON (e.g. --args '{{\"{needed[0]}\": 3}}'), "
                    f"an array with --init {needed[0]}=SPEC (e.g. 4,3)" if needed else "")
            raise GradvizError(f"creating {name}{signature}: {exc}{hint}") from None
        except ValueError:
            pass
        try:
            return cls(*self.positional, **kwargs)
        except Exception as exc:
            from ..checking.adapters.reading import where

            at = where(exc)
            raise GradvizError(f"creating {name}({', '.join(kwargs)}) raised {type(exc).__name__}: {exc}"
                               + (f" (at {at})" if at else "") + self._constructor_hint()) from None

    def _constructor_hint(self) -> str:
        """A size typed as --init n_inputs=3 became a random array of shape (3,): say so, and how to pass 3."""
        sizes = {n: int(t) for n, t in self.init_texts.items() if t.strip().isdigit()}
        if not sizes:
            return "; pass constructor arguments with --init NAME=SPEC or --args JSON"
        first, n = next(iter(sizes.items()))
        return (f"; --init {first}={n} made a random array of shape ({n},), not the number {n}: "
                f"give numbers in --args JSON, e.g. --args '{json.dumps(sizes)}' (--init is for arrays)")


def json_args(args_json: str | None) -> dict | list:
    """--args JSON: a dict of settings by name, or a list of positional ones ({} when not given)."""
    if not args_json:
        return {}
    try:
        parsed = json.loads(args_json)
    except json.JSONDecodeError as exc:
        raise GradvizError(f"--args is not valid JSON: {exc.msg} (at character {exc.pos + 1})") from None
    if not isinstance(parsed, (dict, list)):
        raise GradvizError('--args takes a JSON object of settings, e.g. \'{"pad": 1}\', or a list')
    return parsed


def normal_draw(text: str) -> bool:
    """Whether an --input SPEC is a seeded standard-normal draw (a shape, or randn(...))."""
    return bool(re.fullmatch(r"\s*\d+(\s*[,x]\s*\d+)*\s*,?\s*", text)) or text.strip().startswith("randn(")


def missing_argument(fn: Callable, who: str, name: str) -> GradvizError:
    """A missing argument: an array for --input, or, when fn reads it as conv_param['stride'], a dict for --args."""
    if _called(fn, name):
        return GradvizError(f"{who} needs its argument {name}, which it calls as a function: give it with "
                            f"--input {name}=identity (or relu, tanh, sigmoid)")
    keys = _keys_read(fn, name)
    if keys is None:
        return GradvizError(f"{who} needs its argument {name}: give it with --input {name}=SPEC "
                            "(e.g. 4,5 or randn(4,5)) or in --args JSON")
    template = "{" + ", ".join(f'"{k}": ...' for k in keys) + "}"
    return GradvizError(f"{who} needs its argument {name}, which it reads as a dict"
                        + (f" ({', '.join(keys)})" if keys else "")
                        + f": give it in --args JSON, e.g. --args '{{\"{name}\": {template}}}'")


def _source_tree(fn: Callable):
    """fn's parsed source (read, never run), or None when it has none (a builtin, a REPL definition)."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _called(fn: Callable, name: str) -> bool:
    """fn calls its argument `name` (activation(Z)): it expects a function."""
    tree = _source_tree(fn)
    return tree is not None and any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                                    and node.func.id == name for node in ast.walk(tree))


def _keys_read(fn: Callable, name: str) -> list[str] | None:
    """The string keys fn's source reads from its argument `name` (name['k'], name.get('k')); None if none."""
    tree = _source_tree(fn)
    if tree is None:
        return None
    required, optional = [], []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)
                and node.value.id == name and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            required.append(node.slice.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, ast.Name) and node.func.value.id == name and node.args
              and isinstance(node.args[0], ast.Constant)):
            optional.append(node.args[0].value)
    if not required and not optional:
        return None
    return list(dict.fromkeys(required))
