"""Convolutions: a crop off by one, a forgotten stride, a flipped kernel, swapped channels.

The convolution is recognised from its arrays (output == conv2d(input, kernel)
for the declared or the usual stride and padding; kernels either
(C_out, C_in, kh, kw) with NCHW images or (kh, kw, C_in, C_out) with NHWC),
then each slip is recomputed with gradviz's own conv backward and compared.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...ops.conv import conv2d_backward, conv2d_forward, pair
from .context import Context
from .finding import Finding
from .images import from_nchw, to_nchw
from .registry import hypothesis


def _kernel_nchw(w: np.ndarray, ctx: Context) -> np.ndarray:
    return np.transpose(w, (3, 2, 0, 1)) if ctx.layout == "NHWC" else w


def _kernel_back(w: np.ndarray, ctx: Context) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0)) if ctx.layout == "NHWC" else w


def _settings(ctx: Context):
    strides = [pair(ctx.attrs["stride"], "stride")] if "stride" in ctx.attrs else [(1, 1), (2, 2)]
    pads = [pair(ctx.attrs[k], "padding") for k in ("padding", "pad") if k in ctx.attrs] or [(0, 0), (1, 1), (2, 2)]
    return [(s, p) for s in strides for p in pads]


def recognise_conv(ctx: Context):
    """(x, w, b, stride, padding) in NCHW when the context's arrays are one conv2d; else None."""
    arrays = ctx.arrays()
    y = ctx.output
    if not isinstance(y, np.ndarray) or y.ndim != 4:
        return None
    y = to_nchw(np.asarray(y, dtype=np.float64), ctx)
    images = [a for n, a in arrays.items() if a.ndim == 4 and n not in (ctx.output_name, "dout")]
    biases = [a.reshape(-1)[None, :, None, None] for a in arrays.values() if a.size == y.shape[1] and a.ndim <= 4]
    biases += [a for n, a in arrays.items()  # untied: one per output element, (C, H, W) or a batch of one
               if a.shape in (y.shape[1:], (1,) + y.shape[1:]) and n not in (ctx.output_name, "dout")]
    for x in images:
        xn = to_nchw(x, ctx)
        for w in images:
            if w is x:
                continue
            wn = _kernel_nchw(w, ctx)
            if wn.shape[1] != xn.shape[1] or wn.shape[0] != y.shape[1]:
                continue
            for stride, padding in _settings(ctx):
                try:
                    plain = conv2d_forward(xn, wn, stride=stride, padding=padding)
                except ValueError:
                    continue
                if plain.shape != y.shape:
                    continue
                for b in [None] + biases:
                    out = plain if b is None else plain + b
                    if np.allclose(out, y, rtol=1e-9, atol=1e-10):
                        return x, w, b, stride, padding
    return None


def _backward(g, x, w, stride, padding):
    dx, dw = conv2d_backward(g, x, w, stride=stride, padding=padding)[:2]
    return dx, dw


def _padded_gradient(g, x, w, stride, padding):
    """d loss / d (the padded input), before any crop."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    return _backward(g, xp, w, stride, (0, 0))[0]


def _without_stride(g, x, w, stride, padding):
    """Backward whose windows sit at (i, j) instead of (i * stride, j * stride)."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    h, wd = g.shape[2] + w.shape[2] - 1, g.shape[3] + w.shape[3] - 1
    dxp, dw = np.zeros(xp.shape), None
    if h <= xp.shape[2] and wd <= xp.shape[3]:
        dxp[:, :, :h, :wd], dw = _backward(g, xp[:, :, :h, :wd], w, (1, 1), (0, 0))
    dx = dxp[:, :, padding[0]: xp.shape[2] - padding[0], padding[1]: xp.shape[3] - padding[1]]
    return dx, dw


def _candidates(g, x, w, stride, padding, for_input: bool):
    """(cause, sentence, gradient) for each slip, for dx (for_input) or for dW."""
    flipped = w[:, :, ::-1, ::-1]
    if for_input:
        yield ("flipped_kernel", "the kernel is flipped (rotated 180 degrees) in backward: dx must correlate dout "
               "with the kernel as the forward used it, or convolve with the flipped one, not both",
               _backward(g, x, flipped, stride, padding)[0])
        if w.shape[0] == w.shape[1]:
            yield ("swapped_channels", "the kernel's input and output channels are swapped in backward "
                   "(W[c_in, c_out] used where W[c_out, c_in] belongs)",
                   _backward(g, x, w.transpose(1, 0, 2, 3), stride, padding)[0])
        if stride != (1, 1):
            yield ("forgotten_stride", f"the stride ({stride[0]}) is forgotten in backward: windows are taken at "
                   "(i, j) instead of (i * stride, j * stride)", _without_stride(g, x, w, stride, padding)[0])
        dxp = _padded_gradient(g, x, w, stride, padding)
        h, wd = x.shape[2], x.shape[3]
        for dh, dw in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1)):
            top, left = padding[0] + dh, padding[1] + dw
            if top < 0 or left < 0 or top + h > dxp.shape[2] or left + wd > dxp.shape[3]:
                continue
            yield ("crop_off_by_one", f"the padding is cropped off by one: the slice starts at row {top} and column "
                   f"{left} of the padded gradient instead of {padding[0]}, {padding[1]}",
                   dxp[:, :, top: top + h, left: left + wd])
    else:
        yield ("flipped_kernel", "the kernel gradient is flipped (rotated 180 degrees): dW must correlate the input "
               "with dout in the forward's orientation", _backward(g, x, w, stride, padding)[1][:, :, ::-1, ::-1])
        if stride != (1, 1):
            yield ("forgotten_stride", f"the stride ({stride[0]}) is forgotten in backward: windows are taken at "
                   "(i, j) instead of (i * stride, j * stride)", _without_stride(g, x, w, stride, padding)[1])


@hypothesis
def convolution_slips(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    g = ctx.cotangent
    if user.ndim == 3 and isinstance(g, np.ndarray) and g.ndim == 3 and np.ndim(ctx.output) == 3:
        found = convolution_slips(user[None], ref[None], _one_image(ctx))  # one (C, H, W) image, no batch axis
        if found is None:  # or a 1-D convolution: (N, C, L) signals, (C_out, C_in, K) kernels, as rows of height 1
            found = convolution_slips(user[:, :, None], ref[:, :, None], _one_row(ctx))
        return found
    if user.ndim != 4 or not isinstance(g, np.ndarray) or g.ndim != 4 or ctx.wrt is None:
        return None
    found = recognise_conv(ctx)
    if found is None:
        return None
    x, w, _, stride, padding = found
    if _same(ctx.wrt, x):
        for_input, back = True, (lambda a: from_nchw(a, ctx))
    elif _same(ctx.wrt, w):
        for_input, back = False, (lambda a: _kernel_back(a, ctx))
    else:
        return None
    gn, xn, wn = to_nchw(np.asarray(g, dtype=np.float64), ctx), to_nchw(x, ctx), _kernel_nchw(w, ctx)
    for cause, sentence, candidate in _candidates(gn, xn, wn, stride, padding, for_input):
        if candidate is None:
            continue
        candidate = back(candidate)
        if candidate.shape == user.shape and ctx.close(user, candidate) and not ctx.close(candidate, ref):
            return Finding(sentence, cause=cause, confidence=0.95,
                           evidence=f"the output is conv2d(input, kernel, stride={stride[0]}, padding={padding[0]}); "
                                    "backward with that slip reproduces yours on every element")
    return None


def _one_image(ctx: Context) -> Context:
    """The context of a convolution of one (C, H, W) image, as a batch of one (NCHW)."""
    def batched(a):
        return a[None] if isinstance(a, np.ndarray) and a.ndim == 3 else a

    return dataclasses.replace(ctx, wrt=batched(ctx.wrt), inputs={k: batched(v) for k, v in ctx.inputs.items()},
                               output=batched(ctx.output), cotangent=batched(ctx.cotangent), layout="NCHW",
                               kinks=None, memo={})


def _one_row(ctx: Context) -> Context:
    """The context of a 1-D convolution (N, C, L) as a 2-D one of height 1 (N, C, 1, L), NCHW."""
    def lifted(a):
        return a[:, :, None] if isinstance(a, np.ndarray) and a.ndim == 3 else a

    return dataclasses.replace(ctx, wrt=lifted(ctx.wrt), inputs={k: lifted(v) for k, v in ctx.inputs.items()},
                               output=lifted(ctx.output), cotangent=lifted(ctx.cotangent), layout="NCHW",
                               kinks=None, memo={})


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (np.shape(a) == np.shape(b) and np.array_equal(a, b))
