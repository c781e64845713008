"""The scalar the probes differentiate: sum(forward(arrays) * R), whose gradient is the VJP with R.

For a loss (no cotangent) it is the output itself. Restricted to the compared
inputs, the others stay at their values.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .subject import Subject


def loss_of(s: Subject, cot, probed=None) -> Callable[[list], float]:
    """sum(forward(arrays) * R): the scalar whose gradient is the VJP with R (the output itself for a loss)."""
    output = s.output if probed is None else probed.recording(s.output)

    def loss(arrays: list) -> float:  # on the hot path of full mode: no temporaries beyond the dot product
        out = np.asarray(output(arrays), dtype=np.float64)
        if cot is None:
            return float(out.sum())
        return float(np.vdot(out, cot)) if out.shape == cot.shape else float((out * cot).sum())

    return loss


def restricted_loss(s: Subject, arrays: list[np.ndarray], cot, compared: list[int],
                    probed=None) -> Callable[[list], float]:
    """The loss as a function of the compared inputs only; the others stay at their values."""
    loss = loss_of(s, cot, probed)
    if len(compared) == len(arrays):
        return loss

    def restricted(values: list) -> float:
        merged = list(arrays)
        for k, v in zip(compared, values):
            merged[k] = v
        return loss(merged)

    return restricted
