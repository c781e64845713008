"""The right numbers in the wrong places: transposed, permuted or reshaped gradients."""

from __future__ import annotations

from itertools import permutations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@hypothesis(any_shape=True)
def transposed(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """dW = X @ dY instead of X.T @ dY: the last two axes swapped (square or not)."""
    if user.ndim < 2 or user.shape == ref.shape and user.shape[-1] != user.shape[-2]:
        return None
    swapped = np.swapaxes(user, -1, -2)
    if swapped.shape != ref.shape or not ctx.close(swapped, ref) or ctx.close(user, ref):
        return None
    if user.shape == ref.shape:
        sentence = ("it matches the true gradient transposed: the two axes are swapped "
                    "(e.g. X @ dY instead of X.T @ dY)")
    else:
        sentence = (f"it matches the true gradient transposed: it has shape {_shape(user.shape)} where "
                    f"{ctx.name or 'the parameter'} has shape {_shape(ref.shape)} (e.g. dY.T @ X instead of X.T @ dY)")
    return Finding(sentence, cause="transposed", evidence="yours.T equals the true gradient within tolerance",
                   confidence=0.95)


@hypothesis(any_shape=True)
def permuted(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Axes in another order: NHWC against NCHW, (out, in) against (in, out) kernels."""
    if user.ndim < 3 or user.ndim > 5 or sorted(user.shape) != sorted(ref.shape):
        return None
    if user.shape == ref.shape and ctx.close(user, ref):
        return None
    for order in permutations(range(user.ndim)):
        if order == tuple(range(user.ndim)) or order[:-2] + order[-2:][::-1] == tuple(range(user.ndim)):
            continue  # identity, or the plain transpose the hypothesis above names
        moved = np.transpose(user, order)
        if moved.shape == ref.shape and ctx.close(moved, ref):
            axes = ", ".join(map(str, order))
            channels = user.ndim == 4 and set(order[:2]) == {0, 1} and order[2:] == (2, 3)
            sentence = ("the input and output channel axes are swapped (a kernel gradient laid out "
                        "(C_in, C_out, kh, kw) instead of (C_out, C_in, kh, kw))" if channels else
                        f"it is the true gradient with its axes in another order: np.transpose(yours, ({axes})) "
                        "is right (a layout mix-up such as NHWC against NCHW)")
            return Finding(sentence, cause="swapped_channels" if channels else "permuted_axes",
                           evidence=f"np.transpose(yours, ({axes})) equals the true gradient", confidence=0.9)
    return None


@hypothesis(any_shape=True)
def reshaped(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """The right numbers in a reshape instead of a transpose (or of another shape altogether)."""
    if user.size != ref.size or user.size < 2:
        return None
    if user.shape != ref.shape and ctx.close(user.reshape(ref.shape), ref):
        return Finding(f"it holds the right numbers in the wrong shape: {_shape(user.shape)} instead of "
                       f"{_shape(ref.shape)}; reshape it (and check nothing needs a transpose)",
                       cause="reshaped", evidence="yours.reshape(true shape) equals the true gradient",
                       confidence=0.9)
    if ref.ndim >= 2 and ref.shape[-1] != ref.shape[-2] and user.shape == ref.shape:
        transposed_ref = np.swapaxes(ref, -1, -2)
        if ctx.close(user, transposed_ref.reshape(ref.shape)):
            return Finding("it is the true gradient transposed and then reshaped back: .reshape() was used "
                           "where .T (a transpose) was needed",
                           cause="reshape_for_transpose",
                           evidence="yours equals true.T.reshape(true.shape)", confidence=0.9)
    return None
