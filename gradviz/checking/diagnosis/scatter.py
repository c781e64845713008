"""A scatter-add that loses repeated indices: `dW[idx] += dout` where `np.add.at(dW, idx, dout)` belongs.

numpy's buffered `a[idx] += b` writes each repeated index once (the last value wins), so an
embedding or a gather whose backward is written that way drops the other occurrences; torch's
`a[idx] += b` and `a[idx] = b` do the same. The integer index array is found among the op's
arguments; the buffered update is recomputed (with dout times the constant the true gradient
shows, when the forward scales the rows it gathers) and compared with yours. The fix is named in
the user's own library (Context.framework): np.add.at, or torch's index_add_.
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .facts import constant_ratio
from .finding import Finding
from .registry import hypothesis


def _index_arrays(ctx: Context, rows: int, shape: tuple | None = None):
    """Integer arrays among the arguments that index the gradient's first axis and repeat a value."""
    for name, value in ctx.inputs.items():
        if shape is not None and isinstance(value, np.ndarray) and value.shape != shape[:value.ndim]:
            continue  # dout does not have the shape idx.shape + (embedding dims): not the index
        if isinstance(value, (list, tuple)):
            try:
                value = np.asarray(value)
            except (ValueError, TypeError):  # a ragged list ([2, [3]]) is not an index array
                continue
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf" or value.size < 2:
            continue
        if value.dtype.kind == "f":  # a graph holds every argument as floats: indices are whole numbers
            if not np.all(np.isfinite(value)) or np.any(value != np.round(value)):
                continue
            value = value.astype(np.int64)
        if value.min() < -rows or value.max() >= rows:
            continue
        if len(np.unique(value % rows)) < value.size:
            yield name, value


# How each array library accumulates repeated indices: (the fix, in the user's names; what computes it)
ACCUMULATE = {
    "numpy": ("np.add.at({grad}, {idx}, dout)", "np.add.at"),
    "torch": ("{grad}.index_add_(0, {idx}, dout) (or {grad}.index_put_(({idx},), dout, accumulate=True))",
              "index_add_"),
}


@hypothesis
def repeated_indices_lost(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    g = ctx.cotangent
    if not isinstance(g, np.ndarray) or user.ndim < 1:
        return None
    for name, idx in _index_arrays(ctx, user.shape[0], g.shape):
        if g.shape != idx.shape + user.shape[1:]:
            continue
        accumulated = np.zeros(user.shape)
        np.add.at(accumulated, idx, g)
        # dout may reach the table scaled (a transformer's sqrt(d_model)): the scale is read off the true gradient
        factor = constant_ratio(ref, accumulated)
        if factor is None:
            continue
        buffered = np.zeros(user.shape)
        buffered[idx] += g * factor  # the user's slip, replayed: one write per distinct index
        name = name if name.isidentifier() else "idx"  # an unlabelled graph constant ("input 1")
        if ctx.close(user, buffered) and not ctx.close(buffered, ref):
            repeats = int(idx.size - len(np.unique(idx)))
            grad = f"d{ctx.name}" if ctx.name else "the gradient"
            fix, accumulating = ACCUMULATE.get(ctx.framework, ACCUMULATE["numpy"])
            return Finding(f"repeated indices are lost: {grad}[{name}] += dout keeps one of each repeated index "
                           f"in {name} ({repeats} repeat{'s' if repeats != 1 else ''} dropped); accumulate them with "
                           f"{fix.format(grad=grad, idx=name)}", cause="repeated_indices_lost", confidence=0.95,
                           evidence=f"the buffered update zeros[{name}] += dout reproduces yours; {accumulating} "
                                    "gives the true gradient")
    return None
