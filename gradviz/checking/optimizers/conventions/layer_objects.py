"""Optimizers that update a layer object handed to them, as a popular from-scratch book writes them:

    optimizer.pre_update_params()
    for layer in (dense1, dense2):
        optimizer.update_params(layer)      # layer.weights -= lr * layer.dweights, state kept on the layer
    optimizer.post_update_params()          # the optimizer's own step counter

Which attributes hold the parameters and their gradients (weights/dweights, W/dW, ...) is found by trying each
spelling on a fresh layer and confirming the reading (confirming.py) before any verdict.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ....errors import GradvizError
from .. import hyperparameters as hyper
from ..confirming import Attempt, half, moves_where_gradient, raised, same
from ..driving import Run, UserFault, drive
from ..problem import fixed_gradients
from .common import Setup, fresh_instance, method, signature, sources_of

METHODS = ("update_params", "update_layer", "update_parameters", "update")
SPELLINGS = (("weights", "biases", "dweights", "dbiases"), ("W", "b", "dW", "db"), ("w", "b", "dw", "db"),
             ("weight", "bias", "dweight", "dbias"), ("weights", "bias", "dweights", "dbias"))
LAYER_SHAPES = {"dense1": ((2, 3), (1, 3)), "dense2": ((3, 2), (1, 2))}


class Layer:
    """A layer as the book's training loop hands it over: parameters and their gradients as attributes."""


def _update(target: Any) -> tuple[str, Any] | None:
    for name in METHODS:
        fn = method(target, name)
        if fn is None:
            continue
        required = [p for p in signature(fn) if p.default is inspect.Parameter.empty]
        if len(required) == 1 and (name != "update" or required[0].name in ("layer", "module", "lyr")):
            return name, fn
    return None


def is_layer_object(target: Any) -> bool:
    return not inspect.isfunction(target) and _update(target) is not None


def _steps(opt: Any, update: str, layers: dict[str, Layer]) -> None:
    """One training step: pre_update_params(), the update of every layer, post_update_params()."""
    for hook in ("pre_update_params",):
        if method(opt, hook):
            getattr(opt, hook)()
    for layer in layers.values():
        getattr(opt, update)(layer)
    if method(opt, "post_update_params"):
        opt.post_update_params()


def _layers(spelling: tuple, values: dict[str, np.ndarray], grads: dict[str, np.ndarray],
            layers: dict[str, Layer] | None = None) -> dict[str, Layer]:
    layers = layers or {name: Layer() for name in LAYER_SHAPES}
    for name, layer in layers.items():
        for k in range(2):
            setattr(layer, spelling[k], values[f"{name}.{spelling[k]}"].copy())
            setattr(layer, spelling[k + 2], grads[f"{name}.{spelling[k]}"].copy())
    return layers


def _read(spelling: tuple, layers: dict[str, Layer]) -> dict[str, np.ndarray]:
    return {f"{name}.{spelling[k]}": np.array(getattr(layer, spelling[k]), dtype=np.float64)
            for name, layer in layers.items() for k in range(2)}


def _problem(setup: Setup, spelling: tuple, steps: int):
    shapes = {f"{name}.{spelling[k]}": shape[k] for name, shape in LAYER_SHAPES.items() for k in range(2)}
    return fixed_gradients(setup.seed, steps, shapes=shapes)


def confirm(target: Any, setup: Setup, update: str, spelling: tuple) -> str | None:
    problem = _problem(setup, spelling, 1)
    start, grads = problem.start, problem.gradients(1, problem.start)
    names = list(start)
    halved = dict(zip(names, half(list(grads.values()))))

    def once(g):
        layers = _layers(spelling, start, g)
        with np.errstate(all="ignore"):
            _steps(fresh_instance(target, setup), update, layers)
        after = {n: np.array(getattr(layers[n.split(".")[0]], spelling[2 + spelling.index(n.split(".")[1])]))
                 for n in names}
        return _read(spelling, layers), after

    try:
        first, grads_after = once(grads)
        again, _ = once(grads)
        partly, _ = once(halved)
    except Exception as exc:
        return raised(exc)
    if not same(list(first.values()), list(again.values())):
        return "two fresh optimizers gave different values from the same step"
    if not same(list(grads_after.values()), list(grads.values())):
        return f"it changed {spelling[2]} or {spelling[3]} in place, which gradients never are"
    return moves_where_gradient(list(start.values()), list(partly.values()), list(halved.values()), names,
                                f"{spelling[2]}/{spelling[3]}")


def drive_layer_object(target: Any, setup: Setup) -> list[Run]:
    """The first spelling of parameters and gradients confirmed; a refusal listing each one tried otherwise."""
    update, _ = _update(target)
    subject = target.__name__ if inspect.isclass(target) else type(target).__name__
    attempts = []
    for spelling in SPELLINGS:
        why = confirm(target, setup, update, spelling)
        if why is None:
            break
        attempts.append(Attempt(f"layer.{spelling[0]}, layer.{spelling[1]} <- the parameters, layer.{spelling[2]}, "
                                f"layer.{spelling[3]} <- their gradients", why))
    else:
        lines = [f"gradviz cannot read {subject}.{update}(layer): none of the {len(attempts)} spellings of a layer's "
                 "parameters and gradients it tried was confirmed (so nothing is said about the optimizer):"]
        lines += [f"  {k}. {a.describe}: {a.why}" for k, a in enumerate(attempts, 1)]
        raise GradvizError("\n".join(lines))
    problem = _problem(setup, spelling, setup.steps)
    opt = fresh_instance(target, setup)
    layers: dict[str, Layer] = {}

    def step(t, params, grads):
        layers.update(_layers(spelling, params, grads, layers or None))
        try:
            _steps(opt, update, layers)
        except Exception as exc:
            raise UserFault(None, f"{subject}.{update} {raised(exc)}", raised=True) from None
        return _read(spelling, layers)

    run = drive(problem, step, f"{subject}.{update}")
    run.sources = sources_of(opt, hyper.signature_defaults(target if inspect.isclass(target) else type(target)))
    run.binding = (f"layer.{spelling[0]}, layer.{spelling[1]} <- the parameters, layer.{spelling[2]}, "
                   f"layer.{spelling[3]} <- their gradients; {update}(layer) for each of two layers per step"
                   + ", between pre_update_params() and post_update_params()" * bool(method(opt, "post_update_params")))
    return [run]
