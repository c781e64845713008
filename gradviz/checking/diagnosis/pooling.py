"""Pooling: the gradient sent to the wrong element of its window, to every element, or averaged.

The pool is recognised from its arrays (output == max or mean over k x k
windows of the input, for the declared kernel/stride or the usual ones),
then each classic routing slip is recomputed and compared.
"""

from __future__ import annotations

import numpy as np

from ...ops.conv import offsets, pair
from ...ops.pool import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward
from .context import Context
from .finding import Finding
from .images import from_nchw, to_nchw
from .registry import hypothesis


def _geometries(ctx: Context):
    """The declared window and stride first, then the usual ones (a setting read from a name may mislead)."""
    kernel = ctx.attrs.get("kernel_size", ctx.attrs.get("kernel"))
    declared = [pair(kernel, "kernel_size")] if kernel is not None else []
    stride = ctx.attrs.get("stride")
    for k in dict.fromkeys(declared + [(2, 2), (3, 3)]):
        strides = ([pair(stride, "stride")] if stride is not None else []) + [k, (1, 1), (2, 2)]
        for s in dict.fromkeys(strides):
            yield k, s


def recognise_pool(x: np.ndarray, y: np.ndarray, ctx: Context):
    """('max' | 'avg', kernel, stride) when y is that pooling of x."""
    for k, s in _geometries(ctx):
        oh, ow = (x.shape[2] - k[0]) // s[0] + 1, (x.shape[3] - k[1]) // s[1] + 1
        if (oh, ow) != y.shape[2:] or y.shape[:2] != x.shape[:2] or oh < 1 or ow < 1:
            continue
        if np.allclose(max_pool_forward(x, k, s), y, rtol=1e-9, atol=1e-12):
            return "max", k, s
        if np.allclose(avg_pool_forward(x, k, s), y, rtol=1e-9, atol=1e-12):
            return "avg", k, s
    return None


def _every(g, x, k, s):
    dx = np.zeros(x.shape)
    for _, _, rows, cols in offsets(k, g.shape[2:], s):
        dx[:, :, rows, cols] += g
    return dx


def _at_offset(g, x, k, s, i, j):
    dx = np.zeros(x.shape)
    rows = slice(i, i + s[0] * (g.shape[2] - 1) + 1, s[0])
    cols = slice(j, j + s[1] * (g.shape[3] - 1) + 1, s[1])
    dx[:, :, rows, cols] += g
    return dx


def _without_stride(route, g, x, k, s):
    """Windows placed at (i, j) instead of (i * stride, j * stride): the stride forgotten in backward."""
    h, w = g.shape[2] + k[0] - 1, g.shape[3] + k[1] - 1
    dx = np.zeros(x.shape)
    if h <= x.shape[2] and w <= x.shape[3]:
        dx[:, :, :h, :w] = route(g, x[:, :, :h, :w], k, (1, 1))
    return dx


def _max_route(g, x, k, s):
    return max_pool_backward(g, x, max_pool_forward(x, k, s), k, s)[0]


def _all_ties(g, x, k, s):
    """The max-pool gradient sent whole to every element equal to its window's maximum."""
    y = max_pool_forward(x, k, s)
    dx = np.zeros(x.shape)
    for i, j, rows, cols in offsets(k, g.shape[2:], s):
        dx[:, :, rows, cols] += g * (x[:, :, rows, cols] == y)
    return dx


def _assigned(kind, g, x, k, s):
    """Each window's gradient assigned (=) in row-major window order: where windows overlap the last one wins."""
    dx = np.zeros(x.shape)
    n, c = np.meshgrid(np.arange(x.shape[0]), np.arange(x.shape[1]), indexing="ij")
    for i in range(g.shape[2]):
        for j in range(g.shape[3]):
            top, left = i * s[0], j * s[1]
            if kind == "avg":
                dx[:, :, top:top + k[0], left:left + k[1]] = g[:, :, i, j, None, None] / (k[0] * k[1])
                continue
            first = x[:, :, top:top + k[0], left:left + k[1]].reshape(x.shape[0], x.shape[1], -1).argmax(axis=-1)
            dx[n, c, top + first // k[1], left + first % k[1]] = g[:, :, i, j]
    return dx


def _candidates(kind, g, x, k, s):
    n = k[0] * k[1]
    if s[0] < k[0] or s[1] < k[1]:
        yield "overlap_assigned", (f"the {kind}-pool gradient is assigned (=) where windows overlap ({k[0]}x{k[1]} "
                                   f"windows, stride {s[0]}): an element in several windows keeps only the last "
                                   "window's share; add it up (+=)"), _assigned(kind, g, x, k, s)
    if kind == "max":
        yield "pool_all_ties", "the max-pool gradient goes to every tied maximum of a window; send it to one of them only (the first, as the forward's argmax does)", _all_ties(g, x, k, s)
        yield "pool_every_element", "the max-pool gradient is sent to every element of its window, not only to the max", _every(g, x, k, s)
        yield "pool_averaged", "the max-pool gradient is averaged over its window (avg-pool backward) instead of sent to the max", _every(g, x, k, s) / n
        yield "pool_wrong_element", "the max-pool gradient goes to the minimum of each window, not the maximum", _max_route(g, -x, k, s)
        yield "pool_wrong_element", "the max-pool gradient goes to the first (top-left) element of each window, not to its maximum", _at_offset(g, x, k, s, 0, 0)
        yield "pool_wrong_element", "the max-pool gradient goes to the last (bottom-right) element of each window, not to its maximum", _at_offset(g, x, k, s, k[0] - 1, k[1] - 1)
        if s != (1, 1):
            yield "forgotten_stride", f"the stride ({s[0]}) is forgotten in backward: windows are taken at (i, j) instead of (i * stride, j * stride)", _without_stride(_max_route, g, x, k, s)
    else:
        yield "pool_not_averaged", f"the avg-pool gradient is not divided by the window size ({n}): each element gets all of dout", _every(g, x, k, s)
        yield "pool_wrong_element", "the avg-pool gradient is routed to the maximum of each window, like max pooling", _max_route(g, x, k, s)
        if s != (1, 1):
            yield "forgotten_stride", f"the stride ({s[0]}) is forgotten in backward: windows are taken at (i, j) instead of (i * stride, j * stride)", _without_stride(lambda g_, x_, k_, s_: avg_pool_backward(g_, x_, g_, k_, s_)[0], g, x, k, s)


@hypothesis
def pooling_routing(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    x, y, g = ctx.wrt, ctx.output, ctx.cotangent
    if not all(isinstance(a, np.ndarray) and a.ndim == 4 for a in (x, y, g)) or x.shape != user.shape:
        return None
    x, y, g = (to_nchw(a, ctx) for a in (x, y, g))
    found = recognise_pool(x, y, ctx)
    if found is None or g.shape != y.shape:
        return None
    kind, k, s = found
    right = from_nchw(_max_route(g, x, k, s) if kind == "max" else avg_pool_backward(g, x, y, k, s)[0], ctx)
    for cause, sentence, candidate in _candidates(kind, g, x, k, s):
        candidate = from_nchw(candidate, ctx)
        if ctx.close(candidate, right):
            continue  # at ties a slip can route exactly as a valid backward does: it explains nothing there
        if ctx.close(user, candidate) and not ctx.close(candidate, ref):
            return Finding(sentence, cause=cause, confidence=0.95,
                           evidence=f"the output is {kind}-pooling of the input ({k[0]}x{k[1]} windows, stride "
                                    f"{s[0]}); backward with that routing reproduces yours on every element")
    return None
