"""Softmax and log-softmax: the two losses' building blocks that need their own derivative.

log_softmax is computed max-shifted (log-sum-exp), so logits of 1000 or gaps of
800 give finite results. The losses themselves (nll, cross-entropy, mse, bce)
are compositions of table ops in gradviz.functional and need no rule of their own.
"""

from __future__ import annotations

import numpy as np

from .registry import Case, OpDef, register


def log_softmax_forward(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def log_softmax_backward(g, x, out, axis=-1):
    # d/dx_j sum_i g_i (x_i - lse(x)) = g_j - softmax_j * sum_i g_i
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


def softmax_forward(x, axis=-1):
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def softmax_backward(g, x, out, axis=-1):
    # Jacobian diag(s) - s s^T applied to g
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def _along(axis, x, combine):
    """Apply combine(list of expressions) -> list along one axis of an object array."""
    x = np.asarray(x, dtype=object)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=object)
    for index in np.ndindex(moved.shape[:-1]):
        out[index] = combine(list(moved[index]))
    return np.moveaxis(out, -1, axis)


def _log_softmax_symbolic(x, axis=-1):
    import sympy

    return _along(axis, x, lambda xs: [xi - sympy.log(sympy.Add(*[sympy.exp(v) for v in xs])) for xi in xs])


def _softmax_symbolic(x, axis=-1):
    import sympy

    return _along(axis, x, lambda xs: [sympy.exp(xi) / sympy.Add(*[sympy.exp(v) for v in xs]) for xi in xs])


def _cases(rng):
    return [Case((rng.normal(size=(3, 4)),), {"axis": -1}), Case((rng.normal(size=(4, 2)),), {"axis": 0})]


LOG_SOFTMAX = register(OpDef(
    "log_softmax", symbol="log_softmax", forward=log_softmax_forward, backward=log_softmax_backward,
    symbolic=_log_softmax_symbolic, cases=_cases,
))

SOFTMAX = register(OpDef(
    "softmax", symbol="softmax", forward=softmax_forward, backward=softmax_backward,
    symbolic=_softmax_symbolic, cases=_cases,
))
