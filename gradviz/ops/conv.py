"""2-D convolution (cross-correlation, NCHW, weight (C_out, C_in, kh, kw)), vectorized.

Forward: one tensordot over a sliding-window view of the padded input (im2col
without an explicit copy loop). Backward: the weight gradient is one tensordot
with the same windows; the input gradient is a col2im scatter-add that loops
over the kh * kw kernel offsets only, never over batch, channels or pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .registry import Case, OpDef, register


def pair(v, name: str) -> tuple[int, int]:
    """An int or a pair of ints, as a pair (what stride, padding and kernel_size accept)."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    try:
        a, b = v
        return int(a), int(b)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an int or a pair of ints, got {v!r}") from None


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """View of x (N, C, H, W) as (N, C, OH, OW, kh, kw) windows; no copy."""
    view = sliding_window_view(x, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def offsets(kernel: tuple[int, int], out_hw: tuple[int, int], stride: tuple[int, int]):
    """For each kernel offset (i, j): the strided slices of the input that it touches.

    Looping over the kh * kw offsets (never over pixels) is how the pools and
    col2im stay vectorized: each offset is one whole-array operation.
    """
    (kh, kw), (oh, ow), (sh, sw) = kernel, out_hw, stride
    for i in range(kh):
        for j in range(kw):
            yield i, j, slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw)


def _pad(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """x with zero borders (a fresh array; np.pad does the same through a much longer path)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def unpad(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    ph, pw = padding
    return x[:, :, ph : x.shape[2] - ph, pw : x.shape[3] - pw]


def _im2col(xp: np.ndarray, kernel, out_hw, stride) -> np.ndarray:
    """The windows of a padded NCHW input as an (N, C, kh, kw, OH, OW) array (im2col).

    Filled with one strided block copy per kernel offset. Seen as (N, C*kh*kw,
    OH*OW) it turns the convolution into one batched matrix product whose
    result is already NCHW, so no large array is transposed or copied again:
    with numpy, fresh large temporaries (page faults) cost more than the math.
    """
    n, c = xp.shape[:2]
    cols = np.empty((n, c) + tuple(kernel) + tuple(out_hw))
    for i, j, rows, cols_ in offsets(kernel, out_hw, stride):
        cols[:, :, i, j] = xp[:, :, rows, cols_]
    return cols


def _out_hw(x_shape, kernel, stride, padding) -> tuple[int, int]:
    return ((x_shape[2] + 2 * padding[0] - kernel[0]) // stride[0] + 1,
            (x_shape[3] + 2 * padding[1] - kernel[1]) // stride[1] + 1)


def conv2d_forward_saving(x, w, *b, stride=(1, 1), padding=(0, 0)):
    """The convolution, and its im2col windows: the backward needs them again for the weight gradient."""
    kernel = w.shape[2:]
    out_hw = _out_hw(x.shape, kernel, stride, padding)
    n, pixels = x.shape[0], out_hw[0] * out_hw[1]
    cols = _im2col(_pad(x, padding), kernel, out_hw, stride).reshape(n, -1, pixels)
    out = np.matmul(w.reshape(w.shape[0], -1), cols)  # (N, C_out, OH*OW)
    if b:
        out += b[0][:, None]
    return out.reshape((n, w.shape[0]) + out_hw), {"cols": cols}


def conv2d_forward(x, w, *b, stride=(1, 1), padding=(0, 0)):
    return conv2d_forward_saving(x, w, *b, stride=stride, padding=padding)[0]


def conv2d_backward(g, x, w, *b_and_out, stride=(1, 1), padding=(0, 0), needs=(True, True, True), cols=None):
    """Gradients of the input (col2im), the weight and the bias; None for any whose `needs` flag is False
    (a network's first convolution reads the data batch, whose gradient nobody wants). `cols` are the
    forward's im2col windows when it kept them; without them they are built again."""
    kernel = w.shape[2:]
    out_hw = g.shape[2:]
    n, pixels = x.shape[0], out_hw[0] * out_hw[1]
    g3 = np.ascontiguousarray(g).reshape(n, w.shape[0], pixels)  # (N, C_out, P)
    dx = dw = None
    if needs[1]:
        if cols is None:
            cols = _im2col(_pad(x, padding), kernel, out_hw, stride).reshape(n, -1, pixels)  # (N, C*kh*kw, P)
        dw = np.matmul(g3, cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    if needs[0]:
        dcols = np.matmul(w.reshape(w.shape[0], -1).T, g3).reshape((n, x.shape[1]) + tuple(kernel) + tuple(out_hw))
        # col2im: each kernel offset adds its block of window gradients back into the image.
        dxp = np.zeros((n, x.shape[1], x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]))
        for i, j, rows, cols_ in offsets(kernel, out_hw, stride):
            dxp[:, :, rows, cols_] += dcols[:, :, i, j]
        dx = unpad(dxp, padding)
    grads = (dx, dw)
    if len(b_and_out) == 2:  # a bias was given
        grads += (g.sum(axis=(0, 2, 3)) if needs[2] else None,)
    return grads


def conv2d_symbolic(x, w, *b, stride=(1, 1), padding=(0, 0)):
    """The textbook sum, element by element: out[n,o,i,j] = b[o] + sum x_pad[n,c,i*s+p,j*s+q] w[o,c,p,q]."""
    import sympy

    x, w = np.asarray(x, dtype=object), np.asarray(w, dtype=object)
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.empty((n, o, oh, ow), dtype=object)
    for index in np.ndindex(out.shape):
        b_, o_, i, j = index
        terms = [b[0][o_]] if b else []
        for c_ in range(c):
            for p in range(kh):
                for q in range(kw):
                    r, s = i * sh + p - ph, j * sw + q - pw
                    if 0 <= r < h and 0 <= s < wd:
                        terms.append(x[b_, c_, r, s] * w[o_, c_, p, q])
        out[index] = sympy.Add(*terms)
    return out


def _conv_cases(rng):
    def case(x_shape, w_shape, bias=True, stride=1, padding=0):
        inputs = (rng.normal(size=x_shape), rng.normal(size=w_shape))
        if bias:
            inputs += (rng.normal(size=w_shape[0]),)
        return Case(inputs, {"stride": pair(stride, "stride"), "padding": pair(padding, "padding")})

    return [
        case((1, 2, 4, 4), (2, 2, 3, 3)),
        case((2, 1, 5, 5), (2, 1, 3, 3), stride=2, padding=1),
        case((1, 2, 4, 5), (1, 2, 2, 3), bias=False, padding=(2, 1)),
        case((1, 3, 3, 3), (2, 3, 1, 1), stride=(1, 2)),
    ]


CONV2D = register(OpDef(
    "conv2d", arity=None, symbol="conv2d",
    forward=conv2d_forward, backward=conv2d_backward, symbolic=conv2d_symbolic, skips=True,
    forward_saving=conv2d_forward_saving,
    cases=_conv_cases,
))
