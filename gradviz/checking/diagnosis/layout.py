"""The right numbers in the wrong places: transposed, permuted or reshaped gradients."""

from __future__ import annotations

from itertools import permutations

import numpy as np

from .context import Context
from .finding import Finding
from .facts import facts_of
from .registry import hypothesis


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@hypothesis(any_shape=True)
def transposed(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """dW = X @ dY instead of X.T @ dY: the last two axes swapped (square or not)."""
    if user.ndim < 2 or user.shape == ref.shape and user.shape[-1] != user.shape[-2]:
        return None
    if not facts_of(user, ref, ctx).same_numbers:
        return None  # a transpose keeps the numbers
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
    if user.shape == ref.shape and ctx.close(user, ref) or not facts_of(user, ref, ctx).same_numbers:
        return None  # right already, or not the true numbers in any order
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
    if user.size != ref.size or user.size < 2 or not facts_of(user, ref, ctx).same_numbers:
        return None  # a reshape, like a transpose, keeps the numbers
    if user.shape != ref.shape and ctx.close(user.reshape(ref.shape), ref):
        return Finding(f"it holds the right numbers in the wrong shape: {_shape(user.shape)} instead of "
                       f"{_shape(ref.shape)}; reshape it (and check nothing needs a transpose)",
                       cause="reshaped", evidence="yours.reshape(true shape) equals the true gradient",
                       confidence=0.9)
    if user.shape == ref.shape and 2 <= ref.ndim <= 5:
        return _reshape_for_transpose(user, ref, ctx)
    return None


def _reshape_for_transpose(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Yours is the true gradient with two axes exchanged by a reshape (memory order kept), not a transpose.

    Both directions are tried: the data transposed then reshaped back, and reshaped to the exchanged shape
    then transposed. Exchanging an image's height and width is named as such.
    """
    spatial = (1, 2) if ctx.layout == "NHWC" else (2, 3)
    for a, b in ((i, j) for i in range(ref.ndim) for j in range(i + 1, ref.ndim)):
        if ref.shape[a] == ref.shape[b]:
            continue  # exchanging equal lengths is a plain transpose, named elsewhere
        order = list(range(ref.ndim))
        order[a], order[b] = b, a
        swapped_shape = tuple(ref.shape[i] for i in order)
        for candidate, how in ((np.transpose(ref, order).reshape(ref.shape), "transposed, then reshaped back"),
                               (np.transpose(ref.reshape(swapped_shape), order), "reshaped to the swapped shape")):
            if not ctx.close(user, candidate) or ctx.close(candidate, ref):
                continue
            if ref.ndim == 4 and (a, b) == spatial:
                return Finding("height and width are swapped in a reshape: the image's rows and columns were "
                               "exchanged with .reshape(..., W, H) where a transpose of the axes (or the "
                               "(..., H, W) shape) belongs", cause="height_width_swapped", confidence=0.9,
                               evidence=f"the true gradient {how} with axes {a} and {b} exchanged reproduces yours")
            return Finding(f"it is the true gradient with axes {a} and {b} exchanged by .reshape() where a transpose "
                           "was needed (the numbers keep their memory order)", cause="reshape_for_transpose",
                           confidence=0.9, evidence=f"the true gradient {how} with axes {a} and {b} exchanged "
                                                    "reproduces yours")
    return _unflattened_in_another_order(user, ref, ctx) if 3 <= ref.ndim <= 4 else None


def _unflattened_in_another_order(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """Yours is the true gradient reshaped into another axis order and then transposed back (a flattened
    gradient unflattened channels-last, dout.reshape(N, H, W, C).transpose(0, 3, 1, 2), for an NCHW input):
    every order of three or four axes is tried, beyond the exchanges of two."""
    for order in permutations(range(ref.ndim)):
        if sum(i != j for i, j in enumerate(order)) <= 2:
            continue  # an exchange of two axes: tried above
        laid = tuple(ref.shape[order.index(i)] for i in range(ref.ndim))  # laid.transpose(order) has ref's shape
        if laid == ref.shape:
            continue  # no reshape happened: a plain transpose, named elsewhere
        candidate = np.transpose(ref.reshape(laid), order)
        if ctx.close(user, candidate) and not ctx.close(candidate, ref):
            channels_last = ref.ndim == 4 and ctx.layout != "NHWC" and tuple(order) == (0, 3, 1, 2)
            said = " (channels-last: N, H, W, C, where the input is NCHW)" if channels_last else ""
            return Finding(f"it is the true gradient unflattened as {_shape(laid)}{said} and transposed by "
                           f"{tuple(order)}: reshape straight to {_shape(ref.shape)}, the order the forward "
                           "flattened in", cause="reshape_for_transpose", confidence=0.85,
                           evidence=f"the true gradient reshaped to {_shape(laid)} and transposed by {tuple(order)} "
                                    "reproduces yours")
    return None


@hypothesis
def operand_not_transposed(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """dA = dY @ B where dY @ B.T belongs (or dB = A @ dY for A.T @ dY): a matmul operand missing its .T.

    With square operands the shapes fit either way, so only the numbers tell: yours is the product with
    the other input untransposed, and the true gradient is the same product with it transposed."""
    g = ctx.cotangent
    if user.ndim != 2 or not isinstance(g, np.ndarray) or g.ndim != 2 or ctx.close(user, ref):
        return None
    grad = f"d{ctx.name}" if ctx.name else "the gradient"
    for name, x in ctx.inputs.items():
        if name == ctx.name or not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] != x.shape[1]:
            continue
        for side in ("right", "left"):
            try:
                wrong, right = (g @ x, g @ x.T) if side == "right" else (x @ g, x.T @ g)
            except ValueError:  # the shapes do not fit this way round
                continue
            if wrong.shape == user.shape == ref.shape and ctx.close(user, wrong) and ctx.close(ref, right):
                yours, true = (f"dout @ {name}", f"dout @ {name}.T") if side == "right" else \
                    (f"{name} @ dout", f"{name}.T @ dout")
                return Finding(f"{name} is not transposed: {grad} = {yours} where {true} belongs",
                               cause="transposed", confidence=0.95,
                               evidence=f"{yours} reproduces yours; {true} gives the true gradient")
    return None
