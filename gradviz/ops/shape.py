"""Ops that move data without arithmetic: reshape, transpose, indexing, joining, where."""

from __future__ import annotations

import numpy as np

from .registry import Case, OpDef, register


def _reshape_backward(g, x, out, shape):
    return (np.reshape(g, x.shape),)


RESHAPE = register(OpDef(
    "reshape", forward=lambda x, shape: np.reshape(x, shape), backward=_reshape_backward,
    symbolic=lambda x, shape: np.reshape(x, shape), symbol="reshape",
    cases=lambda rng: [Case((rng.normal(size=(2, 6)),), {"shape": (3, 4)}),
                       Case((rng.normal(size=(2, 3, 2)),), {"shape": (-1,)})],
))


def _transpose_backward(g, x, out, axes=None):
    inverse = None if axes is None else tuple(np.argsort(axes))
    return (np.transpose(g, inverse),)


TRANSPOSE = register(OpDef(
    "transpose", forward=lambda x, axes=None: np.transpose(x, axes),
    backward=_transpose_backward, symbolic=lambda x, axes=None: np.transpose(x, axes),
    symbol="transpose",
    cases=lambda rng: [Case((rng.normal(size=(2, 3)),), {}),
                       Case((rng.normal(size=(2, 3, 4)),), {"axes": (1, 2, 0)})],
))


def _getitem_backward(g, x, out, index):
    grad = np.zeros(x.shape)
    np.add.at(grad, index, g)  # add.at: repeated integer indices accumulate
    return (grad,)


GETITEM = register(OpDef(
    "getitem", forward=lambda x, index: x[index], backward=_getitem_backward,
    symbolic=lambda x, index: np.asarray(x, dtype=object)[index], symbol="[]",
    cases=lambda rng: [
        Case((rng.normal(size=(3, 4)),), {"index": (slice(1, None), slice(None, None, 2))}),
        Case((rng.normal(size=(4,)),), {"index": (np.array([0, 2, 2]),)}),
        Case((rng.normal(size=(3, 4)),), {"index": (1,)}),
    ],
))


def _split_backward(g, *xs_and_out, axis, stacked):
    xs = xs_and_out[:-1]
    if stacked:
        return tuple(np.take(g, i, axis=axis) for i in range(len(xs)))
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(g, bounds, axis=axis))


CONCATENATE = register(OpDef(
    "concatenate", arity=None,
    forward=lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    backward=lambda g, *xs_and_out, axis=0: _split_backward(g, *xs_and_out, axis=axis, stacked=False),
    symbolic=lambda *xs, axis=0: np.concatenate([np.asarray(x, dtype=object) for x in xs], axis=axis),
    symbol="concat",
    cases=lambda rng: [Case((rng.normal(size=(2, 3)), rng.normal(size=(1, 3))), {"axis": 0}),
                       Case((rng.normal(size=(2, 1)), rng.normal(size=(2, 2))), {"axis": 1})],
))

STACK = register(OpDef(
    "stack", arity=None,
    forward=lambda *xs, axis=0: np.stack(xs, axis=axis),
    backward=lambda g, *xs_and_out, axis=0: _split_backward(g, *xs_and_out, axis=axis, stacked=True),
    symbolic=lambda *xs, axis=0: np.stack([np.asarray(x, dtype=object) for x in xs], axis=axis),
    symbol="stack",
    cases=lambda rng: [Case((rng.normal(size=(2, 3)), rng.normal(size=(2, 3))), {"axis": 1})],
))


def _where_backward(g, a, b, out, condition):
    return (np.where(condition, g, 0.0), np.where(condition, 0.0, g))


WHERE = register(OpDef(
    "where", arity=2,
    forward=lambda a, b, condition: np.where(condition, a, b),
    backward=_where_backward,
    symbolic=lambda a, b, condition: np.where(condition, np.asarray(a, dtype=object),
                                              np.asarray(b, dtype=object)),
    symbol="where",
    cases=lambda rng: [Case((rng.normal(size=(2, 3)), rng.normal(size=(2, 3))),
                            {"condition": rng.normal(size=(2, 3)) > 0}),
                       Case((rng.normal(size=(2, 3)), rng.normal(size=(3,))),
                            {"condition": np.array([True, False, True])})],
))
