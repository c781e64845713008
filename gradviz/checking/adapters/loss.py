"""Losses and plain gradient functions, in the shapes course code gives them.

    loss, dx = softmax_loss(x, y)                 one call returning both
    compute(y_hat, y) / backward(y_hat, y)         a loss class
    forward(x, t) -> loss / backward(dout=1)       deep-learning-from-scratch's SoftmaxWithLoss
    forward(y_pred, y_true) -> per-sample losses; backward(dvalues, y_true) stores self.dinputs   nnfs
    backward(self.output, y_true)                  nnfs's combined softmax + cross-entropy (takes the output)
    mse(y_true, y_pred), mse_prime(y_true, y_pred)   a function and its gradient (wrt= or guessed by name)
    cost(params) and grads = model_backward(params)  dicts of arrays, matched through d<name> keys
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from ..confirm import Candidate, choose
from .both import _cost_and_gradients, _loss_then_array, both_structured
from .pair import differentiable
from ..names import match
from .elementwise import elementwise_or_refuse
from .model_loss import model_loss_reading
from .reading import (Reading, UserCodeError, as_array, call, float64_copy, is_float_array, no_float_array,
                      positional_names, user_name)

PREDICTION_NAMES = ("y_pred", "y_hat", "yhat", "pred", "preds", "predictions", "prediction", "output", "outputs",
                    "logits", "scores", "AL", "A", "a", "x", "X", "z", "Z", "w", "W", "theta")
TARGET_NAMES = ("y_true", "y", "t", "target", "targets", "labels", "label", "Y", "y_train")
DX_NAMES = ("dinputs", "dinput", "dx", "dX", "grad")
VALUE_METHODS = ("compute", "compute_loss", "loss", "calculate", "forward", "__call__")
GRADIENT_METHODS = ("backward", "gradient", "compute_gradient", "grad")
MODEL_METHODS = ("loss", "compute_loss", "loss_and_grads", "compute_cost")  # loss, grads = model.loss(X, y)


def _bind(fn: Callable, args: tuple, what: str) -> inspect.BoundArguments:
    try:
        return inspect.signature(fn).bind(*args)
    except TypeError as exc:
        raise GradvizError(f"{what}{inspect.signature(fn)} cannot take {len(args)} arguments: {exc}") from None


def guess_wrt(bound: dict, notes: list[str], what: str) -> str:
    """The argument a gradient belongs to when nothing says so: the prediction-like float array."""
    floats = [n for n, v in bound.items() if is_float_array(v)]
    if not floats:
        raise no_float_array(what, bound)
    if len(floats) == 1:
        return floats[0]
    choice = next((n for n in PREDICTION_NAMES if n in floats), None) or \
        next((n for n in floats if n not in TARGET_NAMES), floats[0])
    notes.append(f"differentiated with respect to {choice} (guessed from the names {', '.join(floats)}; "
                 "wrt= / --wrt NAME overrides)")
    return choice


def _others(arguments: dict, target: str) -> dict:
    return {n: v for n, v in arguments.items() if n != target}


def _scalar(what: str, value: Any) -> np.ndarray:
    array = as_array(what, value)
    if array.size != 1:
        raise UserCodeError(f"{what} returned shape {array.shape}; a loss must be one number")
    return array.reshape(())


def loss_subject(obj: Any, args: tuple, *, compute: str | None, backward: str | None, wrt: str | None,
                 timeout: float | None, seed: int = 0) -> Reading:
    """The first confirmed reading of a loss (which argument its gradient belongs to), or a refusal."""
    name = getattr(obj, "__name__", type(obj).__name__)
    return choose(loss_readings(obj, args, compute=compute, backward=backward, wrt=wrt, timeout=timeout), name, seed,
                  how=LOSS_HOW)


def loss_readings(obj: Any, args: tuple, *, compute: str | None = None, backward: str | None = None,
                  wrt: str | None = None, timeout: float | None = None) -> list[Candidate]:
    """Every reading gradviz may try for a loss, in the order it tries them."""
    name = getattr(obj, "__name__", type(obj).__name__)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or (inspect.ismethod(obj) and not compute):
        return [Candidate(f"{name} returning (loss, gradient)", lambda: _both_subject(obj, args, wrt, timeout),
                          certain=True)]
    model = _model_method(obj, compute, backward)
    if model is not None:  # loss, grads = model.loss(X, y): the gradients of the model's own arrays
        return [Candidate(f"{name}.{model} returning (loss, grads) of the arrays {name} keeps",
                          lambda: model_loss_reading(obj, model, args, timeout), certain=True)]
    value_name, bwd_name = _loss_methods(obj, compute, backward)
    bound = _bind(getattr(obj, value_name), args, f"{name}.{value_name}")
    return [Candidate(f"{name}.{bwd_name} as the gradient of {target}",
                      _class_builder(obj, args, value_name, bwd_name, target, certain, note, timeout),
                      certain=certain)
            for target, certain, note in targets(bound.arguments, wrt, f"{name}.{value_name}")]


def targets(arguments: dict, wrt: str | None, what: str) -> list[tuple[str, bool, str | None]]:
    """Each argument the gradient may belong to, the guess by name first: (name, certain by names, the note)."""
    if wrt is not None:
        return [(wrt, True, None)]
    floats = [n for n, v in arguments.items() if is_float_array(v)]
    if not floats:
        raise no_float_array(what, arguments)
    if len(floats) == 1:
        return [(floats[0], True, None)]
    notes: list[str] = []
    guess = guess_wrt(arguments, notes, what)
    predicted = [n for n in floats if n in PREDICTION_NAMES]
    free = [n for n in floats if n not in TARGET_NAMES]
    sure = predicted[0] if len(predicted) == 1 else free[0] if len(free) == 1 else None
    if sure is not None:  # the names say it: no other argument is read as the gradient's owner
        return [(sure, True, notes[0] if sure == guess and notes else None)]
    order = [guess] + [n for n in floats if n != guess]
    return [(n, n == sure, notes[0] if n == guess and notes else
             f"differentiated with respect to {n}, the argument its gradient fits (not {guess}, the guess from the "
             f"names {', '.join(floats)}; wrt= / --wrt NAME overrides)") for n in order]


LOSS_HOW = ("say how it is called: wrt= (--wrt NAME) names the argument the gradient belongs to; compute=/backward= "
            "(--forward NAME --backward NAME) name a loss class's methods")


def _both_subject(fn, args, wrt, timeout) -> Reading:
    name = user_name(fn)
    bound = _bind(fn, args, name)
    returned = call(name, fn, *bound.args, timeout=timeout, **bound.kwargs)
    first = next((v for v in bound.arguments.values() if is_float_array(v)), None)
    first_size = None if wrt is not None or first is None else first.size  # theta last: linear_reg_cost(X, y, theta)
    if _cost_and_gradients(returned) is not None and not _loss_then_array(returned, first_size):
        return both_structured(fn, args, wrt, timeout)
    notes: list[str] = []
    warns: list[str] = []
    target = wrt or next((n for n, v in bound.arguments.items() if is_float_array(v)), None)
    if target is None:
        raise no_float_array(name, bound.arguments)
    differentiable(bound.arguments, target, name)
    arrays = {target: float64_copy(target, bound.arguments[target], warns)}

    def run(current):
        b = _bind(fn, args, name)
        b.arguments[target] = current[target]
        returned = call(name, fn, *b.args, timeout=timeout, **b.kwargs)
        if not isinstance(returned, tuple) or len(returned) < 2:
            raise UserCodeError(f"{name} returned {type(returned).__name__}, not (loss, gradient); a function "
                                "returning only the loss is checked with its gradient function: check_grad_fn")
        return returned

    return Reading(name=name, convention=f"a loss returning (loss, gradient of {target})",
                   override="wrt= (--wrt NAME) names the argument the gradient belongs to", arrays=arrays,
                   forward=lambda cur: _scalar(name, run(cur)[0]), vjp=lambda dout: {target: run(
                       {target: arrays[target].copy()})[1]}, backward_name=name, inputs=(target,), loss=True,
                   notes=notes + [f"the gradient {name} returns is taken to belong to {target}, its first float "
                                  "array argument" if not wrt else f"the gradient belongs to {target} (wrt)"],
                   warnings=warns, constants=_others(bound.arguments, target), cost_index=0)


def _model_method(obj, compute, backward) -> str | None:
    """The loss method of a model that has no separate gradient method (or is named as both), if it has one."""
    if backward is not None and backward != compute:
        return None
    if backward is None and any(callable(getattr(obj, m, None)) for m in GRADIENT_METHODS):
        return None
    return compute or next((m for m in MODEL_METHODS if callable(getattr(obj, m, None))), None)


def _loss_methods(obj, compute, backward) -> tuple[str, str]:
    cls = type(obj).__name__
    value_name = compute or next((m for m in VALUE_METHODS if callable(getattr(obj, m, None))
                                  and (m != "__call__" or hasattr(type(obj), "__call__"))), None)
    if value_name == "forward" and callable(getattr(obj, "calculate", None)):
        value_name = "calculate"
    bwd_name = backward or next((m for m in GRADIENT_METHODS if callable(getattr(obj, m, None))), None)
    if value_name is None or bwd_name is None:
        raise GradvizError(f"{cls} matches no loss convention gradviz knows (it tried {'(), '.join(VALUE_METHODS)}() "
                           f"with {'(), '.join(GRADIENT_METHODS)}()); name the methods "
                           "with compute=/backward= (--forward NAME --backward NAME)")
    return value_name, bwd_name


def _class_builder(obj, args, value_name, bwd_name, target, certain, note, timeout):
    return lambda: _class_subject(obj, args, value_name, bwd_name, target, certain, note, timeout)


def _class_subject(obj, args, value_name, bwd_name, target, certain, note, timeout) -> Reading:
    cls = type(obj).__name__
    value_fn, bwd = getattr(obj, value_name), getattr(obj, bwd_name)
    bound = _bind(value_fn, args, f"{cls}.{value_name}")
    names = list(bound.arguments)
    differentiable(bound.arguments, target, f"{cls}.{value_name}")
    warns: list[str] = []
    arrays = {target: float64_copy(target, bound.arguments[target], warns)}
    notes: list[str] = [note] if note else []
    bwd_params = positional_names(bwd)
    by_name = len(bwd_params) >= 2 and set(bwd_params) <= set(names)  # gradient(y, y_pred) after loss(y, y_pred)

    def value(current):
        b = _bind(value_fn, args, cls)
        b.arguments[target] = current[target]
        out = as_array(f"{cls}.{value_name}", call(f"{cls}.{value_name}", value_fn, *b.args, timeout=timeout,
                                                   **b.kwargs))
        if out.size != 1:
            message = f"{cls}.{value_name} returned {out.size} per-example losses; their mean is the loss"
            if message not in notes:
                notes.append(message)
            return out.mean().reshape(())
        return out.reshape(())

    def vjp(dout):
        x = arrays[target].copy()
        value({target: x})
        rest = [v for n, v in bound.arguments.items() if n != target]
        if len(bwd_params) == 0:
            returned = call(f"{cls}.{bwd_name}", bwd, timeout=timeout)
        elif len(bwd_params) == 1 or (len(rest) == 0):
            returned = call(f"{cls}.{bwd_name}", bwd, 1.0, timeout=timeout)
        elif by_name:
            returned = call(f"{cls}.{bwd_name}", bwd, timeout=timeout, **{
                p: x if p == target else np.copy(bound.arguments[p]) for p in bwd_params})
        else:
            given = [x if n == target else np.copy(v) for n, v in bound.arguments.items()]
            if names[0] == target:
                given[0] = _first_backward_argument(obj, bwd_params[0], x, notes, cls, bwd_name)
            returned = call(f"{cls}.{bwd_name}", bwd, *given[:len(bwd_params)], timeout=timeout)
        if returned is None:
            returned = next((getattr(obj, n) for n in DX_NAMES if is_float_array(getattr(obj, n, None))), None)
            if returned is None:
                raise UserCodeError(f"{cls}.{bwd_name} returned None and stored no gradient on self "
                                    "(return it, or keep it as self.dinputs)")
        return {target: returned}

    style = {0: f"{bwd_name}()", 1: f"{bwd_name}({bwd_params[0] if bwd_params else 'dout'}=1)"}.get(
        len(bwd_params), f"{bwd_name}({', '.join(bwd_params)})")
    return Reading(name=cls, convention=f"a loss class ({value_name}() and {style})",
                   override="compute=/backward= (--forward NAME --backward NAME) name the methods",
                   arrays=arrays, forward=value, vjp=vjp, backward_name=f"{cls}.{bwd_name}", inputs=(target,),
                   loss=True, notes=notes, warnings=warns, constants=_others(bound.arguments, target),
                   named={target} if certain else set())


def _first_backward_argument(obj, param, x, notes, cls, bwd_name):
    """nnfs's combined softmax/cross-entropy takes the forward's *output*; most losses take the prediction."""
    output = getattr(obj, "output", None)
    if is_float_array(output) and output.shape == x.shape and not np.array_equal(output, x) \
            and param.lower().startswith("d"):
        message = f"{cls}.{bwd_name} receives self.output (the forward's output), as its first argument's name says"
        if message not in notes:
            notes.append(message)
        return output.copy()
    return x


def grad_fn_subject(f: Callable, grad_f: Callable, args: tuple, *, wrt: str | None, timeout: float | None,
                    seed: int = 0) -> Reading:
    """The first confirmed reading of a function and its gradient (which argument is differentiated), or a refusal."""
    return choose(grad_fn_readings(f, grad_f, args, wrt=wrt, timeout=timeout), f"{user_name(f)}/{user_name(grad_f)}",
                  seed, how=LOSS_HOW)


def grad_fn_readings(f: Callable, grad_f: Callable, args: tuple, *, wrt: str | None = None,
                     timeout: float | None = None) -> list[Candidate]:
    """Every reading gradviz may try for f and grad_f, in the order it tries them."""
    fname, gname = user_name(f), user_name(grad_f)
    bound = _bind(f, args, fname)
    dicts = [n for n, v in bound.arguments.items() if isinstance(v, dict) and any(map(is_float_array, v.values()))]
    if dicts and wrt is None:
        return [Candidate(f"{gname} returning a dict of gradients keyed d<name>",
                          lambda: _dict_subject(f, grad_f, args, bound, dicts[0], timeout, []), certain=True)]
    return [Candidate(f"{gname} as the gradient of {fname} with respect to {target}",
                      _grad_fn_builder(f, grad_f, args, bound, target, certain, note, timeout), certain=certain)
            for target, certain, note in targets(bound.arguments, wrt, fname)]


def _grad_fn_builder(f, grad_f, args, bound, target, certain, note, timeout):
    return lambda: _grad_fn_reading(f, grad_f, args, bound, target, certain, note, timeout)


def _grad_fn_reading(f, grad_f, args, bound, target, certain, note, timeout) -> Reading:
    fname, gname = user_name(f), user_name(grad_f)
    notes: list[str] = [note] if note else []
    warns: list[str] = []
    differentiable(bound.arguments, target, fname)
    arrays = {target: float64_copy(target, bound.arguments[target], warns)}

    def call_with(fn, name, current):
        b = _bind(fn, args, name)
        b.arguments[target] = current[target]
        return call(name, fn, *b.args, timeout=timeout, **b.kwargs)

    common = dict(name=fname, override="wrt= (--wrt NAME) names the differentiated argument", arrays=arrays,
                  backward_name=gname, inputs=(target,), notes=notes, warnings=warns,
                  constants=_others(bound.arguments, target), named={target} if certain else set())
    first = as_array(fname, call_with(f, fname, {target: arrays[target].copy()}))
    if first.size == 1:
        return Reading(convention=f"a function and its gradient ({fname}, {gname})", loss=True,
                       forward=lambda cur: _scalar(fname, call_with(f, fname, cur)),
                       vjp=lambda dout: {target: call_with(grad_f, gname, {target: arrays[target].copy()})},
                       **common)
    # An array out: an activation and its derivative (sigmoid, sigmoid_prime). Read only when each output element
    # depends on its own input element alone, where the derivative's array is the Jacobian's whole diagonal.
    elementwise_or_refuse(lambda x: as_array(fname, call_with(f, fname, {target: x})), arrays[target], first,
                          fname, gname, target)
    notes.append(f"{fname} is elementwise in {target}: {gname}({target}) is read as its elementwise derivative, "
                 "checked as the upstream gradient times it")
    return Reading(convention=f"an elementwise function and its derivative ({fname}, {gname})",
                   forward=lambda cur: as_array(fname, call_with(f, fname, cur)),
                   vjp=lambda dout: {target: np.asarray(dout) * as_array(gname, call_with(
                       grad_f, gname, {target: arrays[target].copy()}))},
                   **common)


def _dict_subject(f, grad_f, args, bound, key, timeout, warns) -> Reading:
    fname, gname = user_name(f), user_name(grad_f)
    params = bound.arguments[key]
    arrays = {k: float64_copy(k, v, warns) for k, v in params.items() if is_float_array(v)}

    def call_with(fn, name, current):
        b = _bind(fn, args, name)
        b.arguments[key] = {**params, **current}
        return call(name, fn, *b.args, timeout=timeout, **b.kwargs)

    def vjp(dout):
        grads = call_with(grad_f, gname, {k: a.copy() for k, a in arrays.items()})
        if isinstance(grads, tuple) and grads and isinstance(grads[-1], dict):
            grads = grads[-1]
        if not isinstance(grads, dict):
            raise UserCodeError(f"{gname} returned {type(grads).__name__}; for a dict of parameters it must return "
                                "a dict of gradients with keys like dW1, db1")
        return match(grads, arrays)

    return Reading(name=fname, convention=f"a function of a dict of parameters and its gradient ({gname}), "
                                          "matched through d<name> keys",
                   override="wrt= (--wrt NAME) picks one argument instead", arrays=arrays,
                   forward=lambda cur: _scalar(fname, call_with(f, fname, cur)), vjp=vjp, backward_name=gname,
                   grad_names={k: "d" + k for k in arrays}, inputs=(), loss=True, warnings=warns)
