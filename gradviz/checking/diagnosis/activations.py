"""Elementwise activations: the derivative written in terms of the wrong variable.

The activation is recognised from the arrays themselves (output == tanh(input),
sigmoid(input), ...), so no layer kind needs to be declared. The true local
derivative then recovers the upstream gradient, and each classic slip is
recomputed and compared with the user's numbers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import cotangent_like


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


Local = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, y) -> dy/dx as the user wrote it

# name: (forward, true derivative, [(cause, what the user wrote, candidate derivative), ...])
ACTIVATIONS: dict[str, tuple[Callable, Local, list[tuple[str, str, Local]]]] = {
    "tanh": (np.tanh, lambda x, y: 1 - y ** 2, [
        ("one_minus_y", "tanh' written as 1 - y instead of 1 - y**2 (y = tanh(x))", lambda x, y: 1 - y),
        ("pre_activation", "tanh' evaluated on the pre-activation: 1 - x**2 where 1 - y**2 (y = tanh(x)) belongs",
         lambda x, y: 1 - x ** 2),
        ("output_for_input", "tanh' applied to the output: 1 - tanh(y)**2 where y already is tanh(x); use 1 - y**2",
         lambda x, y: 1 - np.tanh(y) ** 2),
    ]),
    "sigmoid": (_sigmoid, lambda x, y: y * (1 - y), [
        ("pre_activation", "sigmoid' evaluated on the pre-activation: x * (1 - x) where s * (1 - s) "
         "(s = sigmoid(x)) belongs (Z used where sigmoid(Z) belongs)", lambda x, y: x * (1 - x)),
        ("output_for_input", "sigmoid' applied to the output: sigmoid(s) * (1 - sigmoid(s)) where s already is "
         "sigmoid(x); use s * (1 - s)", lambda x, y: _sigmoid(y) * (1 - _sigmoid(y))),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as s",
         lambda x, y: y),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as 1 - s",
         lambda x, y: 1 - y),
    ]),
    "exp": (np.exp, lambda x, y: y, [
        ("output_for_input", "exp' applied to the output: exp(y) where y already is exp(x); the derivative is y",
         lambda x, y: np.exp(y)),
        ("pre_activation", "exp' written as the input x; d/dx exp(x) is exp(x), the output", lambda x, y: x),
    ]),
    "log": (lambda x: np.log(np.where(x > 0, x, np.nan)), lambda x, y: 1 / x, [
        ("output_for_input", "log' written in terms of the output: 1 / y where 1 / x (x the input) belongs",
         lambda x, y: 1 / y),
        ("pre_activation", "log' written as log(x) or x instead of 1 / x", lambda x, y: x),
    ]),
}


def recognise(x: np.ndarray, y: np.ndarray) -> str | None:
    """Which activation maps x to y elementwise, if any."""
    for name, (forward, _, _) in ACTIVATIONS.items():
        with np.errstate(all="ignore"):
            fx = forward(x)
        if np.all(np.isfinite(fx)) and np.allclose(fx, y, rtol=1e-9, atol=1e-12):
            return name
    return None


@hypothesis
def wrong_variable(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    x, y = ctx.wrt, ctx.output
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or not x.shape == y.shape == user.shape:
        return None
    kind = recognise(x, y)
    if kind is None:
        return None
    _, true_local, slips = ACTIVATIONS[kind]
    with np.errstate(all="ignore"):
        d_true = true_local(x, y)
        g = cotangent_like(ctx, user.shape)
        if g is None:  # a scalar loss: the upstream gradient is what the true derivative divides out
            g = np.where(np.abs(d_true) > 1e-12, ref / d_true, 0.0)
        if not ctx.close(g * d_true, ref):
            return None  # the arrays do not describe this op alone (a layer around it): say nothing
        for cause, what, local in slips:
            candidate = g * local(x, y)
            if np.all(np.isfinite(candidate)) and ctx.close(user, candidate) and not ctx.close(candidate, ref):
                sentence = what if cause == "dropped_product_term" else (
                    f"the derivative is written in terms of the wrong variable: {what}")
                return Finding(sentence,
                               cause=cause, evidence=f"the output is {kind}(input); recomputing backward with "
                                                     "that slip reproduces yours on every element",
                               confidence=0.95)
        if ctx.close(user, g) and not ctx.close(g, ref):
            return Finding(f"the {kind} derivative is missing: backward passes the upstream gradient through "
                           "unchanged", cause="derivative_missing",
                           evidence=f"the output is {kind}(input); yours equals dout on every element",
                           confidence=0.95)
    return None
