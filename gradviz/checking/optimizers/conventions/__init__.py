"""The ways people write optimizers, each one small adapter that drives the user's code as training does.

Detection tries the conventions in a fixed order; the first whose shape fits
drives the code. Each adapter turns one step of the user's code into
`step(t, params, grads) -> new params` (or, for a loop function, records the
points it asks gradients at) and returns the Runs it made.
"""

from __future__ import annotations

import inspect
from typing import Any

from ....errors import GradvizError
from .common import Convention, Setup
from .explicit import drive_explicit, is_explicit
from .functions import drive_config_function, drive_loop_function, is_config_function, loop_arguments
from .step import drive_step, is_step
from .layer_objects import drive_layer_object, is_layer_object
from .parameter import drive_per_parameter, is_per_parameter
from .containers import drive_containers, is_containers
from .updates import drive_held, drive_layers, is_held, is_layers

__all__ = ["CONVENTIONS", "Convention", "Setup", "detect", "fitting"]

CONVENTIONS = [
    Convention("CS231n-style function", "next_w, config = rule(w, dw, config)", is_config_function,
               drive_config_function),
    Convention("loop function", "w = rule(w, compute_gradient, lr, ..., num_steps)", lambda t: loop_arguments(t)
               is not None, drive_loop_function, problem="a quadratic"),
    Convention("function with explicit state", "params, v = rule(params, grads, v, ..., lr[, t]) over an array, "
               "a dict or a list of layers", is_explicit, drive_explicit, takes_roles=True),
    Convention("dict of layers", "opt.update(grads, name[, epoch]) -> that layer's new parameters, "
               "over opt.layers[name].parameters", is_layers, drive_layers),
    Convention("per-parameter update", "opt.update(w, grad) -> w (or in place)", is_per_parameter,
               drive_per_parameter, takes_roles=True),
    Convention("update over all parameters", "opt.update(params, grads[, epoch]) -> params (or in place), or "
               "step/apply; two dicts or lists of arrays, whatever they are called, gradients keyed alike or dW",
               is_containers, drive_containers, takes_roles=True),
    Convention("optimizer holding the parameters", "opt.update(grads[, epoch]) -> opt.params (or in place)",
               is_held, drive_held),
    Convention("PyTorch-style step()", "opt.step() over parameters holding .grad", is_step, drive_step),
    Convention("layer object", "opt.update_params(layer) over layer.weights / layer.dweights (between "
               "pre_update_params() and post_update_params())", is_layer_object, drive_layer_object),
]


def detect(target: Any, roles: dict | None = None) -> Convention:
    """The convention `target` is written in; one message listing every convention tried when none fits."""
    return fitting(target, roles)[0]


def fitting(target: Any, roles: dict | None = None) -> list[Convention]:
    """Every convention whose shape `target` has, in the fixed order: when the first cannot confirm a reading of
    the code (update(a, b) may take one parameter or all of them), the next is tried. Roles said for a plain
    function make it a function with explicit state (unless it is a loop or CS231n's form)."""
    found = []
    for convention in CONVENTIONS:
        if roles and convention.drive is drive_explicit and inspect.isfunction(target):
            found.append(convention)
            continue
        try:
            if convention.detect(target):
                found.append(convention)
        except Exception:  # a property that raises while we look is not a fit
            continue
    if found:
        return found
    tried = "; ".join(f"{c.name}: {c.form}" for c in CONVENTIONS)
    raise GradvizError(f"{_describe(target)} is not written in a calling convention gradviz knows; tried {tried}")


def _describe(target: Any) -> str:
    name = getattr(target, "__name__", None) or type(target).__name__
    return f"{name}" if inspect.isfunction(target) or inspect.isclass(target) else f"a {name} object"
