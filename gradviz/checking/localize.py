"""Stage 6 for directional checks: which input is wrong, and its worst elements, at bounded cost.

Random directions through all inputs say *that* a gradient is wrong, not
which. Each input is re-checked alone along a few directions of its own; a
wrong input is then re-checked element by element, whole when it is small
and at a random sample of its elements when it is large, so the report still
names the worst elements without paying one evaluation pair per element of a
784x256 weight matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import finite as fd
from .tolerance import Tolerance

OWN_DIRECTIONS = 3  # directions per input when several inputs share the blame
WHOLE_LIMIT = 100  # a wrong input this small is re-checked at every element
SAMPLE = 48  # elements re-checked in a larger wrong input


@dataclass
class Located:
    """A wrong input's finite differences at some of its elements (flat indices), or at all of them."""

    index: int  # which input
    elements: np.ndarray | None  # flat indices re-checked; None = every element
    differences: fd.Differences  # at those elements (flat when sampled, the input's shape when whole)


def wrong_inputs(loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float, tol: Tolerance,
                 rng: np.random.Generator) -> list[int]:
    """The inputs whose own directional derivatives disagree (all of them when there is only one)."""
    if len(arrays) == 1:
        return [0]
    wrong = []
    for i, (a, g) in enumerate(zip(arrays, yours)):
        if a.size == 0:
            continue
        for _ in range(OWN_DIRECTIONS):
            d = rng.normal(size=a.shape)
            d /= np.linalg.norm(d) or 1.0
            direction = [d if j == i else np.zeros(x.shape) for j, x in enumerate(arrays)]
            central, fwd, bwd = fd.directional_difference(loss, arrays, direction, tol.eps, base)
            analytic = float(np.sum(g * d))
            crosses_kink = abs(fwd - bwd) > 10 * (tol.atol + tol.rtol * max(abs(fwd), abs(bwd)))
            if not crosses_kink and abs(analytic - central) > tol.atol + tol.rtol * abs(central):
                wrong.append(i)
                break
    return wrong


def locate(loss, arrays: list[np.ndarray], index: int, base: float, tol: Tolerance,
           rng: np.random.Generator) -> Located:
    """Central differences of one wrong input, whole or at a sample of its elements."""
    target = arrays[index]
    if target.size <= WHOLE_LIMIT:
        diffs = fd.full_differences(lambda _: loss(arrays), [target], tol.eps, base)[0]
        return Located(index, None, diffs)
    elements = np.sort(rng.choice(target.size, size=SAMPLE, replace=False))
    flat = target.reshape(-1)
    fwd, bwd = fd.one_sided_slopes(lambda _: loss(arrays), flat, tol.eps, base, coords=elements)
    fwd, bwd = fwd[elements], bwd[elements]
    return Located(index, elements, fd.Differences((fwd + bwd) / 2, fwd, bwd))
