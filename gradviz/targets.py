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

import importlib.util
import inspect
import json
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import expr as expr_mod
from .checking.core import check
from .checking.handwritten import check_layer, check_loss
from .checking.report import Report
from .checking.streams import INPUTS, stream
from .errors import GradvizError
from .tensor import Tensor
from .value import Value


def is_file_target(target: str) -> bool:
    return ".py:" in target or target.endswith(".py")


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
    if unknown:
        raise GradvizError(f"--at gives {', '.join(sorted(unknown))}, which the expression does not use "
                           f"(its names are {', '.join(variables) or 'none'})")
    rng = stream(seed, INPUTS)
    inputs = [Value(at[n] if n in at else float(np.round(rng.uniform(-1.5, 1.5), 3)), label=n) for n in variables]

    def build(*values):
        return expr_mod.evaluate(tree, dict(zip(variables, values)))

    build.__name__ = text
    return build, inputs


def load(target: str) -> tuple[Any, str, Path]:
    """Import path/file.py and return (object NAME, NAME, path)."""
    path_text, _, name = target.rpartition(":") if ".py:" in target else (target, "", "")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise GradvizError(f"no such file: {path} (give path/to/file.py:NAME)")
    if not name:
        raise GradvizError(f"which object in {path}? give path/to/file.py:NAME")
    module_name = f"gradviz_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise GradvizError(f"syntax error in {path}:{exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise GradvizError(f"importing {where} raised {type(exc).__name__}: {exc}") from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    if not hasattr(module, name):
        available = [n for n, v in vars(module).items() if not n.startswith("_") and
                     (inspect.isfunction(v) or inspect.isclass(v)) and getattr(v, "__module__", "") == module_name]
        raise GradvizError(f"{path} has no {name!r}" + (f"; it defines {', '.join(available)}" if available else ""))
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
            try:
                inputs.append(Value(float(text), label=param.name))
            except ValueError:
                inputs.append(_input_value(param.name, parse_shape(text, f"--input {param.name}"), rng))
        elif param.name in declared:
            inputs.append(_input_value(param.name, declared[param.name], rng))
        elif param.default is not inspect.Parameter.empty:
            inputs.append(_input_value(param.name, param.default, rng))
        else:
            inputs.append(Value(float(np.round(rng.uniform(-1.5, 1.5), 3)), label=param.name))
    return inputs


def _torch_bridge(obj: Any):
    """gv.torch's targets module when `obj` is torch code (asked first); torch is never imported otherwise."""
    if "torch" not in sys.modules:
        return None
    from .torch import targets as torch_targets

    return torch_targets if torch_targets.handles(obj) else None


def _module_inputs(obj: Any) -> dict | None:
    found = getattr(sys.modules.get(getattr(obj, "__module__", None) or ""), "gradviz_inputs", None)
    return found if isinstance(found, dict) else None


def check_file_target(target: str, *, args_json: str | None, input_shape: str | None, inputs: dict[str, str],
                      options: dict) -> Report:
    obj, name, path = load(target)
    bridge = _torch_bridge(obj)
    if bridge is not None:
        return bridge.check_target(obj, name, _module_inputs(obj), inputs, options)
    seed = options.get("seed", 0)
    if inspect.isclass(obj):
        kwargs, positional = {}, []
        if args_json:
            try:
                parsed = json.loads(args_json)
            except json.JSONDecodeError as exc:
                raise GradvizError(f"--args is not valid JSON: {exc.msg} (at character {exc.pos + 1})") from None
            kwargs, positional = (parsed, []) if isinstance(parsed, dict) else ({}, list(parsed))
        try:
            instance = obj(*positional, **kwargs)
        except Exception as exc:
            raise GradvizError(f"creating {name}({args_json or ''}) raised {type(exc).__name__}: {exc}; "
                               "pass constructor arguments with --args JSON") from None
        if not input_shape:
            raise GradvizError(f"{name} is checked as a layer: give the input shape with --input-shape, e.g. 2,3,8,8")
        shape = parse_shape(input_shape, "--input-shape")
        rng = stream(seed, INPUTS)
        if options.get("strict"):
            raise GradvizError(f"--strict needs a recorded graph (an expression or a function building one); "
                               f"{name} is a hand-written class, checked at --atol/--rtol: drop --strict")
        layer_options = {k: v for k, v in options.items() if k in ("eps", "atol", "rtol")}
        if callable(getattr(instance, "compute", None)) and callable(getattr(instance, "backward", None)):
            return check_loss(instance, rng.uniform(0.1, 0.9, size=shape), rng.uniform(0.1, 0.9, size=shape),
                              **layer_options)
        if callable(getattr(instance, "forward", None)) and callable(getattr(instance, "backward", None)):
            return check_layer(instance, rng.normal(size=shape), seed=seed, **layer_options)
        raise GradvizError(f"{name} has neither forward()/backward() (a layer) nor compute()/backward() (a loss)")
    if not callable(obj):
        raise GradvizError(f"{name} in {path} is not a function or a class")
    module_inputs = getattr(sys.modules.get(obj.__module__), "gradviz_inputs", None) if hasattr(obj, "__module__") \
        else None
    values = function_inputs(obj, name, module_inputs if isinstance(module_inputs, dict) else None, inputs, seed)
    return check(obj, *values, name=name, **options)


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
        if not callable(obj) or inspect.isclass(obj):
            raise GradvizError(f"{name} must be a function that builds a gradviz graph to be rendered")
        module_inputs = getattr(sys.modules.get(obj.__module__), "gradviz_inputs", None)
        values = function_inputs(obj, name, module_inputs if isinstance(module_inputs, dict) else None, inputs, seed)
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
