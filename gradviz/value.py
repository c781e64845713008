"""Value: the scalar engine, micrograd-compatible, recording into the shared graph.

>>> a = Value(0.5, label="a")
>>> out = (a * 3 + 1).tanh(); out.backward()
>>> round(a.grad, 4)   # 3 * (1 - tanh(2.5)**2)
0.0798
"""

from __future__ import annotations

from gc import disable as _gc_disable, enable as _gc_enable, isenabled as _gc_isenabled
from itertools import chain
from operator import attrgetter

import numpy as np

from . import graph
from .ops import elementwise as ew
from .ops.linalg import AFFINE
from .ops.registry import OpDef
from .value_backward import _MANY, _backpropagate, _to_float

_new = object.__new__
_next_id = graph.next_id
_scopes = graph._scope_stack
_ADD, _SUB, _MUL = ew.ADD, ew.SUB, ew.MUL
_chain = chain.from_iterable
_affine_forward = AFFINE.forward
_data = attrgetter("data")



def _record(data: float, op: OpDef, a: "Value", b: object = None, attrs: dict | None = None) -> "Value":
    """Create the output node of an op (the hot path: no validation)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._op = op
    v._a = a
    v._b = b
    v._attrs = attrs
    v._label = None
    v.scope = _scopes[-1]
    v.id = _next_id()
    v.requires_grad = True
    return v


def record(data: float, op: OpDef, parents: tuple) -> "Value":
    """The output node of a user op (gv.Function) with any number of parents."""
    return _record(data, op, tuple(parents), _MANY)


def affine(b: "Value", w: list, x) -> "Value":
    """b + w0*x0 + w1*x1 + ... as one node (the op table's affine): a neuron's weighted sum.

    What sum(w * x, b) computes, with the same numbers forward and backward,
    but one node instead of 2n: a scalar network is mostly these sums, and a
    node is what the engine pays for. Plain numbers in x become constants.
    """
    parents = (b, *_chain(zip(w, [xi if type(xi) is Value else _const(xi) for xi in x])))
    out = _new(Value)  # _record's body: the call is a tenth of a neuron's cost
    out.data = _affine_forward(*map(_data, parents))
    out.grad = 0.0
    out._op = AFFINE
    out._a = parents
    out._b = _MANY
    out._attrs = out._label = None
    out.scope = _scopes[-1]
    out.id = _next_id()
    out.requires_grad = True
    return out


class Constant:
    """A plain number that met a Value in an expression (`w * 2.0`): a leaf that takes no gradient.

    Constants are as common as the ops that use them (every input of a scalar
    network's first layer is one), so they are a lighter node than a Value:
    only what differs between constants (data, scope, id) is stored; the rest
    is what every constant has (no op, no parents, no gradient) and is read
    from the class. Readers of the graph see the same attributes as on a Value.
    """

    __slots__ = ("data", "scope", "id", "__weakref__")
    grad = 0.0
    requires_grad = False
    label = None
    _op = None
    _a = _b = _attrs = None
    _parents = ()

    def item(self) -> float:
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        return f"Constant({self.data:.6g})"


def _const(x: object) -> "Value | Constant":
    """Wrap a plain number that meets a Value in an expression (a constant leaf)."""
    kind = type(x)
    if kind is not float:
        if kind is int or kind is np.float64:  # a course's inputs, a numpy array's elements
            x = float(x)
        elif isinstance(x, (Value, Constant)):
            return x
        else:
            x = _to_float(x, "a number combined with a Value")
    c = _new(Constant)
    c.data = x
    c.scope = _scopes[-1]
    c.id = _next_id()
    return c


class Value:
    """A scalar in a recorded graph: ``data`` (float), ``grad`` (float), label and scope."""

    __slots__ = ("data", "grad", "_op", "_a", "_b", "_attrs", "_label", "scope", "id", "requires_grad",
                 "__weakref__")

    def __init__(self, data: float, label: str | None = None, requires_grad: bool = True):
        self.data = _to_float(data)
        self.grad = 0.0
        self._op = None
        self._a = self._b = None
        self._attrs = None
        self._label = label
        self.scope = _scopes[-1]
        self.id = _next_id()
        self.requires_grad = requires_grad

    @property
    def _parents(self) -> tuple:
        """The op's inputs in argument order (`a - b`: (a, b)); () for a leaf."""
        a, b = self._a, self._b
        if b is None:
            return () if a is None else (a,)
        return a if b is _MANY else (a, b)

    label = graph.LABEL

    # -- arithmetic ------------------------------------------------------------
    # +, - and * are what scalar networks are made of: their nodes are built
    # here without a call to _record (the call is a fifth of a node's cost).
    def __add__(self, other):
        if type(other) is not Value:
            other = _const(other)
        out = _new(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out._op = _ADD
        out._a = self
        out._b = other
        out._attrs = out._label = None
        out.scope = _scopes[-1]
        out.id = _next_id()
        out.requires_grad = True
        return out

    def __radd__(self, other):
        other = _const(other)
        return _record(other.data + self.data, _ADD, other, self)

    def __sub__(self, other):
        if type(other) is not Value:
            other = _const(other)
        out = _new(Value)
        out.data = self.data - other.data
        out.grad = 0.0
        out._op = _SUB
        out._a = self
        out._b = other
        out._attrs = out._label = None
        out.scope = _scopes[-1]
        out.id = _next_id()
        out.requires_grad = True
        return out

    def __rsub__(self, other):
        other = _const(other)
        return _record(other.data - self.data, _SUB, other, self)

    def __mul__(self, other):
        if type(other) is not Value:
            other = _const(other)
        out = _new(Value)
        out.data = self.data * other.data
        out.grad = 0.0
        out._op = _MUL
        out._a = self
        out._b = other
        out._attrs = out._label = None
        out.scope = _scopes[-1]
        out.id = _next_id()
        out.requires_grad = True
        return out

    def __rmul__(self, other):
        other = _const(other)
        return _record(other.data * self.data, _MUL, other, self)

    def __truediv__(self, other):
        other = other if type(other) is Value else _const(other)
        return _record(_divide(self.data, other.data), ew.DIV, self, other)

    def __rtruediv__(self, other):
        other = _const(other)
        return _record(_divide(other.data, self.data), ew.DIV, other, self)

    def __pow__(self, other):
        if isinstance(other, (Value, Constant)):  # a node (a Constant is a node that takes no gradient)
            return _record(ew.POW.forward(self.data, other.data), ew.POW, self, other)
        exponent = float(other) if type(other) in (int, float) else _to_float(other, "the exponent of a Value")
        return _record(ew.POWC.forward(self.data, exponent), ew.POWC, self, None, {"exponent": exponent})

    def __rpow__(self, other):
        other = _const(other)
        return _record(ew.POW.forward(other.data, self.data), ew.POW, other, self)

    def __neg__(self):
        return _record(-self.data, ew.NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    # -- functions -------------------------------------------------------------
    def exp(self) -> "Value":
        return _record(ew.EXP.forward(self.data), ew.EXP, self)

    def log(self) -> "Value":
        return _record(ew.LOG.forward(self.data), ew.LOG, self)

    def sqrt(self) -> "Value":
        return _record(ew.SQRT.forward(self.data), ew.SQRT, self)

    def tanh(self) -> "Value":
        return _record(ew.TANH.forward(self.data), ew.TANH, self)

    def sigmoid(self) -> "Value":
        return _record(ew.SIGMOID.forward(self.data), ew.SIGMOID, self)

    def relu(self) -> "Value":
        return _record(ew.RELU.forward(self.data), ew.RELU, self)

    def abs(self) -> "Value":
        return _record(ew.ABS.forward(self.data), ew.ABS, self)

    def sin(self) -> "Value":
        return _record(ew.SIN.forward(self.data), ew.SIN, self)

    def cos(self) -> "Value":
        return _record(ew.COS.forward(self.data), ew.COS, self)

    def maximum(self, other) -> "Value":
        other = other if type(other) is Value else _const(other)
        return _record(ew.MAXIMUM.forward(self.data, other.data), ew.MAXIMUM, self, other)

    def minimum(self, other) -> "Value":
        other = other if type(other) is Value else _const(other)
        return _record(ew.MINIMUM.forward(self.data, other.data), ew.MINIMUM, self, other)

    def clip(self, lo: float, hi: float) -> "Value":
        lo, hi = float(lo), float(hi)
        return _record(ew.CLIP.forward(self.data, lo, hi), ew.CLIP, self, None, {"lo": lo, "hi": hi})

    # -- autograd --------------------------------------------------------------
    def backward(self) -> None:
        """Backpropagate d(self)/d(node) into every node's ``grad``.

        PyTorch semantics: leaf gradients accumulate across calls (call
        ``zero_grad()`` between steps); interior gradients are recomputed
        from zero on every call, so calling backward twice gives exactly
        twice the leaf gradients.
        """
        enabled = _gc_isenabled()  # the collector paused as graph.collector_paused() does, without its calls
        _gc_disable()
        try:
            _backpropagate(self)
        finally:
            if enabled:
                _gc_enable()

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


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return ew.DIV.forward(np.float64(a), np.float64(b)).item()
