"""What a backward returns: one gradient (or None) per input.

Both engines and gv.Function check a backward's return value the same way;
the check lives here, beside the op table whose calling convention it
enforces, so that value.py and tensor.py need not import function.py (which
imports them).
"""

from __future__ import annotations

import numpy as np

from ..errors import GradvizTypeError, ShapeError
from .registry import OpDef


def normalize_grads(op: OpDef, grads, n_inputs: int, shapes: tuple | None = None) -> tuple:
    """Check a user backward's return value: one gradient (or None) per input, in that input's shape.

    With `shapes`, a gradient in another shape is an error, not summed down: a user's
    backward that keeps a broadcast axis is a bug the engine must not hide. Built-in ops,
    and user ops declared ``elementwise`` (numpy broadcasting is part of what that means),
    rely on summing back, as PyTorch's engine does for expandable gradients.
    """
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
    for k, (g, shape) in enumerate(zip(grads, () if op.elementwise else shapes or ())):
        got = np.shape(g)
        if g is not None and got != tuple(shape) and not (np.size(g) == 1 and int(np.prod(shape)) == 1):
            raise ShapeError(f"{op.display}.backward returned a gradient of shape {got} for input {k}, which "
                             f"has shape {tuple(shape)}; return each input's gradient in that input's shape"
                             + (" (sum over the broadcast axes)" if len(got) > len(shape) else ""))
    return tuple(grads)
