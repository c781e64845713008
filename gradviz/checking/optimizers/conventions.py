"""The ways people write optimizers, each one small adapter that drives the user's code as training does.

Detection tries the conventions in a fixed order; the first whose shape fits
drives the code. Each adapter turns one step of the user's code into
`step(t, params, grads) -> new params` (or, for a loop function, records the
points it asks gradients at) and returns the Runs it made.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from . import hyperparameters as hyper
from .driving import Fault, Run, UserFault, as_values, call, drive
from .problem import DEFAULT_SHAPES, LAYERED_SHAPES, fixed_gradients, quadratic

STEPS_PER_EPOCH = 3  # an epoch argument is driven as training drives it: several steps per epoch

PARAM = ("w", "W", "param", "p", "theta", "x", "weight", "weights", "value", "var", "variable", "tensor")
PARAMS = ("params", "parameters", "param_dict", "variables", "model_params", "weights_dict")
GRAD = ("grad", "dw", "dW", "g", "dx", "gradient", "grad_w", "grad_wrt_w", "dparam", "d", "dp")
GRADS = ("grads", "gradients", "grad_dict", "dparams", "d_params", "grads_dict")
NAME = ("name", "layer", "layer_name", "key", "layer_id", "layer_key", "param_name", "idx", "index")
EPOCH = ("epoch", "epoch_num", "epoch_number", "current_epoch", "ep", "e")
STEP = ("t", "step", "iteration", "it", "iter", "timestep", "time_step", "n_iter", "count")
GRADIENT_FN = ("compute_gradient", "compute_grad", "grad_fn", "gradient_fn", "grad_func", "gradient", "grad",
               "df", "f_grad", "gradient_function", "get_gradient", "compute_gradients")
NUM_STEPS = ("num_steps", "steps", "n_steps", "num_iters", "num_iterations", "iterations", "n_iter", "iters",
             "epochs", "num_epochs", "n_epochs", "max_iter")
LAYER_HOLDERS = ("layers", "model", "network", "net")
PARAM_HOLDERS = ("params", "parameters", "_params", "param_list")
ROLES = {"param": PARAM, "params": PARAMS, "grad": GRAD, "grads": GRADS, "name": NAME, "epoch": EPOCH,
         "step": STEP}


@dataclass
class Setup:
    """What every adapter needs: the seed, the number of steps and the hyperparameters given."""

    seed: int
    steps: int
    given: dict[str, Any]


@dataclass
class Convention:
    name: str
    form: str  # how the convention looks, for the message listing the conventions tried
    detect: Callable[[Any], bool]
    drive: Callable[[Any, Setup], list[Run]]
    problem: str = "fixed gradients"


# -- helpers --------------------------------------------------------------------------------------------------
def _signature(fn: Any) -> list[inspect.Parameter]:
    try:
        return [p for p in inspect.signature(fn).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]  # self: a class's method
    except (TypeError, ValueError):
        return []


def _roles(fn: Any) -> dict[str, str] | None:
    """{argument: role} for every argument of fn, or None when a required one has no known role."""
    out = {}
    for p in _signature(fn):
        role = next((r for r, names in ROLES.items() if p.name in names), None)
        if role is None:
            if p.default is inspect.Parameter.empty:
                return None
            continue
        out[p.name] = role
    return out


def _given_for(fn: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The given hyperparameters under the names fn's signature uses (lr -> learning_rate, ...)."""
    names = {p.name for p in _signature(fn)}
    out = {}
    for key, value in given.items():
        if key in names:
            out[key] = value
            continue
        canonical = next((c for c, aliases in hyper.ALIASES.items() if key in aliases or key == c), None)
        for alias in hyper.ALIASES.get(canonical, ()):
            if alias in names:
                out[alias] = value
                break
    return out


def _instance(target: Any, setup: Setup, holds: Any = None, holder_names: tuple = ()) -> Any:
    """A fresh optimizer: a deep copy of an instance (the user's own is never touched) or a new object of a class.

    A class whose constructor asks for parameters or layers gets `holds`.
    """
    if not inspect.isclass(target):
        return copy.deepcopy(target)
    kwargs = _given_for(target, setup.given)
    for p in _signature(target):
        if p.name in holder_names and holds is not None:
            kwargs[p.name] = holds
    return call(f"creating {target.__name__}", None, target, **kwargs)


def _method(target: Any, name: str) -> Callable | None:
    fn = getattr(target, name, None)
    return fn if callable(fn) else None


def _sources(obj: Any, *extra) -> list:
    return [hyper.attributes(obj), *extra]


def _counter_drives(roles: dict[str, str]) -> list[tuple[str, Callable[[int], int] | None]]:
    """How to fill a counter argument: epochs from 0 and from 1 (two drives), a step from 1, or none."""
    if "epoch" in roles.values():
        return [(f"epochs counted from {base}", lambda t, base=base: base + (t - 1) // STEPS_PER_EPOCH)
                for base in (0, 1)]
    if "step" in roles.values():
        return [("steps counted from 1", lambda t: t)]
    return [("", None)]


def _arguments(roles: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
    return {arg: values[role] for arg, role in roles.items() if role in values}


# -- 1. CS231n: next_w, config = rule(w, dw, config) -------------------------------------------------------------
def _is_config_function(target: Any) -> bool:
    if not inspect.isfunction(target):
        return False
    params = _signature(target)
    return len(params) >= 3 and (params[2].name == "config" or params[2].default is None) \
        and not any(p.name in GRADIENT_FN for p in params[1:2])


def _drive_config_function(fn: Callable, setup: Setup) -> list[Run]:
    problem = fixed_gradients(setup.seed, setup.steps)
    configs: dict[str, Any] = {k: (dict(setup.given) if setup.given else None) for k in problem.start}

    def step(t, params, grads):
        new = {}
        for name in params:
            out = call(f"{fn.__name__}(w, dw, config) at step {t} for {name}", name, fn, params[name], grads[name],
                       configs[name])
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
                raise UserFault(name, f"{fn.__name__} returned {type(out).__name__} at step {t} for {name}; "
                                      "this convention returns (next_w, config)")
            new[name], configs[name] = out
        return new

    run = drive(problem, step, fn.__name__)
    run.sources = [c for c in configs.values() if isinstance(c, dict)] + [hyper.signature_defaults(fn)]
    return [run]


# -- 2. loop functions: w = rule(w, compute_gradient, lr, ..., num_steps) ----------------------------------------
def _loop_arguments(fn: Any) -> tuple[str, str, str] | None:
    params = _signature(fn)
    grad = next((p.name for p in params if p.name in GRADIENT_FN), None)
    steps = next((p.name for p in params if p.name in NUM_STEPS), None)
    if not inspect.isfunction(fn) or not params or grad is None or steps is None or params[0].name == grad:
        return None
    return params[0].name, grad, steps


def _drive_loop_function(fn: Callable, setup: Setup) -> list[Run]:
    w_name, grad_name, steps_name = _loop_arguments(fn)
    problem = quadratic(setup.seed, setup.steps, w_name)
    asked: list[np.ndarray] = []

    def compute_gradient(w):
        asked.append(np.array(w, dtype=np.float64))
        return problem.gradients(len(asked), {w_name: asked[-1]})[w_name]

    kwargs = {w_name: problem.start[w_name].copy(), grad_name: compute_gradient, steps_name: setup.steps,
              **_given_for(fn, setup.given)}
    run = Run(problem.start, {w_name: []}, sources=[_given_for(fn, setup.given), hyper.signature_defaults(fn)],
              gradients=problem.gradients)
    try:
        final = as_values(fn.__name__, w_name, call(f"{fn.__name__}", w_name, fn, **kwargs))
    except UserFault as fault:
        run.fault = Fault(max(len(asked), 1), w_name, fault.message, fault.raised)
        run.trajectories[w_name] = asked[1:]
        return [run]
    run.trajectories[w_name] = asked[1:] + [final]
    if len(asked) != setup.steps:
        run.notes.append(f"{fn.__name__} asked for {len(asked)} gradients in {setup.steps} steps; "
                         "each request is taken as one step")
    return [run]


# -- 3. update methods: update(w, grad), update(params, grads), update(grads, name, epoch), ... ------------------
def _update_roles(target: Any) -> dict[str, str] | None:
    update = _method(target, "update")
    if update is None:
        return None
    roles = _roles(update)
    if roles is None or not ({"grad", "grads"} & set(roles.values())):
        return None
    return roles


def _is_per_parameter(target: Any) -> bool:
    roles = _update_roles(target)
    return roles is not None and "param" in roles.values() and "grad" in roles.values()


def _drive_per_parameter(target: Any, setup: Setup) -> list[Run]:
    """update(w, grad) -> w (or in place): one optimizer per parameter, as a layer keeps one per weight;
    with a name argument, one optimizer for all, told which parameter it updates."""
    roles = _update_roles(target)
    named = "name" in roles.values()
    runs = []
    for label, counter in _counter_drives(roles):
        problem = fixed_gradients(setup.seed, setup.steps)
        shared = _instance(target, setup) if named else None
        optimizers = {k: shared if named else _instance(target, setup) for k in problem.start}

        def step(t, params, grads, counter=counter, optimizers=optimizers):
            new = {}
            for name in params:
                values = {"param": params[name], "grad": grads[name], "name": name}
                if counter:
                    values["epoch"] = values["step"] = counter(t)
                out = call(f"update at step {t} for {name}", name, optimizers[name].update,
                           **_arguments(roles, values))
                new[name] = params[name] if out is None else out
            return new

        run = drive(problem, step, "update")
        run.sources = [s for o in optimizers.values() for s in _sources(o)] + [hyper.signature_defaults(target)]
        run.label, run.counters = label, [counter(t) for t in range(1, setup.steps + 1)] if counter else None
        runs.append(run)
    return runs


def _is_containers(target: Any) -> bool:
    roles = _update_roles(target)
    return roles is not None and "params" in roles.values() and "grads" in roles.values()


def _as_dict(structure: Any, keys: list, what: str) -> dict:
    if isinstance(structure, dict):
        return {k: structure.get(k) for k in keys}
    if isinstance(structure, (list, tuple)) and len(structure) == len(keys):
        return dict(zip(keys, structure))
    raise UserFault(None, f"{what} returned {type(structure).__name__}; expected the parameters back "
                          f"({', '.join(map(str, keys))})")


def _groups(names: list[str], by_layer: bool) -> dict[str | None, list[str]]:
    """Parameters grouped by layer ("dense1.W" -> layer "dense1", key "W"), or one group of all."""
    if not by_layer:
        return {None: names}
    out: dict[str | None, list[str]] = {}
    for name in names:
        out.setdefault(name.split(".", 1)[0], []).append(name.split(".", 1)[1])
    return out


def _full(layer: str | None, key: Any) -> str:
    return str(key) if layer is None else f"{layer}.{key}"


def _update_groups(opt: Any, roles: dict, t: int, params: dict, grads: dict, pack: type,
                   counter: Callable | None, holders: dict | None = None) -> dict:
    """One training step over every group: update(...) per layer (or once for all), results read back.

    With `holders` (layers holding .parameters), update gets only gradients and its return value is written
    back to the layer, as the course's training loop does; without, it gets the parameters too.
    """
    new = {}
    for layer, keys in _groups(list(params), "name" in roles.values()).items():
        keys = list(range(len(keys))) if pack is list and holders is not None else keys
        mine = {k: params[_full(layer, k)] for k in keys}
        packed = (lambda d: d) if pack is dict else (lambda d: [d[k] for k in keys])
        given_params = packed(mine)
        values = {"params": given_params, "grads": packed({k: grads[_full(layer, k)] for k in keys}),
                  "name": layer}
        values["grad"] = values["grads"]
        if counter:
            values["epoch"] = values["step"] = counter(t)
        where = f" for layer {layer!r}" if layer else ""
        if holders is not None:
            holders[layer].parameters = given_params
        out = call(f"update at step {t}{where}", layer, opt.update, **_arguments(roles, values))
        if holders is not None:
            if out is not None:
                holders[layer].parameters = out
            out = holders[layer].parameters
        got = _as_dict(given_params if out is None else out, keys, f"update{where}")
        new.update({_full(layer, k): v for k, v in got.items()})
    return new


def _drive_containers(target: Any, setup: Setup) -> list[Run]:
    """update(params, grads[, name][, epoch]) over dicts (or lists), returning them or updating in place."""
    roles = _update_roles(target)
    shapes = LAYERED_SHAPES if "name" in roles.values() else DEFAULT_SHAPES
    runs = []
    for label, counter in _counter_drives(roles):
        run = None
        for pack in (dict, list):  # which container the code expects is found by trying: dicts first
            problem = fixed_gradients(setup.seed, setup.steps, shapes=shapes)
            opt = _instance(target, setup)
            attempt = drive(problem, lambda t, p, g, opt=opt, pack=pack, counter=counter:
                            _update_groups(opt, roles, t, p, g, pack, counter), "update")
            attempt.sources = _sources(opt, hyper.signature_defaults(target))
            if run is None or (_fails_at_once(run) and not _fails_at_once(attempt)):
                run = attempt
            if not _fails_at_once(attempt):
                break
        run.label, run.counters = label, [counter(t) for t in range(1, setup.steps + 1)] if counter else None
        runs.append(run)
    return runs


def _fails_at_once(run: Run) -> bool:
    return bool(run.fault and run.fault.step == 1 and run.fault.raised)


class _Layer:
    """A layer as a course template's training loop holds it: just its `.parameters`."""

    def __init__(self, parameters: Any):
        self.parameters = parameters


def _layers_of(obj: Any) -> dict | None:
    for holder in LAYER_HOLDERS:
        layers = getattr(obj, holder, None)
        if isinstance(layers, dict) and layers and all(hasattr(v, "parameters") for v in layers.values()):
            return layers
    return None


def _is_layers(target: Any) -> bool:
    roles = _update_roles(target)
    if roles is None or "name" not in roles.values() or {"param", "params"} & set(roles.values()):
        return False
    if inspect.isclass(target):
        return any(p.name in LAYER_HOLDERS for p in _signature(target))
    return _layers_of(target) is not None


def _drive_layers(target: Any, setup: Setup) -> list[Run]:
    """A dict of layers with `.parameters`; update(grads, name[, epoch]) returns that layer's new parameters,
    which are written back between steps as the course's training loop does."""
    roles = _update_roles(target)
    runs = []
    for label, counter in _counter_drives(roles):
        if inspect.isclass(target):
            start = fixed_gradients(setup.seed, setup.steps, shapes=LAYERED_SHAPES).start
            layers = {}
            for name, value in start.items():
                layer, key = name.split(".", 1)
                layers.setdefault(layer, _Layer({})).parameters[key] = value.copy()
            opt = _instance(target, setup, holds=layers, holder_names=LAYER_HOLDERS)
        else:
            opt = _instance(target, setup)
        layers = _layers_of(opt)
        pack = dict if all(isinstance(v.parameters, dict) for v in layers.values()) else list
        start = {}
        for lname, layer in layers.items():
            items = layer.parameters.items() if pack is dict else enumerate(layer.parameters)
            start.update({_full(lname, k): np.array(v, dtype=np.float64) for k, v in items})
        problem = fixed_gradients(setup.seed, setup.steps, start)
        run = drive(problem, lambda t, p, g, opt=opt, counter=counter:
                    _update_groups(opt, roles, t, p, g, pack, counter, holders=layers), "update")
        run.sources = _sources(opt, hyper.signature_defaults(target))
        run.label, run.counters = label, [counter(t) for t in range(1, setup.steps + 1)] if counter else None
        runs.append(run)
    return runs


# -- 4. PyTorch style: step() over parameters holding .grad -------------------------------------------------------
def _held_parameters(obj: Any) -> list | None:
    for holder in PARAM_HOLDERS:
        value = getattr(obj, holder, None)
        if callable(value) and not hasattr(value, "grad"):
            try:
                value = value()
            except Exception:
                continue
        if isinstance(value, (list, tuple)) and value and all(hasattr(p, "grad") for p in value):
            return list(value)
    groups = getattr(obj, "param_groups", None)
    if isinstance(groups, list) and groups and all(isinstance(g, dict) for g in groups):
        found = [p for g in groups for p in g.get("params", [])]
        return found if found and all(hasattr(p, "grad") for p in found) else None
    return None


def _is_step(target: Any) -> bool:
    if _method(target, "step") is None:
        return False
    if inspect.isclass(target):
        params = _signature(target)
        return bool(params) and params[0].name in PARAMS + ("params_list",)
    return _held_parameters(target) is not None


def _value_of(p: Any) -> np.ndarray:
    return np.array(p.data if hasattr(p, "data") and not isinstance(p, np.ndarray) else p, dtype=np.float64)


def _drive_step(target: Any, setup: Setup) -> list[Run]:
    """Parameters with a .grad (gradviz Values/Tensors, or arrays with a grad attribute): set .grad, call step()."""
    from ...tensor import Tensor
    from ...value import Value

    if inspect.isclass(target):
        start = fixed_gradients(setup.seed, setup.steps).start
        fresh = [Tensor(v.copy(), label=k) for k, v in start.items()]
        opt = _instance(target, setup, holds=fresh, holder_names=PARAMS + ("params_list",))
    else:
        opt = _instance(target, setup)
    params = _held_parameters(opt)
    names = [p.label if isinstance(getattr(p, "label", None), str) and p.label else f"params[{i}]"
             for i, p in enumerate(params)]
    if len(set(names)) < len(names):
        names = [f"params[{i}]" for i in range(len(params))]
    by_name = dict(zip(names, params))
    problem = fixed_gradients(setup.seed, setup.steps, {n: _value_of(p) for n, p in by_name.items()})

    def step(t, values, grads):
        for name, p in by_name.items():
            g = grads[name]
            p.grad = float(g) if isinstance(p, Value) else g.copy()
        call(f"step() at step {t}", None, opt.step)
        return {name: _value_of(p) for name, p in by_name.items()}

    run = drive(problem, step, "step()")
    run.sources = _sources(opt, hyper.signature_defaults(type(opt)))
    return [run]


CONVENTIONS = [
    Convention("CS231n-style function", "next_w, config = rule(w, dw, config)", _is_config_function,
               _drive_config_function),
    Convention("loop function", "w = rule(w, compute_gradient, lr, ..., num_steps)", lambda t: _loop_arguments(t)
               is not None, _drive_loop_function, problem="a quadratic"),
    Convention("dict of layers", "opt.update(grads, name[, epoch]) -> that layer's new parameters, "
               "over opt.layers[name].parameters", _is_layers, _drive_layers),
    Convention("per-parameter update", "opt.update(w, grad) -> w (or in place)", _is_per_parameter,
               _drive_per_parameter),
    Convention("update over all parameters", "opt.update(params, grads[, epoch]) -> params (or in place)",
               _is_containers, _drive_containers),
    Convention("PyTorch-style step()", "opt.step() over parameters holding .grad", _is_step, _drive_step),
]


def detect(target: Any) -> Convention:
    """The convention `target` is written in; one message listing every convention tried when none fits."""
    for convention in CONVENTIONS:
        try:
            if convention.detect(target):
                return convention
        except Exception:  # a property that raises while we look is not a fit
            continue
    tried = "; ".join(f"{c.name}: {c.form}" for c in CONVENTIONS)
    raise GradvizError(f"{_describe(target)} is not written in a calling convention gradviz knows; tried {tried}")


def _describe(target: Any) -> str:
    name = getattr(target, "__name__", None) or type(target).__name__
    return f"{name}" if inspect.isfunction(target) or inspect.isclass(target) else f"a {name} object"
