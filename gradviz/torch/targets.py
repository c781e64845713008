"""The command line's torch targets: `gradviz check file.py:MyFunction`, `file.py:fn`, `file.py:MyModule`, `render`.

gradviz.targets asks this module first, and only when the user's file has
imported torch. Arguments come from --input, --args, a `gradviz_inputs` dict
and forward's defaults; inputs.py says which become tensors (arrays) and which
stay Python constants (numbers, settings), as torch.autograd.gradcheck has it.
The hand-written-code flags mean the same here: --input-shape is the shape of
the generated inputs, --init a constructor argument (of an nn.Module class:
the file's module instances and Functions are never constructed), --wrt the
tensors differentiated. A flag that cannot apply is refused, never ignored.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import torch

from ..checking.adapters.reading import where
from ..checking.report import Report
from ..checking.streams import INPUTS, stream
from ..errors import GradvizError
from ..targets.parsing import parse_shape
from . import inputs as torch_inputs
from .checker import check
from .tracer import record


def handles(obj: Any) -> bool:
    """A torch.autograd.Function or nn.Module subclass, an nn.Module, or a function from a file that imports torch."""
    if isinstance(obj, type):
        return issubclass(obj, (torch.autograd.Function, torch.nn.Module))
    if isinstance(obj, torch.nn.Module):
        return True
    if inspect.isfunction(obj):
        return any(isinstance(v, types.ModuleType) and (v.__name__ == "torch" or v.__name__.startswith("torch."))
                   for v in obj.__globals__.values())
    return False


def arguments(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int,
              settings: dict | None = None, input_shape: str | None = None) -> tuple[list, list[str]]:
    """forward's arguments in order (tensors to differentiate, data and constants) and the notes about them."""
    shape = parse_shape(input_shape, "--input-shape") if input_shape is not None else None
    args = torch_inputs.build(obj, name, module_inputs, overrides, settings or {}, seed, shape)
    if shape is not None and not args.generated:
        names = [p.name for p in torch_inputs.parameters(obj)]
        example = f"--input {names[0] if names else 'x'}={','.join(map(str, shape))}"
        raise GradvizError(f"--input-shape {input_shape}: every argument of {name} is given already "
                           f"({', '.join(names) or 'it takes none'}), so no input is generated at that shape; "
                           f"give the shape with --input, e.g. {example}, or drop --input-shape")
    return torch_inputs.confirmed(obj, args), args.notes


def check_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str],
                 options: dict, settings: dict | None = None, *, input_shape: str | None = None,
                 init: dict[str, str] | None = None, wrt: str | None = None) -> Report:
    """`gradviz check FILE:NAME` for torch code: NAME built (an nn.Module class), its arguments read, then checked."""
    seed = options.get("seed", 0)
    obj, settings, built = construct(obj, name, init or {}, settings or {}, seed)
    values, notes = arguments(obj, name, module_inputs, overrides, seed, settings, input_shape)
    names = [n.strip() for n in wrt.split(",") if n.strip()] if wrt is not None else None
    if wrt is not None and not names:
        raise GradvizError("--wrt names the tensors to differentiate, e.g. --wrt x (or --wrt x,weight)")
    report = check(obj, *values, name=name, wrt=names, **options)
    report.notes[:0] = built
    report.notes.extend(n for n in notes if n not in report.notes)
    return report


def graph_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int,
                 settings: dict | None = None):
    hint = (f"; gradviz render takes no constructor arguments: make an instance in the file (model = "
            f"{name}(...)) and render FILE:model")
    obj, settings, _ = construct(obj, name, {}, settings or {}, seed, hint)
    values, _ = arguments(obj, name, module_inputs, overrides, seed, settings)
    return record(obj, *values)


CONSTRUCTOR_HINT = "; give constructor arguments with --init NAME=SPEC or --args JSON"


def construct(obj: Any, name: str, init: dict[str, str], settings: dict, seed: int,
              hint: str = CONSTRUCTOR_HINT) -> tuple[Any, dict, list[str]]:
    """An nn.Module class built from --init and its share of --args: (the module, forward's --args, notes).

    --args keys go to whichever of the constructor and forward takes them; --init NAME=SPEC is a constructor
    argument read as --input reads a torch argument (a plain number stays a number, an array is a tensor).
    Anything else named on the command line is never constructed: --init is refused for it.
    """
    if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
        if init:
            raise GradvizError(f"--init {next(iter(init))}: --init gives a constructor argument of a class, and "
                               f"{name} is {_never_constructed(obj, name)}; give forward's arguments with --input "
                               "NAME=SPEC or --args JSON")
        return obj, settings, []
    params = [p for p in inspect.signature(obj).parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    own = [p.name for p in params]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(obj).parameters.values())
    forward = [p.name for p in torch_inputs.parameters(obj.forward)][1:]  # after self
    unknown = [n for n in init if n not in own and not takes_any]
    if unknown:
        raise GradvizError(f"--init {unknown[0]}: {name}'s constructor has no argument {unknown[0]}; its arguments "
                           f"are {', '.join(own) or 'none'}" + (f" (forward's, given with --input: "
                                                                 f"{', '.join(forward)})" if forward else ""))
    both = sorted(n for n in settings if n in own and n in forward)
    if both:
        raise GradvizError(f"--args {both[0]}: both {name}'s constructor and its forward take {both[0]}; say which "
                           f"with --init {both[0]}=VALUE (the constructor) or --input {both[0]}=VALUE (forward)")
    twice = sorted(set(init) & set(settings))
    if twice:
        raise GradvizError(f"{twice[0]} is given twice, with --init and in --args: give it once")
    neither = [n for n in settings if n not in own and n not in forward]
    if neither and not takes_any:
        raise GradvizError(f"--args {neither[0]}: neither {name}'s constructor ({', '.join(own) or 'no arguments'}) "
                           f"nor its forward ({', '.join(forward) or 'no arguments'}) takes {neither[0]}")
    rng = stream(seed, INPUTS)
    kwargs = {n: torch_inputs.from_text(n, text, rng, "--init")[0] for n, text in init.items()}
    kwargs.update({n: v for n, v in settings.items() if n not in forward})
    try:
        module = obj(**kwargs)
    except Exception as exc:  # the user's constructor: its error, at its line, is the message
        at = where(exc)
        raise GradvizError(f"creating {name}({', '.join(f'{n}=...' for n in kwargs)}) raised "
                           f"{type(exc).__name__}: {exc}" + (f" (at {at})" if at else "") + hint) from None
    said = ", ".join(f"{n}={_shown(v)}" for n, v in kwargs.items())
    notes = [f"{name} was built as {name}({said})"] if kwargs else []
    return module, {n: v for n, v in settings.items() if n in forward}, notes


def _never_constructed(obj: Any, name: str) -> str:
    if isinstance(obj, type):
        return "a torch.autograd.Function, whose apply is called and never an instance made"
    if isinstance(obj, torch.nn.Module):
        return (f"an nn.Module built in the file already (to build one with other constructor arguments, name its "
                f"class: FILE:{type(obj).__name__})")
    return "a function"


def _shown(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {'x'.join(map(str, value.shape)) or '0-d'} tensor"
    return repr(value)
