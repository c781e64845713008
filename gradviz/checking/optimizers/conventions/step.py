"""PyTorch-style optimizers: step() over parameters that hold their gradient in .grad."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from .. import hyperparameters as hyper
from ..driving import Run, call, drive
from ..problem import fixed_gradients
from .common import PARAM_HOLDERS, PARAMS, Setup, fresh_instance, method, signature, sources_of


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


def is_step(target: Any) -> bool:
    if method(target, "step") is None:
        return False
    if inspect.isclass(target):
        params = signature(target)
        return bool(params) and params[0].name in PARAMS + ("params_list",)
    return _held_parameters(target) is not None


def _value_of(p: Any) -> np.ndarray:
    return np.array(p.data if hasattr(p, "data") and not isinstance(p, np.ndarray) else p, dtype=np.float64)


def drive_step(target: Any, setup: Setup) -> list[Run]:
    """Parameters with a .grad (gradviz Values/Tensors, or arrays with a grad attribute): set .grad, call step().

    A class is first given array parameters (Tensors); when its step() raises at once on them, it is given
    scalar parameters (one Value per element, float .data and .grad), as an optimizer written for a
    student's own scalar engine expects: code that handles only numbers is driven with numbers, not blamed.
    """
    from ....tensor import Tensor
    from ....value import Value

    if not inspect.isclass(target):
        return [_drive_held(fresh_instance(target, setup), target, setup)]
    start = fixed_gradients(setup.seed, setup.steps).start
    arrays = [Tensor(v.copy(), label=k) for k, v in start.items()]
    run = _drive_held(fresh_instance(target, setup, holds=arrays, holder_names=PARAMS + ("params_list",)),
                      target, setup)
    if not (run.fault and run.fault.step == 1 and run.fault.raised):
        return [run]
    scalars = [Value(float(x), label=f"{k}[{','.join(map(str, i))}]")
               for k, v in start.items() for i, x in np.ndenumerate(v)]
    second = _drive_held(fresh_instance(target, setup, holds=scalars, holder_names=PARAMS + ("params_list",)),
                         target, setup)
    if second.fault and second.fault.step == 1 and second.fault.raised:
        return [run]
    second.binding = (f"the parameters are scalars (float .data and .grad), one per element: {target.__name__}.step() "
                      f"raised on array parameters ({run.fault.message}), so it was driven with numbers, as a scalar "
                      "engine's optimizer is used")
    return [second]


def _drive_held(opt: Any, target: Any, setup: Setup) -> Run:
    """One drive of an optimizer instance over the parameters it holds."""
    from ....value import Value

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
        call("step()", None, opt.step)
        return {name: _value_of(p) for name, p in by_name.items()}

    run = drive(problem, step, "step()")
    run.sources = sources_of(opt, hyper.signature_defaults(type(opt)))
    return run
