"""The scalar engine's backward pass: reverse mode over a flat order, with no recursion and no visited set.

Kept apart from value.py (the Value class and its operators) so each reads on
its own; nodes are read through their slots (`_a`, `_b`, `_op`, `grad`), so
this module needs nothing from value.py.
"""

from __future__ import annotations

import numbers
from operator import attrgetter
from typing import Any

import numpy as np

from . import graph
from .errors import GradvizTypeError, NumericWarning, describe, warn_at_user
from .ops.registry import OpDef

# A node stores its parents in two slots, `_a` and `_b`, rather than in a tuple:
# one allocation less per node, which shows in time, memory and in the work of
# Python's cycle collector on big graphs. `_b` is None for a one-input op, and
# _MANY for an op of any number of inputs (gv.Function, affine), whose parents are then the tuple in `_a`.
# `node._parents` gives the tuple every reader of the graph expects.
_MANY = object()


def _to_float(x: object, what: str = "Value") -> float:
    if type(x).__name__ == "Tensor":
        raise GradvizTypeError(
            f"{what}: cannot combine a Value with a Tensor; use one engine per graph "
            "(gv.Tensor for arrays, gv.Value for scalars)"
        )
    if isinstance(x, (bool, numbers.Real)) or (isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "fiub"):
        return float(x)
    if isinstance(x, np.ndarray):
        raise GradvizTypeError(
            f"{what} holds one number, got an array of shape {x.shape}; use gv.Tensor for arrays"
        )
    raise GradvizTypeError(
        f"{what} needs a real number, got {describe(x)}; convert it first, e.g. float(...)"
    )


def _backpropagate(root: Any) -> None:
    """Reverse mode over the op nodes `root` depends on, latest recorded first (no recursion).

    Leaf gradients accumulate across calls (PyTorch's semantics), but this
    call's gradient is computed from zero and added to what a leaf held before
    once, at the end, so calling backward twice gives exactly twice the
    gradient, bit for bit. Interior gradients are recomputed from zero.
    """
    if root._op is None:  # a lone leaf: d(root)/d(root)
        root.grad = root.grad + 1.0
        return
    order, earlier = _reverse_order(root)
    try:
        _accumulate(root, order)
    except BaseException:
        for node in order:  # leave no node marked as visited (see _reverse_order)
            node.grad = 0.0
        for leaf, grad in earlier:
            leaf.grad = grad
        raise
    for leaf, grad in earlier:
        leaf.grad = grad + leaf.grad


# While one backward pass runs, "this node has been reached" is written into the
# node itself: its gradient is reset to this one float object, which is 0.0 like
# any other zero but is recognised by identity. A visited set of millions of
# nodes would cost a hash insertion per node and tens of megabytes. Every node
# that is reached receives at least one `+=` before the pass ends (a new float
# object), so no node keeps the mark afterwards.
_REACHED = float("0.0")


def _reverse_order(root: Any) -> tuple[list, list]:
    """The op nodes below `root`, latest recorded first, their gradients reset to zero; and the
    (leaf, gradient before this pass) pairs of the leaves that will receive gradient and held
    a nonzero one, reset too (0.0 + this pass's gradient is this pass's gradient, bit for bit).

    One pass with an explicit stack; constants (leaves that take no gradient)
    are left alone. A parent is always recorded before its child, so sorting
    by recording id, descending, is a reverse topological order.
    """
    reached = _REACHED
    root.grad = reached
    order = [root]
    earlier = []
    stack = [root._a] if root._b is None else list(root._a) if root._b is _MANY else [root._a, root._b]
    pop, push, extend, append = stack.pop, stack.append, stack.extend, order.append
    while stack:
        node = pop()
        if node.grad is reached or not node.requires_grad:  # seen, or a constant
            continue
        if node._op is None:
            if node.grad:  # after zero_grad() (the usual case) there is nothing to add back
                earlier.append((node, node.grad))
            node.grad = reached
            continue
        node.grad = reached
        append(node)
        b = node._b
        if b is None:
            push(node._a)
        elif b is _MANY:
            extend(node._a)
        else:
            push(node._a)
            push(b)
    order.sort(key=_by_id, reverse=True)
    return order, earlier


_by_id = graph._by_id
_data = attrgetter("data")


def _accumulate(root: Any, order: list) -> None:
    """Each node's gradient times its op's vector-Jacobian product, added into its parents."""
    root.grad = 1.0
    for node in order:
        op = node._op
        a = node._a
        b = node._b
        if b is None:  # one float input
            try:
                if node._attrs is None:
                    backward = op.backward  # a plain attribute load: faster than a method-style lookup
                    (ga,) = backward(node.grad, a.data, node.data)
                else:
                    (ga,) = op.backward(node.grad, a.data, node.data, **node._attrs)
            except ZeroDivisionError:
                (ga,) = _ieee_backward(op, node)
            if a.requires_grad:
                a.grad += ga
        elif b is not _MANY:  # two float inputs
            try:
                backward = op.backward
                ga, gb = backward(node.grad, a.data, b.data, node.data)
            except ZeroDivisionError:
                ga, gb = _ieee_backward(op, node)
            if a.requires_grad:
                a.grad += ga
            if b.requires_grad:
                b.grad += gb
        elif op.builtin:  # a built-in op of any number of inputs (a neuron's affine sum)
            try:
                backward = op.backward
                grads = backward(node.grad, *map(_data, a), node.data)
            except ZeroDivisionError:
                grads = _ieee_backward(op, node)
            for parent, g in zip(a, grads):
                if parent.requires_grad:
                    parent.grad += g
        else:  # a user op: any number of inputs, its gradients validated
            grads = op.backward(node.grad, *[p.data for p in a], node.data)
            for parent, g in zip(a, _checked_user_grads(op, grads, len(a))):
                if g is not None and parent.requires_grad:
                    parent.grad += g
                elif parent.grad is _REACHED:
                    parent.grad = 0.0  # reached, but given no gradient: drop the mark


def _ieee_backward(op: OpDef, node: Any) -> tuple:
    """A built-in backward that divided by zero in Python floats, redone in IEEE float64 like Tensor.

    Python raises ZeroDivisionError where numpy and PyTorch give inf (the
    gradient of sqrt or log at 0): the scalar engine follows IEEE and warns.
    """
    args = [np.float64(p.data) for p in node._parents]
    with np.errstate(divide="ignore", invalid="ignore"):
        grads = op.backward(np.float64(node.grad), *args, np.float64(node.data), **(node._attrs or {}))
    grads = tuple(float(g) for g in grads)
    inputs = ", ".join(f"{p.data:g}" for p in node._parents)
    warn_at_user(f"the gradient of {op.display}({inputs}) divides by zero; it is {', '.join(map(str, grads))} "
                 "(IEEE float semantics, as in numpy and PyTorch)", NumericWarning)
    return grads


def _checked_user_grads(op: OpDef, grads, n_inputs: int) -> tuple:
    """Validate what a user op's backward returned, as a clear error if it is wrong."""
    from .ops.grads import normalize_grads

    return tuple(None if g is None else _to_float(g, f"the gradient from {op.name}.backward")
                 for g in normalize_grads(op, grads, n_inputs))
