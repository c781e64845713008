"""Coupled outputs: a Jacobian kept only on its diagonal (softmax, layer norm, batch norm)."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import cotangent_like, near


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


EPSILONS = np.array([0.0, 1e-12, 1e-8, 1e-5, 1e-3])  # the eps a normalization may add to the variance


def _normalization_fit(x, y, scale, axis: int):
    """(eps, mean, var) for the first eps with y == the normalization of x over `axis`, up to `scale` and a
    shift per feature (beta); None when no eps fits. Tried first on a slice, where most arrays fail."""
    plausible = EPSILONS[_slice_fits(x, y, scale, axis)]
    if plausible.size == 0:
        return None
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    for eps in plausible:
        fitted = (x - mean) / np.sqrt(var + eps) * scale
        shift = (y - fitted).mean(axis=0, keepdims=True)  # beta, one per feature
        if near(fitted + shift, y, rtol=1e-7, atol=1e-9):
            return float(eps), mean, var
    return None


def _slice_fits(x, y, scale, axis: int) -> np.ndarray:
    """For each eps, whether one column (batch norm) or two rows (layer norm) fit: necessary for the whole.

    A column of a batch norm is normalized and shifted on its own; two rows of a layer norm share the
    shift, so their difference must match without it (each within its tolerance: 1.5x their sum here)."""
    e = EPSILONS.reshape(-1, 1, 1)
    with np.errstate(all="ignore"):
        if axis == 0:
            xs, ys = x[:, :1], y[:, :1]
            d = ys - (xs - xs.mean(axis=0, keepdims=True)) / np.sqrt(xs.var(axis=0, keepdims=True) + e) \
                * scale[:, :1]
            return np.all(np.abs(d - d.mean(axis=1, keepdims=True)) <= 1.5 * (1e-9 + 1e-7 * np.abs(ys)), axis=(1, 2))
        if x.shape[0] < 2:
            return np.ones(len(EPSILONS), dtype=bool)
        xs, ys = x[:2], y[:2]
        d = ys - (xs - xs.mean(axis=-1, keepdims=True)) / np.sqrt(xs.var(axis=-1, keepdims=True) + e) * scale
        tol = 1e-9 + 1e-7 * np.abs(ys)
        return np.all(np.abs(d[:, 0] - d[:, 1]) <= 1.5 * (tol[0] + tol[1]), axis=1)


@hypothesis
def softmax_diagonal_only(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    x, y, g = ctx.wrt, ctx.output, cotangent_like(ctx, user.shape)
    if g is None or not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or not x.shape == y.shape == user.shape:
        return None
    if x.ndim == 0 or x.size == 0 or y.min() < -1e-9 or y.max() > 1 + 1e-6:
        return None  # not probabilities: no softmax along any axis
    for axis in dict.fromkeys((-1, 0)):
        if not near(_softmax(x, axis), y, rtol=1e-9, atol=1e-12):
            continue
        diagonal = g * y * (1 - y)
        if ctx.close(user, diagonal) and not ctx.close(diagonal, ref):
            return Finding("softmax backward keeps only the diagonal of the Jacobian: dx = dout * s * (1 - s) "
                           "drops the -s_i * s_j terms; use dx = s * (dout - sum(dout * s))",
                           cause="jacobian_diagonal_only", confidence=0.95,
                           evidence=f"the output is softmax(input) along axis {axis}; dout * s * (1 - s) "
                                    "reproduces yours on every element")
    return None


@hypothesis
def normalization_diagonal_only(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Layer norm (per row) or batch norm (per column) whose backward ignores the mean and variance."""
    x, y, g = ctx.wrt, ctx.output, cotangent_like(ctx, user.shape)
    if g is None or not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or x.ndim != 2:
        return None
    if not x.shape == y.shape == user.shape:
        return None
    gamma = next((np.asarray(v, dtype=np.float64) for k, v in ctx.inputs.items()
                  if k.lower() in ("gamma", "weight", "scale") and np.size(v) == x.shape[1]), None)
    scale = np.ones((1, 1)) if gamma is None else gamma.reshape(1, -1)
    for axis, kind in ((-1, "layer norm"), (0, "batch norm")):
        fit = _normalization_fit(x, y, scale, axis)
        if fit is not None:
            eps, mean, var = fit
            std = np.sqrt(var + eps)
            xhat = (x - mean) / std
            n = x.shape[axis]
            gh = g * scale
            slips = [("the mean and variance are treated as constants: dx = dout * gamma / std drops the terms "
                      "through mean and var", gh / std),
                     ("only the diagonal of the Jacobian is kept: dx = dout * gamma / std * (1 - 1/N - xhat**2/N) "
                      "drops the coupling between elements", gh / std * (1 - 1 / n - xhat ** 2 / n))]
            mean_g = gh.mean(axis=axis, keepdims=True)
            mean_gx = (gh * xhat).mean(axis=axis, keepdims=True)
            dropped = [("the term through the mean is dropped: dx = (g - xhat * mean(g * xhat)) / std lacks the "
                        "- mean(g) term (d mean / dx)", (gh - xhat * mean_gx) / std),
                       ("the term through the variance is dropped: dx = (g - mean(g)) / std lacks the "
                        "- xhat * mean(g * xhat) term (d var / dx)", (gh - mean_g) / std)]
            for sentence, candidate in slips + dropped:
                if ctx.close(user, candidate) and not ctx.close(candidate, ref):
                    cause = "dropped_rule_term" if "dropped:" in sentence else "jacobian_diagonal_only"
                    return Finding(f"{kind} backward: {sentence}", cause=cause, confidence=0.9,
                                   evidence=f"the output is {kind} of the input (over axis {axis % x.ndim}, N={n}); "
                                            "that formula reproduces yours on every element")
            return None
    return None
