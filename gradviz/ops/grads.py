"""What a backward returns: one gradient (or None) per input.

Both engines and gv.Function check a backward's return value the same way;
the check lives here, beside the op table whose calling convention it
enforces, so that value.py and tensor.py need not import function.py (which
imports them).
"""

from __future__ import annotations

from ..errors import GradvizTypeError, ShapeError
from .registry import OpDef


def normalize_grads(op: OpDef, grads, n_inputs: int) -> tuple:
    """Check a user backward's return value: one gradient (or None) per input."""
    if n_inputs == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)):
        raise GradvizTypeError(
            f"{op.display}.backward must return a tuple with one gradient per input, got {type(grads).__name__}"
        )
    if len(grads) != n_inputs:
        raise ShapeError(
            f"{op.display}.backward returned {len(grads)} gradients for {n_inputs} inputs; "
            "return one per input (None for an input that gets no gradient)"
        )
    return tuple(grads)
