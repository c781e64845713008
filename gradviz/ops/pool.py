"""Max and average pooling over (N, C, H, W), vectorized, stride defaulting to the kernel.

On a tie, max pooling sends the gradient to exactly one element, the first
maximum of the window in row-major order (what PyTorch does). The forward keeps
where each maximum was, and the array engine hands that to the backward. Sending it to
every tied element is a classic bug: gv.check's joint subgradient test shows why.
"""

from __future__ import annotations

import numpy as np

from .conv import offsets, windows
from .reduce import sympy_max
from .registry import Case, OpDef, register


def _out_hw(x, kernel, stride) -> tuple[int, int]:
    return (x.shape[2] - kernel[0]) // stride[0] + 1, (x.shape[3] - kernel[1]) // stride[1] + 1


def max_pool_forward_saving(x, kernel=(2, 2), stride=(2, 2)):
    """Max over each window, and where it was: the backward reuses the positions instead of searching again.

    One whole-array step per kernel offset (never a loop over pixels): an offset
    whose value is strictly larger takes over, so of tied maxima the first in
    row-major window order keeps the gradient. np.maximum makes a window that
    holds a NaN output NaN, as in numpy and PyTorch.
    """
    out = argmax = None
    for k, (_, _, rows, cols) in enumerate(offsets(kernel, _out_hw(x, kernel, stride), stride)):
        candidate = x[:, :, rows, cols]
        if out is None:
            out = candidate.copy()
            argmax = np.zeros(out.shape, np.intp)
            continue
        np.copyto(argmax, k, where=candidate > out)
        np.maximum(out, candidate, out=out)
    return out, {"argmax": argmax}


def max_pool_forward(x, kernel=(2, 2), stride=(2, 2)):
    return max_pool_forward_saving(x, kernel, stride)[0]


def max_pool_backward(g, x, out, kernel=(2, 2), stride=(2, 2), argmax=None):
    """Each window's gradient goes to its first maximum (row-major order), added up where windows overlap.

    `argmax` is what the forward saved; without it (a checker calling the op
    alone) the positions are found again by the same rule.
    """
    if argmax is None:
        argmax = max_pool_forward_saving(x, kernel, stride)[1]["argmax"]
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = argmax.shape[2:]
    # The flat index in x of every window's winner: the window's corner plus the winner's offset in it.
    corner = (((np.arange(n)[:, None, None, None] * c + np.arange(c)[None, :, None, None]) * h
               + np.arange(oh)[None, None, :, None] * sh) * w + np.arange(ow)[None, None, None, :] * sw)
    offset = (np.arange(kh)[:, None] * w + np.arange(kw)[None, :]).ravel()
    winners = (corner + offset[argmax]).ravel()
    dx = np.bincount(winners, weights=np.ravel(g), minlength=x.size)  # adds up where windows overlap
    return (dx.reshape(x.shape),)


def avg_pool_forward(x, kernel=(2, 2), stride=(2, 2)):
    out = np.zeros((x.shape[0], x.shape[1]) + _out_hw(x, kernel, stride))
    for _, _, rows, cols in offsets(kernel, out.shape[2:], stride):
        out += x[:, :, rows, cols]
    return out / (kernel[0] * kernel[1])


def avg_pool_backward(g, x, out, kernel=(2, 2), stride=(2, 2)):
    share = g / (kernel[0] * kernel[1])
    dx = np.zeros(x.shape)
    for _, _, rows, cols in offsets(kernel, out.shape[2:], stride):
        dx[:, :, rows, cols] += share
    return (dx,)


def _pool_symbolic(combine):
    def twin(x, kernel=(2, 2), stride=(2, 2)):
        x = np.asarray(x, dtype=object)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw) = kernel, stride
        out = np.empty((n, c, (h - kh) // sh + 1, (w - kw) // sw + 1), dtype=object)
        for b, ch, i, j in np.ndindex(out.shape):
            items = [x[b, ch, i * sh + p, j * sw + q] for p in range(kh) for q in range(kw)]
            out[b, ch, i, j] = combine(items)
        return out

    return twin


def _avg(items):
    import sympy

    return sympy.Add(*items) / len(items)


def _max_pool_kinks(inputs, attrs, tol):
    """Windows whose two largest entries tie within tol."""
    cols = windows(np.asarray(inputs[0], dtype=np.float64), attrs["kernel"], attrs["stride"])
    flat = cols.reshape(cols.shape[:4] + (-1,))
    if flat.shape[-1] < 2:
        return np.zeros(flat.shape[:-1], bool)
    top2 = np.sort(flat, axis=-1)[..., -2:]
    return (top2[..., 1] - top2[..., 0]) <= tol


def _pool_cases(rng):
    return [
        Case((rng.normal(size=(1, 2, 4, 4)),), {"kernel": (2, 2), "stride": (2, 2)}),
        Case((rng.normal(size=(1, 1, 5, 5)),), {"kernel": (3, 3), "stride": (2, 2)}),
        Case((rng.normal(size=(1, 1, 3, 4)),), {"kernel": (2, 3), "stride": (1, 1)}),
        Case((rng.normal(size=(1, 1, 5, 4)),), {"kernel": (2, 2), "stride": (2, 2)}),
    ]


MAX_POOL2D = register(OpDef(
    "max_pool2d", symbol="max_pool2d",
    forward=max_pool_forward, backward=max_pool_backward, forward_saving=max_pool_forward_saving,
    symbolic=_pool_symbolic(sympy_max), cases=_pool_cases,
    kinks=_max_pool_kinks,
    kink_reason="max pooling is not differentiable where two entries of a window tie for the maximum",
))

AVG_POOL2D = register(OpDef(
    "avg_pool2d", symbol="avg_pool2d",
    forward=avg_pool_forward, backward=avg_pool_backward,
    symbolic=_pool_symbolic(_avg), cases=_pool_cases,
))
