"""Value: the scalar engine, micrograd-compatible, recording into the shared graph.

>>> a = Value(0.5, label="a")
>>> out = (a * 3 + 1).tanh(); out.backward()
>>> round(a.grad, 4)   # 3 * (1 - tanh(2.5)**2)
0.0798
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from . import graph
from .errors import GradvizTypeError, NumericWarning, describe
from .ops import elementwise as ew
from .ops.registry import OpDef

_new = object.__new__
_next_id = graph.next_id
_scopes = graph._scope_stack


def _record(data: float, op: OpDef, parents: tuple, attrs: dict | None = None) -> "Value":
    """Create the output node of an op (the hot path: no validation)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._op = op
    v._parents = parents
    v._attrs = attrs
    v.label = None
    v.scope = _scopes[-1]
    v.id = _next_id()
    v.requires_grad = True
    return v


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


def _const(x: object) -> "Value":
    """Wrap a plain number that meets a Value in an expression (a constant leaf)."""
    if isinstance(x, Value):
        return x
    if type(x) is not float:
        x = _to_float(x, "a number combined with a Value")
    v = _record(x, None, ())
    v.requires_grad = False
    return v


class Value:
    """A scalar in a recorded graph: ``data`` (float), ``grad`` (float), label and scope."""

    __slots__ = ("data", "grad", "_op", "_parents", "_attrs", "label", "scope", "id", "requires_grad", "__weakref__")

    def __init__(self, data: float, label: str | None = None, requires_grad: bool = True):
        self.data = _to_float(data)
        self.grad = 0.0
        self._op = None
        self._parents = ()
        self._attrs = None
        self.label = label
        self.scope = _scopes[-1]
        self.id = _next_id()
        self.requires_grad = requires_grad

    # -- arithmetic ------------------------------------------------------------
    def __add__(self, other):
        other = other if type(other) is Value else _const(other)
        return _record(self.data + other.data, ew.ADD, (self, other))

    def __radd__(self, other):
        other = _const(other)
        return _record(other.data + self.data, ew.ADD, (other, self))

    def __sub__(self, other):
        other = other if type(other) is Value else _const(other)
        return _record(self.data - other.data, ew.SUB, (self, other))

    def __rsub__(self, other):
        other = _const(other)
        return _record(other.data - self.data, ew.SUB, (other, self))

    def __mul__(self, other):
        other = other if type(other) is Value else _const(other)
        return _record(self.data * other.data, ew.MUL, (self, other))

    def __rmul__(self, other):
        other = _const(other)
        return _record(other.data * self.data, ew.MUL, (other, self))

    def __truediv__(self, other):
        other = other if type(other) is Value else _const(other)
        return _record(_divide(self.data, other.data), ew.DIV, (self, other))

    def __rtruediv__(self, other):
        other = _const(other)
        return _record(_divide(other.data, self.data), ew.DIV, (other, self))

    def __pow__(self, other):
        if isinstance(other, Value):
            return _record(ew.POW.forward(self.data, other.data), ew.POW, (self, other))
        exponent = _to_float(other, "the exponent of a Value")
        return _record(ew.POWC.forward(self.data, exponent), ew.POWC, (self,), {"exponent": exponent})

    def __rpow__(self, other):
        other = _const(other)
        return _record(ew.POW.forward(other.data, self.data), ew.POW, (other, self))

    def __neg__(self):
        return _record(-self.data, ew.NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    # -- functions -------------------------------------------------------------
    def exp(self) -> "Value":
        return _record(ew.EXP.forward(self.data), ew.EXP, (self,))

    def log(self) -> "Value":
        return _record(ew.LOG.forward(self.data), ew.LOG, (self,))

    def sqrt(self) -> "Value":
        return _record(ew.SQRT.forward(self.data), ew.SQRT, (self,))

    def tanh(self) -> "Value":
        return _record(ew.TANH.forward(self.data), ew.TANH, (self,))

    def sigmoid(self) -> "Value":
        return _record(ew.SIGMOID.forward(self.data), ew.SIGMOID, (self,))

    def relu(self) -> "Value":
        return _record(ew.RELU.forward(self.data), ew.RELU, (self,))

    def abs(self) -> "Value":
        return _record(ew.ABS.forward(self.data), ew.ABS, (self,))

    def sin(self) -> "Value":
        return _record(ew.SIN.forward(self.data), ew.SIN, (self,))

    def cos(self) -> "Value":
        return _record(ew.COS.forward(self.data), ew.COS, (self,))

    def maximum(self, other) -> "Value":
        other = other if type(other) is Value else _const(other)
        return _record(ew.MAXIMUM.forward(self.data, other.data), ew.MAXIMUM, (self, other))

    def minimum(self, other) -> "Value":
        other = other if type(other) is Value else _const(other)
        return _record(ew.MINIMUM.forward(self.data, other.data), ew.MINIMUM, (self, other))

    def clip(self, lo: float, hi: float) -> "Value":
        lo, hi = float(lo), float(hi)
        return _record(ew.CLIP.forward(self.data, lo, hi), ew.CLIP, (self,), {"lo": lo, "hi": hi})

    # -- autograd --------------------------------------------------------------
    def backward(self) -> None:
        """Backpropagate d(self)/d(node) into every node's ``grad``.

        PyTorch semantics: leaf gradients accumulate across calls (call
        ``zero_grad()`` between steps); interior gradients are recomputed
        from zero on every call, so calling backward twice gives exactly
        twice the leaf gradients.
        """
        with graph.collector_paused():
            _backpropagate(self)

    def zero_grad(self) -> None:
        """Reset this node's gradient (modules and optimizers reset all their parameters)."""
        self.grad = 0.0

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"


def _backpropagate(root: Value) -> None:
    order = graph.topological_order(root)
    # This call's gradient is computed from zero everywhere, then added to
    # what the leaves held before, once: so two calls give exactly twice.
    earlier = []
    for node in order:
        if node._op is None and node.grad != 0.0:
            earlier.append((node, node.grad))
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        parents = node._parents
        if op.builtin:  # the hot path: one or two float inputs, one float gradient each
            if len(parents) == 2:
                a, b = parents
                try:
                    ga, gb = op.backward(node.grad, a.data, b.data, node.data)
                except ZeroDivisionError:
                    ga, gb = _ieee_backward(op, node)
                if a.requires_grad:
                    a.grad += ga
                if b.requires_grad:
                    b.grad += gb
            else:
                a = parents[0]
                try:
                    if node._attrs is None:
                        (ga,) = op.backward(node.grad, a.data, node.data)
                    else:
                        (ga,) = op.backward(node.grad, a.data, node.data, **node._attrs)
                except ZeroDivisionError:
                    (ga,) = _ieee_backward(op, node)
                if a.requires_grad:
                    a.grad += ga
            continue
        grads = op.backward(node.grad, *[p.data for p in parents], node.data)
        for parent, g in zip(parents, _checked_user_grads(op, grads, len(parents))):
            if g is not None and parent.requires_grad:
                parent.grad += g
    for node, grad in earlier:
        node.grad = grad + node.grad


def _ieee_backward(op: OpDef, node: "Value") -> tuple:
    """A built-in backward that divided by zero in Python floats, redone in IEEE float64 like Tensor.

    Python raises ZeroDivisionError where numpy and PyTorch give inf (the
    gradient of sqrt or log at 0): the scalar engine follows IEEE and warns.
    """
    args = [np.float64(p.data) for p in node._parents]
    with np.errstate(divide="ignore", invalid="ignore"):
        grads = op.backward(np.float64(node.grad), *args, np.float64(node.data), **(node._attrs or {}))
    grads = tuple(float(g) for g in grads)
    inputs = ", ".join(f"{p.data:g}" for p in node._parents)
    warnings.warn(f"the gradient of {op.display}({inputs}) divides by zero; it is {', '.join(map(str, grads))} "
                  "(IEEE float semantics, as in numpy and PyTorch)", NumericWarning, stacklevel=4)
    return grads


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return ew.DIV.forward(np.float64(a), np.float64(b)).item()


def _checked_user_grads(op: OpDef, grads, n_inputs: int) -> tuple:
    """Validate what a user op's backward returned, as a clear error if it is wrong."""
    from .ops.grads import normalize_grads

    return tuple(None if g is None else _to_float(g, f"the gradient from {op.name}.backward")
                 for g in normalize_grads(op, grads, n_inputs))
