"""Small helpers the hypotheses share: which elements matter, and how to name them."""

from __future__ import annotations

import numpy as np


def scale(*arrays: np.ndarray) -> float:
    """The size of the numbers involved (at least 1), for relative thresholds."""
    return max([1.0] + [float(np.max(np.abs(a), initial=0.0)) for a in arrays])


def nonzero(a: np.ndarray, ref_scale: float) -> np.ndarray:
    """Elements that are clearly not zero at this scale."""
    return np.abs(a) > 1e-6 * ref_scale


def index_text(index) -> str:
    index = tuple(int(i) for i in np.atleast_1d(index)) if np.ndim(index) else (int(index),)
    return "[" + ",".join(map(str, index)) + "]"


def some_indices(mask: np.ndarray, limit: int = 3) -> str:
    """The first few indices where `mask` is true, as the report prints them."""
    found = np.argwhere(mask)
    text = ", ".join(index_text(i) for i in found[:limit])
    return text + (", ..." if len(found) > limit else "")


def fraction(mask: np.ndarray) -> str:
    return f"{int(np.count_nonzero(mask))} of {mask.size} elements"
