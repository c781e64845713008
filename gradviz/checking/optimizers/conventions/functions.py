"""Optimizers written as functions: CS231n's update rules and loops that ask for their own gradients."""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .. import hyperparameters as hyper
from ..driving import Fault, Run, UserFault, as_values, call, drive
from ..problem import fixed_gradients, quadratic
from .common import GRADIENT_FN, NUM_STEPS, Setup, given_for, signature


# -- 1. CS231n: next_w, config = rule(w, dw, config) -------------------------------------------------------------
def is_config_function(target: Any) -> bool:
    if not inspect.isfunction(target):
        return False
    params = signature(target)
    return len(params) >= 3 and (params[2].name == "config" or params[2].default is None) \
        and not any(p.name in GRADIENT_FN for p in params[1:2])


def drive_config_function(fn: Callable, setup: Setup) -> list[Run]:
    problem = fixed_gradients(setup.seed, setup.steps)
    configs: dict[str, Any] = {k: (dict(setup.given) if setup.given else None) for k in problem.start}

    def step(t, params, grads):
        new = {}
        for name in params:
            out = call(f"{fn.__name__}(w, dw, config) for {name}", name, fn, params[name], grads[name],
                       configs[name])
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict)):
                raise UserFault(name, f"{fn.__name__} returned {type(out).__name__} for {name}; "
                                      "this convention returns (next_w, config)")
            new[name], configs[name] = out
        return new

    run = drive(problem, step, fn.__name__)
    run.sources = [c for c in configs.values() if isinstance(c, dict)] + [hyper.signature_defaults(fn)]
    return [run]


# -- 2. loop functions: w = rule(w, compute_gradient, lr, ..., num_steps) ----------------------------------------
def loop_arguments(fn: Any) -> tuple[str, str, str] | None:
    params = signature(fn)
    grad = next((p.name for p in params if p.name in GRADIENT_FN), None)
    steps = next((p.name for p in params if p.name in NUM_STEPS), None)
    if not inspect.isfunction(fn) or not params or grad is None or steps is None or params[0].name == grad:
        return None
    return params[0].name, grad, steps


def drive_loop_function(fn: Callable, setup: Setup) -> list[Run]:
    w_name, grad_name, steps_name = loop_arguments(fn)
    problem = quadratic(setup.seed, setup.steps, w_name)
    asked: list[np.ndarray] = []

    def compute_gradient(w):
        asked.append(np.array(w, dtype=np.float64))
        return problem.gradients(len(asked), {w_name: asked[-1]})[w_name]

    kwargs = {w_name: problem.start[w_name].copy(), grad_name: compute_gradient, steps_name: setup.steps,
              **given_for(fn, setup.given)}
    filled = required_hyperparameters(fn, kwargs)  # sgd(w, compute_gradient, learning_rate, num_steps)
    kwargs.update(filled)
    run = Run(problem.start, {w_name: []}, sources=[given_for(fn, setup.given), filled,
                                                    hyper.signature_defaults(fn)], gradients=problem.gradients)
    if filled:
        run.notes.append(f"{fn.__name__} has no default for {', '.join(filled)}: gradviz passed "
                         + ", ".join(f"{k}={v:g}" for k, v in filled.items()) + " (--args JSON gives others)")
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


# A hyperparameter the caller must pass (no default, not given) gets a usual value, said in the report,
# and the reference rule reads the same value.
USUAL = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum": 0.9, "rho": 0.99, "weight_decay": 0.0}


def required_hyperparameters(fn: Callable, given: dict) -> dict:
    out = {}
    for p in signature(fn):
        if p.name in given or p.default is not inspect.Parameter.empty:
            continue
        canonical = next((c for c in USUAL if p.name in hyper.ALIASES[c]), None)
        if canonical is not None:
            out[p.name] = USUAL[canonical]
    return out
