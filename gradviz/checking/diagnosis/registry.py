"""The hypothesis library: every cause gradviz can name is one function registered here.

A hypothesis is `(user, reference, context) -> Finding | None`. It returns a
Finding only when its explanation reproduces the user's gradient within the
check's tolerances (or, for weaker patterns, says so in its confidence), so a
diagnosis is never a guess presented as a fact.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .context import Context
from .finding import Finding

Hypothesis = Callable[[np.ndarray, np.ndarray, Context], "Finding | None"]
HYPOTHESES: list[tuple[Hypothesis, bool]] = []  # (function, accepts a gradient of the wrong shape)


def hypothesis(fn: Hypothesis | None = None, *, any_shape: bool = False):
    """Register a hypothesis; `any_shape=True` for those that explain a gradient of the wrong shape."""

    def register(f: Hypothesis) -> Hypothesis:
        HYPOTHESES.append((f, any_shape))
        return f

    return register(fn) if fn is not None else register
