"""Image layers: errors on the border of each image (padding sliced off wrong), and NCHW / NHWC."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis


def spatial_axes(ctx: Context) -> tuple[int, int]:
    return (1, 2) if ctx.layout == "NHWC" else (2, 3)


def to_nchw(a: np.ndarray, ctx: Context) -> np.ndarray:
    """An image batch in gradviz's NCHW order, whatever layout the user's code uses."""
    return np.transpose(a, (0, 3, 1, 2)) if ctx.layout == "NHWC" else a


def from_nchw(a: np.ndarray, ctx: Context) -> np.ndarray:
    return np.transpose(a, (0, 2, 3, 1)) if ctx.layout == "NHWC" else a


@hypothesis
def border_only(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """A padded-convolution bug: wrong only on the outer ring of each image."""
    if user.ndim != 4:
        return None
    h_axis, w_axis = spatial_axes(ctx)
    h, w = user.shape[h_axis], user.shape[w_axis]
    if h < 3 or w < 3:
        return None
    wrong = ~np.isclose(user, ref, atol=ctx.atol, rtol=ctx.rtol)
    if not wrong.any():
        return None
    interior = [slice(None)] * 4
    interior[h_axis] = slice(1, h - 1)
    interior[w_axis] = slice(1, w - 1)
    if wrong[tuple(interior)].any():
        return None
    return Finding("only the border of the image is wrong, the interior is right: look at how the padding "
                   "is sliced off in backward (e.g. [pad:-pad] with pad = 0 gives an empty slice)",
                   cause="border", evidence=f"{int(wrong.sum())} wrong elements, all on the outer ring",
                   confidence=0.75)  # a location, not a recomputed slip: any reproduced cause outranks it


@hypothesis(any_shape=True)
def padding_kept(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """The gradient of the padded input handed back: larger by 2 * pad, its centre is right."""
    if user.ndim != 4 or ref.ndim != 4 or user.shape == ref.shape:
        return None
    h_axis, w_axis = spatial_axes(ctx)
    extra_h, extra_w = user.shape[h_axis] - ref.shape[h_axis], user.shape[w_axis] - ref.shape[w_axis]
    others = [a for a in range(4) if a not in (h_axis, w_axis)]
    if any(user.shape[a] != ref.shape[a] for a in others) or extra_h < 0 or extra_w < 0 or extra_h % 2 or extra_w % 2:
        return None
    ph, pw = extra_h // 2, extra_w // 2
    centre = [slice(None)] * 4
    centre[h_axis] = slice(ph, ph + ref.shape[h_axis])
    centre[w_axis] = slice(pw, pw + ref.shape[w_axis])
    if not ctx.close(user[tuple(centre)], ref):
        return None
    return Finding(f"the padding is kept: yours has shape {user.shape}, the padded input's, where the input has "
                   f"{ref.shape}; crop {ph} row(s) and {pw} column(s) off each side ([..., {ph}:-{ph}, {pw}:-{pw}] "
                   "for NCHW)", cause="padding_kept", confidence=0.95,
                   evidence=f"the centre of yours (without the {ph}, {pw} padding) equals the true gradient")
