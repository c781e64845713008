"""Elementwise activations: the derivative written in terms of the wrong variable.

The activation is recognised from the arrays themselves: output == f(input) for
an op f of the op table (tanh, sigmoid, exp, log, sqrt, sin, ...), so no layer kind
needs to be declared and every activation the table defines is covered. The true local
derivative then recovers the upstream gradient, and each classic slip is
recomputed and compared with the user's numbers.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import cotangent_like, near


Local = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (x, y) -> dy/dx as the user wrote it

# Slips with a name of their own, tried before the ones every op of the table gets (output for input and
# input for output, replayed on the table's backward): op name -> [(cause, what the user wrote, local)].
ACTIVATIONS: dict[str, list[tuple[str, str, Local]]] = {
    "tanh": [
        ("one_minus_y", "tanh' written as 1 - y instead of 1 - y**2 (y = tanh(x))", lambda x, y: 1 - y),
        ("pre_activation", "tanh' evaluated on the pre-activation: 1 - x**2 where 1 - y**2 (y = tanh(x)) belongs",
         lambda x, y: 1 - x ** 2),
        ("dropped_product_term", "half of the product sech(x) * sech(x) is missing: tanh' written as 1 / cosh(x) "
         "where 1 / cosh(x)**2 belongs", lambda x, y: 1 / np.cosh(x)),
    ],
    "sigmoid": [
        ("pre_activation", "sigmoid' evaluated on the pre-activation: x * (1 - x) where s * (1 - s) "
         "(s = sigmoid(x)) belongs (Z used where sigmoid(Z) belongs)", lambda x, y: x * (1 - x)),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as s",
         lambda x, y: y),
        ("dropped_product_term", "half of the product s * (1 - s) is missing: the derivative is written as 1 - s",
         lambda x, y: 1 - y),
    ],
    "log": [("pre_activation", "log' written as x instead of 1 / x", lambda x, y: x)],
}


# Elementwise functions of one input in the table that this hypothesis leaves to others, and why.
NO_SLIPS: dict[str, str] = {
    "relu": "its derivative is a 0/1 mask: a wrong one is a wrong mask, which the masks hypotheses name",
    "abs": "its derivative is a sign mask: a wrong one is a wrong mask, which the masks and signs hypotheses name",
}


def diagnosed() -> list[str]:
    """The activations this hypothesis recognises: every smooth one-input function of the op table."""
    return [op.name for op in _table_ops()]


def _table_ops():
    """The op table's smooth one-input elementwise ops without settings: every activation gradviz defines.

    Piecewise-linear ones (relu, abs: they declare kinks) are left to the mask and sign hypotheses,
    which say more about a derivative that is a mask or a sign than "the wrong variable" can."""
    from ...ops import builtin_ops

    return [op for op in builtin_ops() if op.elementwise and op.arity == 1 and op.domain is not None
            and op.kinks is None]


def recognise(x: np.ndarray, y: np.ndarray):
    """The op-table op mapping x to y elementwise (its name and OpDef), if any.

    Each op is first tried on a few elements: most are ruled out there, without a forward of the whole array."""
    few = (np.asarray(x.flat[:8], dtype=np.float64), np.asarray(y.flat[:8], dtype=np.float64))
    for op in _table_ops():
        if _maps(op, *few) and _maps(op, x, y):
            return op.name, op
    return None


def _maps(op, x: np.ndarray, y: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        try:
            fx = np.asarray(op.forward(x), dtype=np.float64)
        except (TypeError, ValueError, ArithmeticError):
            return False
    return fx.shape == y.shape and bool(np.all(np.isfinite(fx))) and near(fx, y, rtol=1e-9, atol=1e-12)


def _local(op, x, y):
    return np.asarray(op.backward(np.ones_like(x), x, y)[0], dtype=np.float64)


def slips(name: str, op, x: np.ndarray, y: np.ndarray):
    """(cause, what the user wrote, their local derivative): the named slips first, then the table's own.

    The table's backward(g, x, out) is replayed with the variables exchanged: at the output where the
    input belongs (x := y, out := f(y)) and with the input where the output belongs (out := x).
    """
    for cause, what, local in ACTIVATIONS.get(name, []):
        yield cause, what, local(x, y)
    yield ("output_for_input", f"{name}' evaluated at the output y = {name}(x) where the input x belongs",
           _local(op, y, np.asarray(op.forward(y), dtype=np.float64)))
    yield ("output_for_input", f"{name}' evaluated at the output y = {name}(x) where the input x belongs",
           _local(op, y, y))
    yield ("pre_activation", f"{name}' written with the input x where the output y = {name}(x) belongs",
           _local(op, x, x))


@hypothesis
def wrong_variable(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    x, y = ctx.wrt, ctx.output
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or not x.shape == y.shape == user.shape:
        return None
    found = recognise(x, y)
    if found is None:
        return None
    kind, op = found
    with np.errstate(all="ignore"):
        d_true = _local(op, x, y)
        g = cotangent_like(ctx, user.shape)
        if g is None:  # a scalar loss: the upstream gradient is what the true derivative divides out
            g = np.where(np.abs(d_true) > 1e-12, ref / d_true, 0.0)
        if not ctx.close(g * d_true, ref):
            return None  # the arrays do not describe this op alone (a layer around it): say nothing
        for cause, what, local in slips(kind, op, x, y):
            candidate = g * local
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
