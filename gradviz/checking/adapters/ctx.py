"""ctx-style Function classes without torch: minitorch's course template, PyTorch's autograd.Function shape.

    class Mul:
        @staticmethod
        def forward(ctx, a, b): ctx.save_for_backward(a, b); return a * b
        @staticmethod
        def backward(ctx, d_out): a, b = ctx.saved_values; return b * d_out, a * d_out
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ...errors import GradvizError
from ..confirm import Candidate, choose
from ..names import match
from .reading import Reading, UserCodeError, as_array, call, float64_copy, positional_names, user_name


class Context:
    """What forward(ctx, ...) may use: save_for_backward and attributes of its own."""

    def __init__(self):
        self.saved_values: tuple = ()
        self.needs_input_grad: tuple = ()

    def save_for_backward(self, *values: Any) -> None:
        self.saved_values = values

    @property
    def saved_tensors(self) -> tuple:
        return self.saved_values


CTX_HOW = ("say how it is called: a ctx Function returns one gradient per input of forward (None for an input "
           "that is not differentiated); check_layer / check_pair read other shapes")


def function_subject(fn_class: Any, args: tuple, *, timeout: float | None, seed: int = 0) -> Reading:
    """The first confirmed reading of what backward returns: one gradient per input, per float input, or by name."""
    return choose(function_readings(fn_class, args, timeout=timeout), user_name(fn_class), seed, how=CTX_HOW)


def function_readings(fn_class: Any, args: tuple, *, timeout: float | None = None) -> list[Candidate]:
    """Every reading gradviz may try for a ctx Function, in the order it tries them."""
    name = user_name(fn_class)
    fwd, bwd = getattr(fn_class, "forward", None), getattr(fn_class, "backward", None)
    if not callable(fwd) or not callable(bwd):
        raise GradvizError(f"{name} needs forward(ctx, ...) and backward(ctx, d_out) to be checked as a Function")
    params = positional_names(fwd)[1:]
    if len(params) < len(args):
        raise GradvizError(f"{name}.forward takes {len(params)} inputs after ctx ({', '.join(params)}); "
                           f"{len(args)} were given")
    names = params[:len(args)]
    floats = [n for n, a in zip(names, args) if isinstance(a, (float, np.ndarray)) and np.asarray(a).dtype.kind == "f"]
    if not floats:
        raise GradvizError(f"{name}: no float input to differentiate (give floats like 2.0 or float arrays)")
    candidates = [Candidate(f"{name}.backward returning one gradient per input of forward ({', '.join(names)})",
                            lambda: _reading(fn_class, args, names, floats, names, timeout), certain=True)]
    if len(floats) < len(names):
        candidates.append(Candidate(f"{name}.backward returning one gradient per float input ({', '.join(floats)})",
                                    lambda: _reading(fn_class, args, names, floats, floats, timeout)))
    return candidates


def _reading(fn_class, args, names, floats, returned_for, timeout) -> Reading:
    name = user_name(fn_class)
    fwd, bwd = fn_class.forward, fn_class.backward
    warns: list[str] = []
    scalar = {n: not isinstance(a, np.ndarray) for n, a in zip(names, args)}
    arrays = {n: float64_copy(n, a, warns) for n, a in zip(names, args) if n in floats}
    constants = dict(zip(names, args))

    def values(current):
        return [(float(current[n]) if scalar[n] else current[n]) if n in current else constants[n] for n in names]

    def run(ctx, current):
        ctx.needs_input_grad = tuple(n in floats for n in names)
        return call(f"{name}.forward", fwd, ctx, *values(current), timeout=timeout)

    def vjp(dout):
        ctx = Context()
        out = run(ctx, {n: a.copy() for n, a in arrays.items()})
        d = float(dout) if np.ndim(dout) == 0 and not isinstance(out, np.ndarray) else dout
        grads = call(f"{name}.backward", bwd, ctx, d, timeout=timeout)
        if isinstance(grads, dict):  # {"a": da, "b": db}, or {"da": ..., "grad_b": ...}
            return {n: g for n, g in match(grads, names).items() if n in arrays}
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(returned_for):
            raise UserCodeError(f"{name}.backward returned {len(grads)} gradient{'s' * (len(grads) != 1)} for the "
                                f"{len(names)} inputs {', '.join(names)} of forward; return one per input")
        return {n: g for n, g in zip(returned_for, grads) if n in arrays}

    return Reading(name=name, convention="a ctx-style Function (forward(ctx, ...), backward(ctx, d_out))",
                   override="check_layer / check_pair for other shapes", arrays=arrays,
                   forward=lambda cur: as_array(f"{name}.forward", run(Context(), cur)), vjp=vjp,
                   backward_name=f"{name}.backward", grad_names={n: f"the gradient of {n}" for n in names},
                   inputs=tuple(names[:1]), warnings=warns, named=set(arrays) if returned_for is names else set())


def is_ctx_function(cls: Any) -> bool:
    """A class whose forward takes a context first: forward(ctx, ...)."""
    forward = getattr(cls, "forward", None)
    if not callable(forward) or not inspect.isclass(cls):
        return False
    names = [p for p in inspect.signature(forward).parameters]
    return bool(names) and names[0] == "ctx"
