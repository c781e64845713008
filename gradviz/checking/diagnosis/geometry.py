"""What an image op looks like, read from its arrays and its named settings, filled in once for every entry point.

Course code rarely says "NHWC" or "kernel_size": it passes `hparameters = {"f": 2, "stride": 2}`,
`kernel_shape=(2, 2)`, `pool_size`, `strides`, or nothing at all and lets the shapes speak.
`complete(context)` turns whatever is there into the Context's `layout` and its `kernel_size`,
`stride` and `padding` attributes, so the pooling, convolution and factor hypotheses see the same
geometry whether the op came as a class, a function pair, a gv.Function or a torch Function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .context import Context

# the user's names for each setting (lower case), most common first
KERNEL_NAMES = ("kernel_size", "kernel_shape", "kernel", "pool_size", "pool", "window", "filter_size", "f", "k",
                "size", "ksize", "pool_height")
STRIDE_NAMES = ("stride", "strides", "s", "step")
PADDING_NAMES = ("padding", "pad", "p")


def complete(ctx: Context) -> Context:
    """Fill the context's layout and window settings from named arguments and shapes (in place; returned)."""
    named = _settings(ctx)
    for key, names in (("kernel_size", KERNEL_NAMES), ("stride", STRIDE_NAMES), ("padding", PADDING_NAMES)):
        if key in ctx.attrs or (key == "kernel_size" and "kernel" in ctx.attrs):
            continue
        value = next((named[n] for n in names if n in named and _whole(named[n])), None)
        if value is not None:
            ctx.attrs[key] = _pair(value)
    if ctx.layout is None:
        ctx.layout = infer_layout(ctx, named)
    return ctx


def infer_layout(ctx: Context, named: dict[str, Any] | None = None) -> str | None:
    """'NHWC' when names or shapes say the channels are last; 'NCHW' when they say first; None when unsure."""
    named = _settings(ctx) if named is None else named
    for key, value in named.items():
        text = f"{key}={value}".upper() if isinstance(value, str) else key.upper()
        if "NHWC" in text or "CHANNELS_LAST" in text:
            return "NHWC"
        if "NCHW" in text or "CHANNELS_FIRST" in text:
            return "NCHW"
    images = [a for a in _images(ctx)]
    if not images:
        return None
    votes = [_layout_of(image, ctx) for image in images]
    votes = [v for v in votes if v is not None]
    return votes[0] if votes and all(v == votes[0] for v in votes) else None


def _layout_of(image: np.ndarray, ctx: Context) -> str | None:
    """A trailing axis of 1 or 3 (gray, RGB) or of the filter count is channels; the same on axis 1 is NCHW."""
    filters = {int(w.shape[-1]) for w in _images(ctx) if w is not image and w.ndim == 4}  # (kh, kw, C_in, C_out)
    first, last = image.shape[1], image.shape[3]
    channel_like = {1, 3} | filters
    if last in channel_like and first not in channel_like and image.shape[1] == image.shape[2] != last:
        return "NHWC"
    if first in {1, 3} and last not in {1, 3} and image.shape[2] == image.shape[3] != first:
        return "NCHW"
    return None


def _images(ctx: Context) -> list[np.ndarray]:
    return [a for a in ctx.arrays().values() if a.ndim == 4]


def _settings(ctx: Context) -> dict[str, Any]:
    """Every non-array argument by lower-case name, with dict arguments (hparameters) opened one level."""
    named: dict[str, Any] = {}
    for key, value in {**ctx.inputs, **ctx.attrs}.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                if isinstance(inner, str) and not isinstance(v, np.ndarray):
                    named.setdefault(inner.lower(), v)
        elif not isinstance(value, np.ndarray) or value.ndim == 0 or value.size <= 2 and value.dtype.kind in "iu":
            named.setdefault(str(key).lower(), value)
    return named


def _whole(value: Any) -> bool:
    """A positive whole number, or a pair of them, as window settings are written."""
    try:
        values = np.atleast_1d(np.asarray(value)).ravel()
    except Exception:  # noqa: BLE001 - anything that is not a number is not a setting
        return False
    return 1 <= values.size <= 2 and values.dtype.kind in "iuf" and bool(np.all(values == np.round(values))) \
        and bool(np.all(values >= 0))


def _pair(value: Any) -> tuple[int, int]:
    values = [int(v) for v in np.atleast_1d(np.asarray(value)).ravel()]
    return (values[0], values[0]) if len(values) == 1 else (values[0], values[1])
