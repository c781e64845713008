"""Optimizer objects with an update(...) method, in the shapes courses write them.

The method's argument names say what it wants (a parameter or all of them, gradients, a layer name, an epoch or
a step counter); gradviz supplies each by name and drives the object as a training loop does.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .. import hyperparameters as hyper
from ..driving import Run, call, drive
from ..problem import DEFAULT_SHAPES, LAYERED_SHAPES, fixed_gradients
from .common import LAYER_HOLDERS, PARAM_HOLDERS, Setup, arguments, as_dict, counter_drives, fresh_instance, \
    mark_counter, method, roles_of, signature, sources_of


# -- 3. update methods: update(w, grad), update(params, grads), update(grads, name, epoch), ... ------------------
def _update_roles(target: Any) -> dict[str, str] | None:
    update = method(target, "update")
    if update is None:
        return None
    roles = roles_of(update)
    if roles is None or not ({"grad", "grads"} & set(roles.values())):
        return None
    return roles


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
                   counter: Callable | None, holders: dict | None = None, method_name: str = "update",
                   grad_prefix: str = "") -> dict:
    """One training step over every group: update(...) per layer (or once for all), results read back.

    With `holders` (layers holding .parameters), update gets only gradients and its return value is written
    back to the layer, as the course's training loop does; without, it gets the parameters too. `method_name`
    is the method called (update, step, apply); `grad_prefix` "d" keys a dict of gradients dW, db.
    """
    new = {}
    for layer, keys in _groups(list(params), "name" in roles.values()).items():
        keys = list(range(len(keys))) if pack is list and holders is not None else keys
        mine = {k: params[_full(layer, k)] for k in keys}
        packed = (lambda d: d) if pack is dict else (lambda d: [d[k] for k in keys])
        given_params = packed(mine)
        given_grads = {k: grads[_full(layer, k)] for k in keys}
        values = {"params": given_params, "name": layer,
                  "grads": {grad_prefix + str(k): v for k, v in given_grads.items()} if pack is dict and grad_prefix
                  else packed(given_grads)}
        values["grad"] = values["grads"]
        if counter:
            values["epoch"] = values["step"] = counter(t)
        where = f" for layer {layer!r}" if layer else ""
        if holders is not None:
            holders[layer].parameters = given_params
        out = call(f"{method_name}{where}", layer, getattr(opt, method_name), **arguments(roles, values))
        if holders is not None:
            if out is not None:
                holders[layer].parameters = out
            out = holders[layer].parameters
        got = as_dict(given_params if out is None else out, keys, f"{method_name}{where}")
        new.update({_full(layer, k): v for k, v in got.items()})
    return new


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


def is_layers(target: Any) -> bool:
    roles = _update_roles(target)
    if roles is None or "name" not in roles.values() or {"param", "params"} & set(roles.values()):
        return False
    if inspect.isclass(target):
        return any(p.name in LAYER_HOLDERS for p in signature(target))
    return _layers_of(target) is not None


def drive_layers(target: Any, setup: Setup) -> list[Run]:
    """A dict of layers with `.parameters`; update(grads, name[, epoch]) returns that layer's new parameters,
    which are written back between steps as the course's training loop does."""
    roles = _update_roles(target)
    runs = []
    for label, counter in counter_drives(roles):
        if inspect.isclass(target):
            start = fixed_gradients(setup.seed, setup.steps, shapes=LAYERED_SHAPES).start
            layers = {}
            for name, value in start.items():
                layer, key = name.split(".", 1)
                layers.setdefault(layer, _Layer({})).parameters[key] = value.copy()
            opt = fresh_instance(target, setup, holds=layers, holder_names=LAYER_HOLDERS)
        else:
            opt = fresh_instance(target, setup)
        layers = _layers_of(opt)
        pack = dict if all(isinstance(v.parameters, dict) for v in layers.values()) else list
        start = {}
        for lname, layer in layers.items():
            items = layer.parameters.items() if pack is dict else enumerate(layer.parameters)
            start.update({_full(lname, k): np.array(v, dtype=np.float64) for k, v in items})
        problem = fixed_gradients(setup.seed, setup.steps, start)
        run = drive(problem, lambda t, p, g, opt=opt, counter=counter:
                    _update_groups(opt, roles, t, p, g, pack, counter, holders=layers), "update")
        run.sources = sources_of(opt, hyper.signature_defaults(target))
        mark_counter(run, label, counter, setup.steps)
        runs.append(run)
    return runs


def _held_arrays(obj: Any) -> tuple[str, Any] | None:
    """(attribute, container) of the float arrays an optimizer object holds as its parameters, if it does."""
    for holder in PARAM_HOLDERS:
        value = getattr(obj, holder, None)
        items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else None
        if items and all(isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in items):
            return holder, value
    return None


def is_held(target: Any) -> bool:
    roles = _update_roles(target)
    if roles is None or {"param", "params", "name"} & set(roles.values()):
        return False
    if inspect.isclass(target):
        return any(p.name in PARAM_HOLDERS for p in signature(target))
    return _held_arrays(target) is not None


def drive_held(target: Any, setup: Setup) -> list[Run]:
    """The optimizer holds the parameters (a list or dict of arrays); update(grads[, epoch]) returns them new or
    updates them in place. What it returns is written back, as `opt.params = opt.update(grads)` does."""
    roles = _update_roles(target)
    runs = []
    for label, counter in counter_drives(roles):
        run = None
        for pack in (dict, list):  # for a class, which container it expects is found by trying: dicts first
            start = fixed_gradients(setup.seed, setup.steps).start
            holds = {k: v.copy() for k, v in start.items()} if pack is dict else [v.copy() for v in start.values()]
            opt = fresh_instance(target, setup, holds=holds, holder_names=PARAM_HOLDERS)
            attr, held = _held_arrays(opt)
            keys = list(held) if isinstance(held, dict) else list(range(len(held)))
            names = [str(k) if isinstance(held, dict) else f"{attr}[{k}]" for k in keys]
            problem = fixed_gradients(setup.seed, setup.steps,
                                      {n: np.array(held[k], dtype=np.float64) for n, k in zip(names, keys)})

            def step(t, params, grads, opt=opt, attr=attr, keys=keys, names=names, counter=counter,
                     as_dicts=isinstance(held, dict)):
                pack_up = (lambda d: {k: d[n] for k, n in zip(keys, names)}) if as_dicts else \
                    (lambda d: [d[n] for n in names])
                setattr(opt, attr, pack_up(params))
                values = {"grads": pack_up(grads)}
                values["grad"] = values["grads"]
                if counter:
                    values["epoch"] = values["step"] = counter(t)
                out = call("update", None, opt.update, **arguments(roles, values))
                if out is not None:
                    setattr(opt, attr, out)
                got = as_dict(getattr(opt, attr), keys, "update")
                return {n: got[k] for k, n in zip(keys, names)}

            attempt = drive(problem, step, "update")
            attempt.sources = sources_of(opt, hyper.signature_defaults(target))
            if run is None or (_fails_at_once(run) and not _fails_at_once(attempt)):
                run = attempt
            if not inspect.isclass(target) or not _fails_at_once(attempt):
                break
        mark_counter(run, label, counter, setup.steps)
        runs.append(run)
    return runs
