"""Reductions: sum, mean, max over an axis (or all axes), with keepdims."""

from __future__ import annotations

import numpy as np

from .registry import Case, OpDef, register


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _spread(g, x_shape, axis, keepdims, scale=1.0):
    """A reduced gradient copied back over the reduced axes (times `scale`)."""
    out = np.empty(x_shape)
    if axis is None:  # one number, whatever keepdims made of its shape
        out.fill(np.asarray(g, dtype=np.float64).item() * scale)
        return out
    g = np.asarray(g, dtype=np.float64)
    if not keepdims:
        axes = _axes(axis, len(x_shape))
        g = g.reshape([1 if i in axes else n for i, n in enumerate(x_shape)])
    out[...] = g * scale if scale != 1.0 else g
    return out


def _sum_backward(g, x, out, axis=None, keepdims=False):
    return (_spread(g, x.shape, axis, keepdims),)


def _mean_backward(g, x, out, axis=None, keepdims=False):
    count = np.prod([x.shape[a] for a in _axes(axis, x.ndim)], dtype=np.float64)
    return (_spread(g, x.shape, axis, keepdims, 1.0 / count),)


def _move_to_end(x, axes):
    """View x with the reduced axes flattened into one last axis."""
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    return moved.reshape(moved.shape[: len(rest)] + (-1,)), rest


def _max_backward(g, x, out, axis=None, keepdims=False):
    """The whole gradient goes to the first maximum of each slice (PyTorch's rule for ties)."""
    axes = _axes(axis, x.ndim)
    flat, rest = _move_to_end(x, axes)
    first = np.argmax(flat, axis=-1)[..., None]
    mask = np.zeros(flat.shape)
    np.put_along_axis(mask, first, 1.0, axis=-1)
    # Undo the flattening and the transpose.
    moved_shape = tuple(x.shape[a] for a in rest) + tuple(x.shape[a] for a in axes)
    mask = mask.reshape(moved_shape).transpose(np.argsort(rest + list(axes)))
    return (mask * _spread(g, x.shape, axis, keepdims),)


def _max_kinks(inputs, attrs, tol):
    """Slices whose two largest entries are within tol of each other (a tie)."""
    x = np.asarray(inputs[0], dtype=np.float64)
    axes = _axes(attrs.get("axis"), x.ndim)
    flat, _ = _move_to_end(x, axes)
    if flat.shape[-1] < 2:
        return np.zeros(flat.shape[:-1], dtype=bool)
    top2 = np.sort(flat, axis=-1)[..., -2:]
    return (top2[..., 1] - top2[..., 0]) <= tol


def _symbolic_reduce(combine):
    def twin(x, axis=None, keepdims=False):
        x = np.asarray(x, dtype=object)
        axes = _axes(axis, x.ndim)
        flat, _ = _move_to_end(x, axes)
        out = np.empty(flat.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = combine(list(flat[index]), flat.shape[-1])
        if keepdims:
            out = out.reshape([1 if a in axes else n for a, n in enumerate(x.shape)])
        return out

    return twin


def _sympy_sum(items, n):
    import sympy

    return sympy.Add(*items)


def _sympy_mean(items, n):
    import sympy

    return sympy.Add(*items) / n


def sympy_max(items, n=None):
    """max of several SymPy expressions as a balanced tree of (a + b + |a - b|) / 2.

    sympy.Max over many arguments differentiates into huge Heaviside products;
    this spelling differentiates into a few sign() factors and stays fast.
    """
    import sympy

    items = list(items)
    while len(items) > 1:
        paired = [(a + b + sympy.Abs(a - b)) / 2 for a, b in zip(items[::2], items[1::2])]
        items = paired + (items[-1:] if len(items) % 2 else [])
    return items[0]


def _reduce_cases(rng):
    x = rng.normal(size=(3, 4))
    cube = rng.normal(size=(2, 3, 4))
    return [
        Case((x,), {}),
        Case((x,), {"axis": 0}),
        Case((x,), {"axis": 1, "keepdims": True}),
        Case((cube,), {"axis": (0, 2)}),
        Case((cube,), {"axis": -1}),
    ]


SUM = register(OpDef(
    "sum", forward=lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims),
    backward=_sum_backward, symbolic=_symbolic_reduce(_sympy_sum), symbol="sum",
    cases=_reduce_cases,
))

MEAN = register(OpDef(
    "mean", forward=lambda x, axis=None, keepdims=False: x.mean(axis=axis, keepdims=keepdims),
    backward=_mean_backward, symbolic=_symbolic_reduce(_sympy_mean), symbol="mean",
    cases=_reduce_cases,
))

MAX = register(OpDef(
    "max", forward=lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims),
    backward=_max_backward, symbolic=_symbolic_reduce(sympy_max), symbol="max",
    cases=_reduce_cases, kinks=_max_kinks,
    kink_reason="max is not differentiable where two entries tie for the maximum",
))
