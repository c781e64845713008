"""What `gradviz check TARGET` can point at: an expression, or NAME in a Python file.

A file target is imported from any working directory (its folder goes on
sys.path while it loads). Functions get their inputs from, in order: the
--input option, a `gradviz_inputs` dict (an attribute of the function, or a
module-level dict keyed by function name), parameter defaults, and otherwise
a random scalar. A value may be a number, an array, or a shape tuple (a seeded
random array of that shape). A class with forward/backward is checked with
check_layer; one with compute/backward with check_loss.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import sys
import textwrap
import traceback
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import expr as expr_mod
from . import notebooks
from . import spec as spec_mod
from .checking.core import check
from .checking.report import Report
from .checking.streams import INPUTS, PARAMETERS, stream
from .errors import GradvizError
from .function import Function
from .tensor import Tensor
from .value import Value


def is_file_target(target: str) -> bool:
    return _names_a_file(target) or target.endswith((".py", ".ipynb"))


def _names_a_file(text: str) -> bool:
    """FILE:NAME with a Python file or a Jupyter notebook."""
    return ".py:" in text or ".ipynb:" in text


def parse_at(text: str | None) -> dict[str, float]:
    """--at w=0.5,x=2,b=-1 -> {"w": 0.5, ...}"""
    values: dict[str, float] = {}
    if not text:
        return values
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise GradvizError(f"--at takes name=value pairs separated by commas, e.g. w=0.5,x=2; got {part!r}")
        try:
            values[name] = float(value)
        except ValueError:
            raise GradvizError(f"--at {name}={value}: {value!r} is not a number") from None
    return values


def parse_shape(text: str, what: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(p) for p in text.replace("x", ",").split(",") if p.strip())
    except ValueError:
        raise GradvizError(f"{what}: {text!r} is not a shape; write e.g. 2,3,8,8") from None
    if not shape or min(shape) < 1:
        raise GradvizError(f"{what}: {text!r} is not a shape; write e.g. 2,3,8,8")
    return shape


def expression_function(text: str, at: dict[str, float], seed: int) -> tuple[Callable, list[Value]]:
    """The graph-building function of an expression and its inputs (seeded random where --at is silent)."""
    tree = expr_mod.parse(text)
    variables = expr_mod.names(tree)
    unknown = set(at) - set(variables)
    constants = sorted(unknown & set(expr_mod.CONSTANTS))
    if constants:
        raise GradvizError(f"--at gives {', '.join(constants)}, but in an expression "
                           f"{' and '.join(constants)} {'is a constant' if len(constants) == 1 else 'are constants'} "
                           f"({', '.join(f'{c} = {expr_mod.CONSTANTS[c]:.6g}' for c in constants)}); "
                           "name the variable something else")
    if unknown:
        raise GradvizError(f"--at gives {', '.join(sorted(unknown))}, which the expression does not use "
                           f"(its names are {', '.join(variables) or 'none'})")
    rng = stream(seed, INPUTS)
    inputs = [Value(at[n] if n in at else float(np.round(rng.uniform(-1.5, 1.5), 3)), label=n) for n in variables]

    def build(*values):
        return expr_mod.evaluate(tree, dict(zip(variables, values)))

    build.__name__ = text
    return build, inputs


def load_module(path_text: str):
    """Import a user's file from any working directory (its folder is on sys.path while it loads)."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise GradvizError(f"no such file: {path} (give path/to/file.py:NAME)", kind="missing_file")
    module_name = f"gradviz_user_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return sys.modules[module_name], path
    notebook = path.suffix == notebooks.SUFFIX
    spec = None if notebook else importlib.util.spec_from_file_location(module_name, path)
    module = types.ModuleType(module_name) if notebook else importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        notebooks.run_notebook(path, module) if notebook else spec.loader.exec_module(module)
    except GradvizError:
        del sys.modules[module_name]
        raise
    except SyntaxError as exc:
        del sys.modules[module_name]
        raise GradvizError(f"syntax error in {path}:{exc.lineno}: {exc.msg}", kind="syntax") from None
    except Exception as exc:
        del sys.modules[module_name]
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise GradvizError(f"importing {where} raised {type(exc).__name__}: {exc}",
                           kind="missing_module" if isinstance(exc, ModuleNotFoundError) else "import_raised") from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module, path


def _defined(module) -> list[str]:
    return [n for n, v in vars(module).items() if not n.startswith("_") and
            (inspect.isfunction(v) or inspect.isclass(v)) and getattr(v, "__module__", "") == module.__name__]


def load(target: str) -> tuple[Any, str, Path]:
    """Import path/file.py and return (object NAME, NAME, path)."""
    path_text, _, name = target.rpartition(":") if _names_a_file(target) else (target, "", "")
    if not name:
        raise GradvizError(f"which object in {path_text}? give path/to/file.py:NAME")
    module, path = load_module(path_text)
    if not hasattr(module, name):
        available = _defined(module)
        raise GradvizError(f"{path} has no {name!r}" + (f"; it defines {', '.join(available)}" if available else ""),
                           kind="missing_name")
    return getattr(module, name), name, path


def _input_value(name: str, spec: Any, rng: np.random.Generator):
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
            number = _number(text)  # a plain number is a Value here; anything else is a SPEC (4,5, randn(2,3), ...)
            value = number if number is not None else spec_mod.parse(text, f"--input {param.name}", rng)
            inputs.append(_input_value(param.name, value, rng) if isinstance(value, (int, float, np.ndarray))
                          else value)
        elif param.name in declared:
            inputs.append(_input_value(param.name, declared[param.name], rng))
        elif param.default is not inspect.Parameter.empty:
            inputs.append(_input_value(param.name, param.default, rng))
        else:
            inputs.append(Value(float(np.round(rng.uniform(-1.5, 1.5), 3)), label=param.name))
    return inputs


def _torch_bridge(obj: Any):
    """gv.torch's targets module when `obj` is torch code (asked first); torch is never imported otherwise."""
    if sys.modules.get("torch") is None:  # the user's file did not import torch
        return None
    from .torch import targets as torch_targets

    return torch_targets if torch_targets.handles(obj) else None


def _module_inputs(obj: Any) -> dict | None:
    found = getattr(sys.modules.get(getattr(obj, "__module__", None) or ""), "gradviz_inputs", None)
    return found if isinstance(found, dict) else None


def split_target(target: str) -> list[tuple[str, str]]:
    """"f.py:fwd,bwd" and "a.py:fwd,b.py:bwd" -> [(path, name), ...]; a name without a file uses the previous file."""
    parts: list[tuple[str, str]] = []
    path = None
    for piece in target.split(","):
        piece = piece.strip()
        if _names_a_file(piece):
            path, _, name = piece.rpartition(":")
        elif path is None:
            raise GradvizError(f"{target!r}: give path/to/file.py:NAME (or FILE:FORWARD,BACKWARD)")
        else:
            name = piece
        if not name.isidentifier():
            raise GradvizError(f"{target!r}: {name!r} is not a name; write FILE:NAME or FILE:FORWARD,BACKWARD")
        parts.append((path, name))
    if len(parts) > 2:
        raise GradvizError(f"{target!r} names {len(parts)} objects; give one (FILE:NAME) or two (FILE:FORWARD,BACKWARD)")
    return parts


# FILE:STEM finds a pair by these spellings; FILE:NAME of a function also finds NAME's gradient function.
PAIR_SPELLINGS = (("{}_forward", "{}_backward"), ("forward_{}", "backward_{}"), ("{}_fwd", "{}_bwd"),
                  ("{}_forward_naive", "{}_backward_naive"))
GRADIENT_SPELLINGS = ("{}_backward", "{}_prime", "{}_grad", "{}_gradient", "{}_derivative", "d_{}", "grad_{}")


def resolve(target: str) -> tuple[Any, Any, str, Path]:
    """The object(s) a target names: (first, second or None, label, path of the first)."""
    parts = split_target(target)
    if len(parts) == 2:
        (p1, n1), (p2, n2) = parts
        first, _, path = load(f"{p1}:{n1}")
        second, _, _ = load(f"{p2}:{n2}")
        return first, second, f"{n1},{n2}", path
    path_text, name = parts[0]
    module, path = load_module(path_text)
    obj = getattr(module, name, None)
    candidates = [(f.format(name), b.format(name)) for f, b in PAIR_SPELLINGS]
    if obj is None or not (inspect.isclass(obj) or not callable(obj)):
        candidates += [(name, g.format(name)) for g in GRADIENT_SPELLINGS] if obj is not None else []
    found = [(f, b) for f, b in candidates if callable(getattr(module, f, None)) and callable(getattr(module, b, None))]
    if len(found) > 1:
        raise GradvizError(f"{path}:{name} is ambiguous: it could be {found[0][0]},{found[0][1]} or "
                           f"{found[1][0]},{found[1][1]}; name both: {path}:FORWARD,BACKWARD")
    if found:
        f, b = found[0]
        return getattr(module, f), getattr(module, b), f"{f},{b}", path
    half = _half_of_a_pair(module, name) if inspect.isfunction(obj) else None
    if half:
        stem, fwd, bwd = half
        raise GradvizError(f"{path}:{name} is one half of the pair {fwd}/{bwd}: check the two together, "
                           f"{path}:{fwd},{bwd} (or {path}:{stem})")
    if obj is None:
        available = _defined(module)
        raise GradvizError(f"{path} has no {name!r}" + (f"; it defines {', '.join(available)}" if available else "")
                           + f" (and no pair {name}_forward/{name}_backward)", kind="missing_name")
    return obj, None, name, path


def _half_of_a_pair(module, name: str) -> tuple[str, str, str] | None:
    """affine_forward (or affine_backward) named alone while the module defines its partner: (stem, fwd, bwd)."""
    for spellings in PAIR_SPELLINGS:
        for spelling in spellings:
            prefix, _, suffix = spelling.partition("{}")
            stem = name[len(prefix):len(name) - len(suffix)]
            if not (stem and name == spelling.format(stem)):
                continue
            fwd, bwd = (s.format(stem) for s in spellings)
            if callable(getattr(module, fwd, None)) and callable(getattr(module, bwd, None)):
                return stem, fwd, bwd
    return None


def check_file_target(target: str, **flags: Any) -> Report:
    """Turn a CLI file target and its flags into a Report: the one entry point for every convention.

    FILE:NAME (a graph-building function, a loss returning (loss, grad), a
    layer or loss class, a ctx Function), FILE:FWD,BWD and FILE:STEM (a pair,
    or a function and its gradient), and A.py:FWD,B.py:BWD; FILE may be a notebook (hw2.ipynb:NAME).
    """
    report = _check_file_target(target, **flags)
    skipped = [n for path, _ in split_target(target) for n in notebooks.notes_of(Path(path))]
    report.notes[:0] = list(dict.fromkeys(skipped))
    return report


def _check_file_target(target: str, *, args_json: str | None, input_shape: str | None, inputs: dict[str, str],
                       options: dict, init: dict[str, str] | None = None, forward: str | None = None,
                       backward: str | None = None, wrt: str | None = None, batch_axis: int | None = None,
                       per_example_dout: bool = False, params: list[str] | None = None) -> Report:
    first, second, label, path = resolve(target)
    bridge = _torch_bridge(first) if second is None else None
    if bridge is not None:
        return bridge.check_target(first, label, _module_inputs(first), inputs, options)
    seed = options.get("seed", 0)
    given = Given.from_flags(args_json, inputs, init or {}, seed)
    check_options = {k: v for k, v in options.items() if k in ("eps", "atol", "rtol", "seed", "mode", "strict")}
    layout = {"batch_axis": batch_axis or 0, "per_example_dout": per_example_dout}
    if second is not None:
        return given.check_two_functions(first, second, wrt, check_options, layout)
    if _is_user_op(first):
        op_inputs = user_op_inputs(first, label, inputs, input_shape, seed)
        return check(lambda *xs: first.apply(*xs), *op_inputs, name=label, **options)
    if inspect.isclass(first):
        return given.check_class(first, label, input_shape, forward, backward, wrt, check_options,
                                 {**layout, "params": params})
    if not callable(first):
        raise GradvizError(f"{label} in {path} is not a function or a class")
    if given.inputs and not _all_numbers(given):
        return given.check_numpy_function(first, label, path, wrt, check_options)
    values = function_inputs(first, label, _module_inputs(first), inputs, seed)
    if not _builds_graph(first, values):
        if given.inputs:  # plain numbers for numpy code: read them as SPECs (3 is a vector of 3)
            return given.check_numpy_function(first, label, path, wrt, check_options)
        raise GradvizError(
            f"{path}:{label} does not build a gradviz graph from gradviz Values: to check numpy code give its "
            f"gradient too (FILE:{label},{label}_prime, or a pair FILE:FORWARD,BACKWARD), or return (loss, gradient) "
            f"from {label} and pass its inputs with --input NAME=SPEC")
    return check(first, *values, name=label, **options)


def _is_user_op(obj: Any) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Function)


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


def _all_numbers(given: "Given") -> bool:
    """Inputs that are all plain numbers may be a graph-building function's Values (--input w=1.5)."""
    return len(given.raw_numbers) == len(given.inputs)


def _builds_graph(fn: Callable, values: list) -> bool:
    """A numpy function given where a graph-building one is expected does not return a Value or Tensor."""
    try:
        return isinstance(fn(*values), (Value, Tensor))
    except Exception:
        return False


class Given:
    """What the flags supply: --input arrays/values, --init constructor arrays, --args settings."""

    def __init__(self, inputs: dict, raw_numbers: dict, init: dict, settings: dict, positional: list,
                 init_texts: dict | None = None):
        self.inputs, self.raw_numbers, self.init = inputs, raw_numbers, init
        self.settings, self.positional = settings, positional
        self.init_texts = init_texts or {}  # what the user typed after --init NAME=, for the error hints

    @classmethod
    def from_flags(cls, args_json: str | None, inputs: dict[str, str], init: dict[str, str], seed: int) -> "Given":
        settings, positional = {}, []
        if args_json:
            try:
                parsed = json.loads(args_json)
            except json.JSONDecodeError as exc:
                raise GradvizError(f"--args is not valid JSON: {exc.msg} (at character {exc.pos + 1})") from None
            if isinstance(parsed, dict):
                settings = parsed
            elif isinstance(parsed, list):
                positional = parsed
            else:
                raise GradvizError('--args takes a JSON object of settings, e.g. \'{"pad": 1}\', or a list')
        input_rng, init_rng = stream(seed, INPUTS), stream(seed, PARAMETERS)
        values = {n: spec_mod.parse(t, f"--input {n}", input_rng) for n, t in inputs.items()}
        numbers = {n: _number(t) for n, t in inputs.items() if _number(t) is not None}
        made = {n: spec_mod.parse(t, f"--init {n}", init_rng) for n, t in init.items()}
        return cls(values, numbers, made, settings, positional, init_texts=dict(init))

    def arguments(self, fn: Callable, who: str, *, skip_first: int = 0) -> tuple[list, dict]:
        """fn's arguments from --input and --args by parameter name: positional up to the last given."""
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][skip_first:]
        known = {**self.settings, **self.inputs}
        unknown = [n for n in self.inputs if n not in {p.name for p in params}]
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
                raise _missing_argument(fn, who, p.name)
        missing = [p.name for p in params[last + 1:] if p.default is inspect.Parameter.empty]
        if missing:
            raise _missing_argument(fn, who, missing[0])
        extra = {k: v for k, v in self.settings.items() if k not in {p.name for p in params}}
        return args, extra

    def has_arrays(self) -> bool:
        return bool(self.inputs)

    def check_two_functions(self, first, second, wrt, options, layout) -> Report:
        from .checking import handwritten as hw

        fname = getattr(first, "__name__", "forward")
        args, extra = self.arguments(first, fname)
        if _same_arguments(first, second):
            if extra:
                raise GradvizError(f"--args gives {', '.join(extra)}, which {fname} does not take")
            return hw.check_grad_fn(first, second, *args, wrt=wrt, **options)
        pair_options = {k: v for k, v in options.items() if k != "mode"}  # `mode` may be the user's own setting
        return hw.check_pair(first, second, *args, wrt=wrt, check_mode=options.get("mode"), **layout, **pair_options,
                             **extra)

    def check_numpy_function(self, fn, name, path, wrt, options) -> Report:
        from .checking import handwritten as hw

        args, extra = self.arguments(fn, name)
        if extra:
            raise GradvizError(f"--args gives {', '.join(extra)}, which {name} does not take")
        return hw.check_loss(fn, *args, wrt=wrt, **options)

    def check_class(self, cls, name, input_shape, forward, backward, wrt, options, layout) -> Report:
        from .checking import handwritten as hw
        from .checking.adapters.ctx import is_ctx_function
        from .checking.adapters.layer import pick_methods

        if is_ctx_function(cls):
            args, _ = self.arguments(cls.forward, f"{name}.forward", skip_first=1)
            return hw.check_function(cls, *args, **options)
        instance = self.construct(cls, name)
        value_fn = getattr(instance, forward or "", None) or next(
            (getattr(instance, m) for m in ("compute", "forward", "forward_pass", "calculate") if
             callable(getattr(instance, m, None))), None)
        if value_fn is None:  # fprop/bprop, __call__/gradient...: the layer adapter's detection, or its error
            value_fn = getattr(instance, pick_methods(instance, forward, backward)[0])
        required = [p for p in inspect.signature(value_fn).parameters.values() if p.default is inspect.Parameter.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        is_loss = callable(getattr(instance, "compute", None)) or len(required) >= 2
        if is_loss:
            if self.inputs:
                args, _ = self.arguments(value_fn, f"{name}.{value_fn.__name__}")
            elif input_shape:
                rng = stream(options.get("seed", 0), INPUTS)
                shape = parse_shape(input_shape, "--input-shape")
                args = [rng.uniform(0.1, 0.9, size=shape), rng.uniform(0.1, 0.9, size=shape)]
            else:
                raise GradvizError(f"{name} is checked as a loss: give its inputs with --input "
                                   f"{required[0].name}=SPEC --input {required[1].name}=SPEC (or --input-shape)")
            return hw.check_loss(instance, *args, compute=forward, backward=backward, wrt=wrt, **options)
        if self.inputs:
            args, _ = self.arguments(value_fn, f"{name}.{value_fn.__name__}")
            x = args[0]
        elif input_shape:
            x = stream(options.get("seed", 0), INPUTS).normal(size=parse_shape(input_shape, "--input-shape"))
        else:
            first = required[0].name if required else "x"
            raise GradvizError(f"{name} is checked as a layer: give its input with --input {first}=SPEC "
                               "(e.g. 4,3) or --input-shape, e.g. 2,3,8,8")
        return hw.check_layer(instance, x, forward=forward, backward=backward, **layout, **options)

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
            from .checking.adapters.reading import where

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


def _missing_argument(fn: Callable, who: str, name: str) -> GradvizError:
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


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def _same_arguments(f: Callable, g: Callable) -> bool:
    """mse(y_true, y_pred) / mse_prime(y_true, y_pred): a function and its gradient, not a forward/backward pair."""
    try:
        fp = [p for p in inspect.signature(f).parameters if p != "self"]
        gp = [p for p in inspect.signature(g).parameters if p != "self"]
    except (TypeError, ValueError):
        return False
    return bool(fp) and gp[:len(fp)] == fp


def check_optimizer_target(target: str, kind: str, *, args_json: str | None, steps: int, seed: int) -> Report:
    """`gradviz check optim.py:adam --optimizer adam --args '{"learning_rate": 0.01}'`."""
    from .checking.optimizers import check_optimizer

    if not is_file_target(target):
        raise GradvizError("--optimizer checks an optimizer in a file: give path/to/optim.py:NAME")
    obj, _, _ = load(target)
    try:
        hyperparameters = json.loads(args_json) if args_json else {}
    except json.JSONDecodeError as exc:
        raise GradvizError(f"--args is not valid JSON: {exc.msg} (at character {exc.pos + 1})") from None
    if not isinstance(hyperparameters, dict):
        raise GradvizError('--args for an optimizer is a JSON object of hyperparameters, e.g. {"lr": 0.01}')
    return check_optimizer(obj, kind, steps, seed=seed, **hyperparameters)


def graph_of(target: str, at: dict[str, float], inputs: dict[str, str], seed: int):
    """The recorded (and backpropagated) graph of an expression or a file function, for `render`."""
    if is_file_target(target):
        obj, name, _ = load(target)
        bridge = _torch_bridge(obj)
        if bridge is not None:
            root = bridge.graph_target(obj, name, _module_inputs(obj), inputs, seed)
            root.backward(np.ones(root.shape))  # custom Functions backpropagate with their own backward
            return root
        if _is_user_op(obj):
            root = obj.apply(*user_op_inputs(obj, name, inputs, None, seed))
        elif not callable(obj) or inspect.isclass(obj):
            raise GradvizError(f"{name} must be a function that builds a gradviz graph, or a gv.Function, "
                               "to be rendered")
        else:
            module_inputs = getattr(sys.modules.get(obj.__module__), "gradviz_inputs", None)
            values = function_inputs(obj, name, module_inputs if isinstance(module_inputs, dict) else None,
                                     inputs, seed)
            root = obj(*values)
    else:
        build, values = expression_function(target, at, seed)
        root = build(*values)
    if not isinstance(root, (Value, Tensor)):
        raise GradvizError("the target must build a gradviz Value or Tensor")
    if np.size(root.data) == 1:
        root.backward()
    else:
        root.backward(np.ones(np.shape(root.data)))
    return root
