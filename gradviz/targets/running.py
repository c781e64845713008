"""Running a file target's check: the one entry point for every convention, and `render`'s graph.

FILE:NAME (a graph-building function, a loss returning (loss, grad), a layer
or loss class, a ctx Function, a gv.Function), FILE:FWD,BWD and FILE:STEM (a
pair, or a function and its gradient), and A.py:FWD,B.py:BWD each become one
call of gradviz's checkers. Torch code is handed to gv.torch's targets.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import notebooks
from ..checking.core import check
from ..checking.diagnosis.evidence import has_branches
from ..checking.report import Report
from ..checking.status import ERROR
from ..checking.streams import INPUTS, stream
from ..errors import GradvizError
from ..function import Function
from ..tensor import Tensor
from ..value import Value
from . import packages
from ..checking.adapters.reading import positional_names
from .inputs import Given, function_inputs, json_args, normal_draw, user_op_inputs
from .loading import is_file_target, load, load_module, resolve, split_target
from .parsing import expression_function, parse_shape


def check_file_target(target: str, **flags: Any) -> Report:
    """Turn a CLI file target and its flags into a Report: the one entry point for every convention.

    FILE:NAME (a graph-building function, a loss returning (loss, grad), a
    layer or loss class, a ctx Function), FILE:FWD,BWD and FILE:STEM (a pair,
    or a function and its gradient), and A.py:FWD,B.py:BWD; FILE may be a notebook (hw2.ipynb:NAME).
    """
    report = _check_file_target(target, **flags)
    as_file = packages.as_file_target(target) if packages.is_module_target(target) else target
    skipped = [n for path, _ in split_target(as_file) for n in notebooks.notes_of(Path(path))]
    report.notes[:0] = list(dict.fromkeys(skipped))
    return report


def _check_file_target(target: str, *, args_json: str | None, input_shape: str | None, inputs: dict[str, str],
                       options: dict, init: dict[str, str] | None = None, forward: str | None = None,
                       backward: str | None = None, wrt: str | None = None, batch_axis: int | None = None,
                       per_example_dout: bool = False, params: list[str] | None = None,
                       reading: dict | None = None, torch_reading: bool = True) -> Report:
    first, second, label, path = resolve(target)
    bridge = torch_bridge(first) if second is None and torch_reading else None
    if bridge is not None and inspect.isfunction(first):  # torch only shares its file: numpy code is read as such
        flags = dict(args_json=args_json, input_shape=input_shape, inputs=inputs, options=options, init=init,
                     forward=forward, backward=backward, wrt=wrt, batch_axis=batch_axis,
                     per_example_dout=per_example_dout, params=params, reading=reading)
        return _either_reading(target, label, bridge, first, path, flags)
    if bridge is not None:
        settings = json_args(args_json)
        if not isinstance(settings, dict):
            raise GradvizError('--args for torch code is a JSON object keyed by forward\'s argument names, '
                               'e.g. \'{"dim": 1, "eps": 1e-6}\'')
        _refuse_handwritten_flags(label, forward=forward, backward=backward, batch_axis=batch_axis,
                                  per_example_dout=per_example_dout, params=params, **(reading or {}))
        return bridge.check_target(first, label, module_inputs_of(first, path), inputs, options, settings,
                                   input_shape=input_shape, init=init, wrt=wrt)
    seed = options.get("seed", 0)
    given = Given.from_flags(args_json, inputs, init or {}, seed)
    check_options = {k: v for k, v in options.items() if k in ("eps", "atol", "rtol", "seed", "mode", "strict")}
    layout = {"batch_axis": batch_axis or 0, "per_example_dout": per_example_dout}
    spread = functools.partial(_second_draw, inputs=inputs, args_json=args_json, init=init or {}, seed=seed)
    if second is not None:  # --dout/--outputs/--grad say how a pair is called (checking/confirm.py)
        return spread(lambda g: check_two_functions(g, first, second, wrt, check_options,
                                                    {**layout, **(reading or {})}), given, (first, second))
    layer_flags = {k: v for k, v in (reading or {}).items() if k in ("dout", "outputs", "grads")
                   and inspect.isclass(first)}
    if set(reading or {}) - set(layer_flags):
        flag = next(k for k in reading if k not in layer_flags)
        flag = {"grads": "grad", "wrt_logits": "wrt-logits"}.get(flag, flag)
        raise GradvizError(f"--{flag} says how a pair of functions is called; give the pair as FILE:FORWARD,BACKWARD "
                           "(or FILE:LOSS,GRADIENT)" + ("; a layer class takes --dout, --outputs and --grad"
                                                        if inspect.isclass(first) else ""))
    if _is_user_op(first):
        op_inputs = user_op_inputs(first, label, inputs, input_shape, seed)
        return check(lambda *xs: first.apply(*xs), *op_inputs, name=label, **options)
    if inspect.isclass(first):
        return spread(lambda g: check_class(g, first, label, input_shape, forward, backward, wrt, check_options,
                                            {**layout, "params": params, **layer_flags}), given, (first,))
    if not callable(first):
        raise GradvizError(f"{label} in {path} is not a function or a class")
    if given.inputs and not _all_numbers(given):
        return spread(lambda g: check_numpy_function(g, first, label, path, wrt, check_options), given, (first,))
    values = function_inputs(first, label, module_inputs_of(first, path), inputs, seed)
    if not _builds_graph(first, values):
        if given.inputs:  # plain numbers for numpy code: read them as SPECs (3 is a vector of 3)
            return check_numpy_function(given, first, label, path, wrt, check_options)
        raise GradvizError(
            f"{path}:{label} does not build a gradviz graph from gradviz Values: to check numpy code give its "
            f"gradient too (FILE:{label},{label}_prime, or a pair FILE:FORWARD,BACKWARD), or return (loss, gradient) "
            f"from {label} and pass its inputs with --input NAME=SPEC")
    return check(first, *values, name=label, **options)


def _either_reading(target: str, label: str, bridge: Any, first: Any, path: Path, flags: dict) -> Report:
    """A function in a file that imports torch: torch's reading, or numpy's when it raises on torch tensors.

    Students import torch beside numpy code (to compare their gradients with autograd); a numpy function
    (a loss returning (loss, gradient)) called with tensors raises, and that is a reading not confirmed, not
    the student's error. One call with torch's arguments decides, before any check (in a grader, before
    the Subject is served); when the numpy reading cannot read it either, torch's reading gives the verdict.
    """
    settings = json_args(flags["args_json"])
    if not isinstance(settings, dict):
        raise GradvizError('--args for torch code is a JSON object keyed by forward\'s argument names, '
                           'e.g. \'{"dim": 1, "eps": 1e-6}\'')
    seed = flags["options"].get("seed", 0)
    why = None
    try:
        values, _ = bridge.arguments(first, label, module_inputs_of(first, path), flags["inputs"], seed, settings,
                                     flags["input_shape"])
        first(*values)
    except GradvizError:
        pass
    except Exception as exc:  # noqa: BLE001 - the user's code may raise anything; torch's reading then says it
        why = f"{type(exc).__name__}: {exc}"
    if why is not None:
        try:
            report = _check_file_target(target, **flags, torch_reading=False)
        except GradvizError:
            report = None
        if report is not None and report.status != ERROR:
            report.notes.insert(0, f"{label} was checked as numpy code: its file imports torch, but called with "
                                   f"torch tensors it raised {why[:160]}")
            return report
    _refuse_handwritten_flags(label, forward=flags["forward"], backward=flags["backward"],
                              batch_axis=flags["batch_axis"], per_example_dout=flags["per_example_dout"],
                              params=flags["params"], **(flags["reading"] or {}))
    return bridge.check_target(first, label, module_inputs_of(first, path), flags["inputs"], flags["options"],
                               settings, input_shape=flags["input_shape"], init=flags["init"], wrt=flags["wrt"])


def _second_draw(run: Callable[[Given], Report], given: Given, code: tuple, *, inputs: dict[str, str],
                 args_json: str | None, init: dict[str, str], seed: int) -> Report:
    """Check piecewise code at a second draw of its random inputs, spread over scales, when the first passes.

    One standard-normal draw may never reach a branch (a Huber loss's r < -delta): code with
    comparisons or where/abs/maximum is checked once more with each drawn element at its own scale
    (0.1x to 10x, both signs; seeded like the first), and a failure there is the verdict."""
    report = run(given)
    if not report.ok or not any(normal_draw(t) for t in inputs.values()) or not has_branches(code):
        return report
    second = run(Given.from_flags(args_json, inputs, init, seed, spread=True))
    drawn = ", ".join(n for n, t in inputs.items() if normal_draw(t))
    if second.ok:
        report.notes.append(f"the code branches: {drawn} were drawn a second time with each element at its own scale "
                            "(0.1x to 10x), and that agrees too")
        return report
    second.notes.insert(0, f"the first draw of {drawn} passed; a second draw with each element at its own scale "
                           "(0.1x to 10x) reaches a branch the first did not (the code branches), and fails there")
    return second


def _refuse_handwritten_flags(label: str, **given: Any) -> None:
    """Torch code runs its own forward and backward: the flags that say how hand-written code is called are refused."""
    used = [k for k, v in given.items() if v not in (None, False, {}, [])]
    if not used:
        return
    flag = {"grads": "grad", "wrt_logits": "wrt-logits"}.get(used[0], used[0]).replace("_", "-")
    instead = ("--wrt names the tensors to differentiate, e.g. --wrt x,weight" if used[0] == "params" else
               "torch runs the code's own forward and backward")
    raise GradvizError(f"--{flag} says how hand-written numpy code is called; {label} is torch code, checked "
                       f"through gv.torch.check, where it has no meaning: drop it ({instead})")


def torch_bridge(obj: Any):
    """gv.torch's targets module when `obj` is torch code (asked first); torch is never imported otherwise."""
    if sys.modules.get("torch") is None:  # the user's file did not import torch
        return None
    from ..torch import targets as torch_targets

    return torch_targets if torch_targets.handles(obj) else None


def module_inputs_of(obj: Any, path: Path | None = None) -> dict | None:
    """The module-level `gradviz_inputs` of the file named on the command line, else of the file defining obj.

    A file may import the code it checks (`from ops import Linear`) and declare its inputs itself.
    """
    modules = [load_module(str(path))[0]] if path is not None else []  # imported already: sys.modules has it
    modules.append(sys.modules.get(getattr(obj, "__module__", None) or ""))
    found = [d for d in (getattr(m, "gradviz_inputs", None) for m in modules) if isinstance(d, dict)]
    name = getattr(obj, "__name__", None)
    return next((d for d in found if name in d), found[0] if found else None)


def _is_user_op(obj: Any) -> bool:
    return inspect.isclass(obj) and issubclass(obj, Function)


def _all_numbers(given: "Given") -> bool:
    """Inputs that are all plain numbers may be a graph-building function's Values (--input w=1.5)."""
    return len(given.raw_numbers) == len(given.inputs)


def _builds_graph(fn: Callable, values: list) -> bool:
    """A numpy function given where a graph-building one is expected does not return a Value or Tensor."""
    try:
        return isinstance(fn(*values), (Value, Tensor))
    except Exception:
        return False


def check_two_functions(given: Given, first, second, wrt, options, layout) -> Report:
    from ..checking import handwritten as hw

    fname = getattr(first, "__name__", "forward")
    same = _same_arguments(first, second)
    args, extra = given.arguments(first, fname, also=None if same else second)
    logits = layout.pop("wrt_logits", False)
    if same:
        if extra:
            raise GradvizError(f"--args gives {', '.join(extra)}, which {fname} does not take")
        return hw.check_grad_fn(first, second, *args, wrt=wrt, wrt_logits=logits, **options)
    if logits:
        raise GradvizError("--wrt-logits is for a loss and its gradient function taking the same arguments, "
                           f"e.g. FILE:loss,loss_grad; {fname} and its partner take different ones")
    pair_options = {k: v for k, v in options.items() if k != "mode"}  # `mode` may be the user's own setting
    report = hw.check_pair(first, second, *args, wrt=wrt, check_mode=options.get("mode"), **layout, **pair_options,
                           **extra)
    report.notes[:0] = given.bound
    return report


def check_numpy_function(given: Given, fn, name, path, wrt, options) -> Report:
    from ..checking import handwritten as hw

    args, extra = given.arguments(fn, name)
    if extra:
        raise GradvizError(f"--args gives {', '.join(extra)}, which {name} does not take")
    report = hw.check_loss(fn, *args, wrt=wrt, **options)
    report.notes[:0] = given.bound
    return report


def check_class(given: Given, cls, name, input_shape, forward, backward, wrt, options, layout) -> Report:
    from ..checking import handwritten as hw
    from ..checking.adapters.ctx import is_ctx_function
    from ..checking.adapters.layer_methods import pick_methods
    from ..checking.adapters.loss import GRADIENT_METHODS
    from ..checking.adapters.network import network_methods

    said = {k: layout.pop(k) for k in ("dout", "outputs", "grads") if k in layout}
    if is_ctx_function(cls):
        args, _ = given.arguments(cls.forward, f"{name}.forward", skip_first=1)
        return hw.check_function(cls, *args, **options)
    instance = given.construct(cls, name)
    said["labels"] = {n: a for n, a in given.init.items() if isinstance(a, np.ndarray)}  # --init W=...: "W"
    value_fn = getattr(instance, forward or "", None) or next(
        (getattr(instance, m) for m in ("compute", "compute_loss", "loss", "forward", "forward_pass", "calculate")
         if callable(getattr(instance, m, None))), None)
    if value_fn is None and callable(getattr(type(instance), "__call__", None)) and any(
            callable(getattr(instance, m, None)) for m in GRADIENT_METHODS):  # __call__(scores, labels) / grad(...)
        value_fn = instance.__call__
    network = network_methods(instance, forward, backward) if value_fn is None else None
    if network is not None:  # Nielsen's network: backprop(x, y) fed by self.cost_derivative; inputs go to backprop
        if not given.inputs:
            names = positional_names(getattr(instance, network[1]))
            raise GradvizError(f"{name}.{network[1]}({', '.join(names)}) is checked as a network fed by "
                               f"{network[2]}: give its inputs with "
                               + " ".join(f"--input {n}=SPEC" for n in names))
        return hw.check_layer(instance, dict(given.inputs), forward=forward, backward=backward, **layout,
                              **options, **said)
    if value_fn is None:  # fprop/bprop, __call__/gradient...: the layer adapter's detection, or its error
        value_fn = getattr(instance, pick_methods(instance, forward, backward)[0])
    required = [p for p in inspect.signature(value_fn).parameters.values() if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    is_loss = any(callable(getattr(instance, m, None)) for m in ("compute", "compute_loss", "loss")) \
        or len(required) >= 2
    if is_loss:
        if given.inputs:
            args, _ = given.arguments(value_fn, f"{name}.{value_fn.__name__}")
        elif input_shape:
            rng = stream(options.get("seed", 0), INPUTS)
            shape = parse_shape(input_shape, "--input-shape")
            args = [rng.uniform(0.1, 0.9, size=shape), rng.uniform(0.1, 0.9, size=shape)]
        else:
            raise GradvizError(f"{name} is checked as a loss: give its inputs with --input "
                               f"{required[0].name}=SPEC --input {required[1].name}=SPEC (or --input-shape)")
        if len(required) >= 2 and not wrt and not _scalar_output(instance, value_fn, args):
            # forward(x, h_prev) -> an array: a layer with several inputs first; a loss if that is not confirmed
            feed = _by_name(value_fn, args)
            return hw.check_layer_or_loss(instance, feed, args, forward=forward, backward=backward,
                                          **layout, **options, **said)
        if any(k != "labels" for k in said):
            flag = next(k for k in said if k != "labels").replace("grads", "grad")
            raise GradvizError(f"--{flag} says how a layer is called; {name} is checked as a loss (its forward "
                               "returns one number): --wrt names the argument its gradient belongs to")
        return hw.check_loss(instance, *args, compute=forward, backward=backward, wrt=wrt, **options)
    if given.inputs:
        args, _ = given.arguments(value_fn, f"{name}.{value_fn.__name__}")
        named = [p for p in positional_names(value_fn) if p in given.inputs]
        x = {n: given.inputs[n] for n in named} if len(given.inputs) > 1 else args[0]
    elif input_shape:
        x = stream(options.get("seed", 0), INPUTS).normal(size=parse_shape(input_shape, "--input-shape"))
    else:
        first = required[0].name if required else "x"
        raise GradvizError(f"{name} is checked as a layer: give its input with --input {first}=SPEC "
                           "(e.g. 4,3) or --input-shape, e.g. 2,3,8,8")
    return hw.check_layer(instance, x, forward=forward, backward=backward, **layout, **options, **said)


def _scalar_output(instance: Any, value_fn: Callable, args: list) -> bool:
    """Whether the forward returns one number (a loss) at the given inputs; tried on a copy of the object.

    An object that cannot be copied is read as a loss (as before); a forward that raises at the user's inputs is
    read as a layer, whose probe reports the user's ERROR without naming a convention it never reached.
    """
    try:
        trial = copy.deepcopy(instance)
    except Exception:  # an object that cannot be copied: the loss reading, which never changes its state
        return True
    try:
        out = getattr(trial, value_fn.__name__)(*[copy.deepcopy(a) for a in args])
        out = out[0] if isinstance(out, tuple) and out else out
        return np.size(np.asarray(out, dtype=np.float64)) == 1
    except Exception:  # the user's code raising or returning no numbers: said by the layer's probe
        return False


def _by_name(fn: Callable, args: list) -> dict:
    """The forward's arguments by its parameter names, in order."""
    names = positional_names(fn)
    return {n: a for n, a in zip(names, args)}


def _same_arguments(f: Callable, g: Callable) -> bool:
    """mse(y_true, y_pred) / mse_prime(y_true, y_pred): a function and its gradient, not a forward/backward pair."""
    try:
        fp = [p for p in inspect.signature(f).parameters if p != "self"]
        gparams = inspect.signature(g).parameters
    except (TypeError, ValueError):
        return False
    gp = [p for p in gparams if p != "self"]
    extra_required = [p for p in gp[len(fp):] if gparams[p].default is inspect.Parameter.empty
                      and gparams[p].kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return bool(fp) and gp[:len(fp)] == fp and not extra_required  # conv_backward(x, w, dy) is a backward


def check_optimizer_target(target: str, kind: str, *, args_json: str | None, steps: int, seed: int,
                           roles: dict | None = None) -> Report:
    """`gradviz check optim.py:adam --optimizer adam --args '{"learning_rate": 0.01}'`."""
    from ..checking.optimizers import check_optimizer

    if not is_file_target(target):
        raise GradvizError("--optimizer checks an optimizer in a file: give path/to/optim.py:NAME")
    obj, _, _ = load(target)
    try:
        hyperparameters = json.loads(args_json) if args_json else {}
    except json.JSONDecodeError as exc:
        raise GradvizError(f"--args is not valid JSON: {exc.msg} (at character {exc.pos + 1})") from None
    if not isinstance(hyperparameters, dict):
        raise GradvizError('--args for an optimizer is a JSON object of hyperparameters, e.g. {"lr": 0.01}')
    return check_optimizer(obj, kind, steps, seed=seed, roles=roles or None, **hyperparameters)


def graph_of(target: str, at: dict[str, float], inputs: dict[str, str], seed: int):
    """The recorded (and backpropagated) graph of an expression or a file function, for `render`."""
    if is_file_target(target):
        obj, name, path = load(target)
        bridge = torch_bridge(obj)
        if bridge is not None:
            root = bridge.graph_target(obj, name, module_inputs_of(obj, path), inputs, seed)
            root.backward(np.ones(root.shape))  # custom Functions backpropagate with their own backward
            return root
        if _is_user_op(obj):
            root = obj.apply(*user_op_inputs(obj, name, inputs, None, seed))
        elif not callable(obj) or inspect.isclass(obj):
            raise GradvizError(f"{name} must be a function that builds a gradviz graph, or a gv.Function, "
                               "to be rendered")
        else:
            values = function_inputs(obj, name, module_inputs_of(obj, path), inputs, seed)
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
