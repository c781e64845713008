"""Small helpers the hypotheses share: which elements matter, and how to name them."""

from __future__ import annotations

import numpy as np

from .context import Context


def scale(*arrays: np.ndarray) -> float:
    """The size of the numbers involved (at least 1), for relative thresholds."""
    return max([1.0] + [float(np.abs(a).max(initial=0.0)) for a in arrays])


def near(a: np.ndarray, b, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """np.allclose(a, b, rtol, atol) for finite float arrays (nan is never near), without its per-call overhead.

    The recognisers ask it dozens of times per diagnosis ("is the output tanh of the input?")."""
    with np.errstate(all="ignore"):
        return bool((np.abs(a - b) <= atol + rtol * np.abs(b)).all())


def broadcastable(shape: tuple, to: tuple) -> bool:
    """Whether an array of `shape` broadcasts to `to` (np.broadcast_to would succeed)."""
    if len(shape) > len(to):
        return False
    return all(n == 1 or n == m for n, m in zip(shape[::-1], to[::-1]))


def nonzero(a: np.ndarray, ref_scale: float) -> np.ndarray:
    """Elements that are clearly not zero at this scale."""
    return np.abs(a) > 1e-6 * ref_scale


def index_text(index) -> str:
    if isinstance(index, tuple) and all(isinstance(i, (int, np.integer)) for i in index):
        index = tuple(int(i) for i in index)  # (np.unravel_index's tuple: read without numpy)
    else:
        index = tuple(int(i) for i in np.atleast_1d(index)) if np.ndim(index) else (int(index),)
    return "[" + ",".join(map(str, index)) + "]"


def some_indices(mask: np.ndarray, limit: int = 3) -> str:
    """The first few indices where `mask` is true, as the report prints them."""
    found = np.argwhere(mask)
    text = ", ".join(index_text(i) for i in found[:limit])
    return text + (", ..." if len(found) > limit else "")


def fraction(mask: np.ndarray) -> str:
    return f"{int(np.count_nonzero(mask))} of {mask.size} elements"


def lined_up(mask: np.ndarray, ctx: Context, among: np.ndarray | None = None,
             skip: str | None = None, strict_first: bool = False) -> str | None:
    """'x <= 0' when `mask` is exactly where a named array is <= 0 (or > 0, < 0, >= 0).

    `among` limits the comparison to the elements that can tell (e.g. where the true gradient is
    not 0); `skip` leaves out one array's name; `strict_first` prefers "< 0" (signs) to "<= 0" (masks).
    """
    among = np.ones(mask.shape, dtype=bool) if among is None else among
    for name, array in ctx.arrays().items():
        if array.shape != mask.shape or name == skip:
            continue
        tests = [(f"{name} <= 0", array <= 0), (f"{name} > 0", array > 0),
                 (f"{name} < 0", array < 0), (f"{name} >= 0", array >= 0)]
        for text, test in (tests[2:] + tests[:2] if strict_first else tests):
            if np.array_equal(test[among], mask[among]):
                return text
    return None


def slices_text(mask: np.ndarray) -> str | None:
    """'rows 0, 3' / 'the last column' when `mask` is whole slices along one axis."""
    if mask.ndim < 1 or not mask.any():
        return None
    names = {0: "row", 1: "column"} if mask.ndim == 2 else {}
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        full = mask.all(axis=others) if others else mask
        if np.array_equal(np.any(mask, axis=others) if others else mask, full):
            picked = np.flatnonzero(full)
            if len(picked) == mask.shape[axis]:
                return None
            what = names.get(axis, f"index along axis {axis}")
            if len(picked) == 1 and picked[0] == mask.shape[axis] - 1:
                return f"the last {what}"
            if len(picked) == 1 and picked[0] == 0:
                return f"the first {what}"
            return listing(what, picked)
    return None


def listing(what: str, picked) -> str:
    """'row 2' / 'rows 0, 2' / 'indices 1, 2, 3 along axis 1': some indices of one axis, named in English."""
    listed = ", ".join(map(str, picked[:6])) + (", ..." if len(picked) > 6 else "")
    head, _, tail = what.partition(" ")
    if head == "index":  # 'index along axis 1': the numbers go after the noun
        return f"{'index' if len(picked) == 1 else 'indices'} {listed} {tail}"
    return f"{what if len(picked) == 1 else what + 's'} {listed}"


def cotangent_like(ctx: Context, shape: tuple) -> np.ndarray | None:
    """The upstream gradient fed to backward, when it has the gradient's shape (elementwise layers)."""
    g = ctx.cotangent
    return np.asarray(g, dtype=np.float64) if isinstance(g, np.ndarray) and g.shape == shape else None
