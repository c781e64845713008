"""The array engine's backward pass: reverse topological order, gradients written in place where safe.

Kept apart from tensor.py (the Tensor class and its operators). Gradients
of inputs nobody needs are skipped (OpDef.skips), a leaf's gradient array is
reused across steps while nothing else holds it, and what a forward saved
(max-pool's winners, conv2d's windows) goes back to its backward.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import graph
from .errors import ShapeError
from .ops.registry import OpDef


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ShapeError(f"a gradient of shape {grad.shape} cannot belong to an input of shape {shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ShapeError(f"a gradient of shape {grad.shape} cannot belong to an input of shape {shape}")
    return grad


def _call_backward(op: OpDef, grad, node, into: tuple | None) -> tuple:
    """op.backward(grad, *input data, out, **attrs), without generic unpacking for 1-2 inputs.

    An op that can skip gradients is told which inputs need one (`needs`), one
    that can write into given arrays gets them (`into`), and one that saved work
    in its forward gets it back (see OpDef.skips, OpDef.fills, OpDef.forward_saving).
    """
    parents = node._parents
    attrs = node._attrs
    if op.skips or into is not None or node._saved is not None:
        attrs = _with_extras(op, node, attrs, into)
    if attrs is None:
        if len(parents) == 2:
            return op.backward(grad, parents[0].data, parents[1].data, node.data)
        if len(parents) == 1:
            return op.backward(grad, parents[0].data, node.data)
        return op.backward(grad, *[p.data for p in parents], node.data)
    return op.backward(grad, *[p.data for p in parents], node.data, **attrs)


def _with_extras(op: OpDef, node: Any, attrs: dict | None, into: tuple | None) -> dict | None:
    """The node's attributes plus what this backward call may use: needs=, into=, the forward's savings."""
    if op.skips:
        needs = tuple([p.requires_grad for p in node._parents])
        if False in needs:
            attrs = dict(attrs or (), needs=needs)
    if into is not None:
        attrs = dict(attrs or (), into=into)
    if node._saved is not None:
        attrs = dict(attrs or (), **node._saved)
    return attrs


def _backpropagate(root: Any, seed: np.ndarray) -> None:
    order = graph.topological_order(root)
    # Computed from zero, then added to the leaves' earlier gradients once,
    # so two calls give exactly twice the gradient (PyTorch's semantics).
    earlier = []
    for node in order:
        if node._grad is not None:
            if node._op is None:
                earlier.append((node, node._grad))
            node._grad = None
    root._grad = np.array(seed) if root._op is None else seed  # a leaf owns its gradient
    for node in reversed(order):
        op = node._op
        grad = node._grad
        if op is None or grad is None or not node.requires_grad:
            continue
        parents = node._parents
        into = _arrays_to_fill(parents) if op.fills else None  # None unless a leaf kept a large array
        grads = _call_backward(op, grad, node, into)
        if not op.builtin:
            from .ops.grads import normalize_grads

            grads = normalize_grads(op, grads, len(parents), tuple(p.data.shape for p in parents))
        if into is not None:
            grads = _settle_filled(parents, grads, into)
        for parent, g in zip(parents, grads):
            if g is not None and parent.requires_grad:
                shape = parent.data.shape
                if type(g) is not np.ndarray or g.shape != shape:
                    g = unbroadcast(g, shape)
                if parent._op is None:
                    _add_to_leaf(parent, g)
                elif parent._grad is None:
                    parent._grad = g
                else:
                    parent._grad = parent._grad + g
    while earlier:
        node, held = earlier.pop()  # now only `held` refers to the earlier gradient (unless the user does)
        this = node._grad
        if this is None:
            node._grad = held
        elif held.size >= IN_PLACE_MIN and _refcount(held) <= _ALONE and held.base is None:
            held += this  # held + this, bit for bit, in the array the leaf already had
            node._grad, node._spare = held, this
        else:
            node._grad = held + this


def _add_to_leaf(leaf: Any, g: np.ndarray) -> None:
    """Add one gradient contribution into a leaf's own array, in place whenever that is safe.

    A leaf's gradient is the array a user reads and an optimizer steps with, so
    it is written in place only while nothing but the leaf refers to it (PyTorch
    accumulates in place under the same condition): an array someone kept from
    ``grad``, or one set through the ``grad`` setter and still held elsewhere,
    is never changed behind their back. The first contribution of a pass goes
    into the array zero_grad() kept, so a training loop allocates no gradient.
    """
    if g.size < IN_PLACE_MIN:  # small: a fresh array costs less than making sure writing is safe
        buf = leaf._grad
        leaf._grad = np.array(g, dtype=np.float64) if buf is None else buf + g
        return
    buf = leaf._grad
    if buf is None:
        buf = leaf._spare
        leaf._spare = None
        if buf is not None and buf.shape == g.shape and _refcount(buf) <= _ALONE and _writable(buf):
            buf[...] = g
            leaf._grad = buf
        else:
            leaf._grad = np.array(g, dtype=np.float64)  # never the caller's array: it may be shared
    elif _refcount(buf) <= _ALONE + 1 and _writable(buf):  # + 1: the leaf's own slot
        buf += g
    else:
        leaf._grad = buf + g


# Below this many elements, writing a gradient in place is not worth its checks:
# numpy allocates a small array faster than the reference count, flags and dtype
# are read (the per-op cost on 4x4 arrays rose by a quarter when every array was
# written in place). Above it, a training step's copies and page faults go away.
IN_PLACE_MIN = 4096


def _arrays_to_fill(parents: tuple) -> tuple | None:
    """For an op that can write gradients into given arrays (OpDef.fills): per input, the
    array zero_grad() kept for a leaf that has no gradient yet in this pass, else None."""
    into = None
    for i, p in enumerate(parents):
        buf = p._spare  # only a leaf ever has one
        if buf is not None and p._grad is None and p.requires_grad:
            if (buf.size >= IN_PLACE_MIN and buf.shape == p.data.shape
                    and _refcount(buf) <= _ALONE + 1 and _writable(buf)):
                p._spare = None
                if into is None:
                    into = [None] * len(parents)
                into[i] = buf
    return None if into is None else tuple(into)


def _settle_filled(parents: tuple, grads: tuple, into: tuple) -> list:
    """After an op wrote into the arrays _arrays_to_fill handed it: each such gradient becomes its
    leaf's gradient as it is (None is left for the caller to add); an array it did not use goes back."""
    grads = list(grads)
    for i, buf in enumerate(into):
        if buf is not None:
            if grads[i] is buf:
                parents[i]._grad = buf
                grads[i] = None
            else:
                parents[i]._spare = buf
    return grads


_FLOAT64 = np.dtype(np.float64)


def _writable(array: np.ndarray) -> bool:
    """An array that owns its float64 memory: writing into it changes nothing else."""
    return array.base is None and array.dtype is _FLOAT64 and array.flags.writeable


try:
    from sys import getrefcount as _refcount
except ImportError:  # an interpreter without reference counts: never write in place
    def _refcount(obj: object) -> int:
        return 1 << 30


def _references_of_a_local() -> int:
    """What _refcount says of an array that only one local variable refers to (interpreters differ)."""
    array = np.empty(0)
    return _refcount(array)


_ALONE = _references_of_a_local()
