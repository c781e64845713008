"""Elementwise activations: the derivative written in terms of the wrong variable.

The activation is recognised from the arrays themselves (output == tanh(input),
sigmoid(input), ...), so no layer kind needs to be declared. The true local
derivative then recovers the upstream gradient, and each classic slip is
recomputed and compared with the user's numbers.

What an activation is comes from the op table: its forward recognises it and
its backward (with an upstream gradient of 1) is the true derivative. The
classic slips are what this module adds, per op, in SLIPS. Every elementwise
function of one input in the table is either in SLIPS or in NO_SLIPS with the
reason it is not diagnosed here.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...ops import builtin_ops
from ...ops.kinds import is_unary_function
from ...ops.registry import OpDef
from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import cotangent_like


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


Local = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, y) -> dy/dx as the user wrote it

# op name: [(cause, what the user wrote, the derivative that slip computes), ...]
SLIPS: dict[str, list[tuple[str, str, Local]]] = {
    "tanh": [
        ("one_minus_y", "tanh' written as 1 - y instead of 1 - y**2 (y = tanh(x))", lambda x, y: 1 - y),
        ("pre_activation", "tanh' evaluated on the pre-activation: 1 - x**2 where 1 - y**2 (y = tanh(x)) belongs",
         lambda x, y: 1 - x ** 2),
        ("output_for_input", "tanh' applied to the output: 1 - tanh(y)**2 where y already is tanh(x); use 1 - y**2",
         lambda x, y: 1 - np.tanh(y) ** 2),
    ],
    "sigmoid": [
        ("pre_activation", "sigmoid' evaluated on the pre-activation: x * (1 - x) where s * (1 - s) "
         "(s = sigmoid(x)) belongs (Z used where sigmoid(Z) belongs)", lambda x, y: x * (1 - x)),
        ("output_for_input", "sigmoid' applied to the output: sigmoid(s) * (1 - sigmoid(s)) where s already is "
         "sigmoid(x); use s * (1 - s)", lambda x, y: _sigmoid(y) * (1 - _sigmoid(y))),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as s",
         lambda x, y: y),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as 1 - s",
         lambda x, y: 1 - y),
    ],
    "exp": [
        ("output_for_input", "exp' applied to the output: exp(y) where y already is exp(x); the derivative is y",
         lambda x, y: np.exp(y)),
        ("pre_activation", "exp' written as the input x; d/dx exp(x) is exp(x), the output", lambda x, y: x),
    ],
    "log": [
        ("output_for_input", "log' written in terms of the output: 1 / y where 1 / x (x the input) belongs",
         lambda x, y: 1 / y),
        ("pre_activation", "log' written as log(x) or x instead of 1 / x", lambda x, y: x),
    ],
}
# Elementwise functions of the table this hypothesis does not recognise, and why.
NO_SLIPS: dict[str, str] = {
    "relu": "its derivative is a 0/1 mask: a wrong one is a wrong mask, which the masks hypotheses name",
    "abs": "its derivative is a sign mask: a wrong one is a wrong mask, which the masks and signs hypotheses name",
    "neg": "its derivative is the constant -1: a wrong one is a sign or a factor, named by those hypotheses",
    "sqrt": "no classic slip is catalogued yet; recognising it alone would name only a missing derivative",
    "sin": "no classic slip is catalogued yet; recognising it alone would name only a missing derivative",
    "cos": "no classic slip is catalogued yet; recognising it alone would name only a missing derivative",
}


def _forward(op: OpDef) -> Callable:
    return lambda x: op.forward(np.asarray(x, dtype=np.float64))


def _true_derivative(op: OpDef) -> Local:
    """dy/dx from the op's own backward: the vector-Jacobian product with an upstream gradient of ones."""
    return lambda x, y: op.backward(np.ones_like(x, dtype=np.float64), x, y)[0]


# name: (forward, true derivative, slips), for every elementwise function of the table that has slips
ACTIVATIONS: dict[str, tuple[Callable, Local, list[tuple[str, str, Local]]]] = {
    op.name: (_forward(op), _true_derivative(op), SLIPS[op.name])
    for op in builtin_ops() if is_unary_function(op) and op.name in SLIPS}


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
