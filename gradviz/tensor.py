"""Tensor: the array engine (float64 numpy arrays) on the same op table as Value.

>>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], label="x")
>>> y = (x * x).sum(); y.backward()
>>> x.grad
array([[2., 4.],
       [6., 8.]])
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from . import graph
from .errors import GradvizTypeError, ShapeError, describe
from .ops import elementwise as ew
from .ops import linalg, reduce, shape as shape_ops
from .ops.registry import OpDef
from .tensor_backward import _backpropagate, unbroadcast  # noqa: F401 - unbroadcast is re-exported

_new = object.__new__
_next_id = graph.next_id
_scopes = graph._scope_stack


def as_array(data: object, what: str = "Tensor data") -> np.ndarray:
    """Convert user data to a float array, or explain why it cannot be one.

    Integers, booleans and lists become float64; float32 is kept as is (the
    checkers warn about it and upcast); strings, objects and ragged lists are errors.
    """
    if isinstance(data, Tensor):
        return data.data
    if isinstance(data, (str, bytes)):
        raise GradvizTypeError(f"{what} must be numbers, got {describe(data)}")
    try:
        array = np.asarray(data)
    except ValueError as exc:
        if "inhomogeneous" in str(exc) or "sequence" in str(exc):
            raise ShapeError(
                f"{what} is a ragged nested list (rows of different lengths): {describe(data)}; "
                "every row must have the same length"
            ) from None
        raise GradvizTypeError(f"{what} could not be read as an array: {exc}") from None
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize == 4:
        return array
    if kind in "fiub":
        return array.astype(np.float64, copy=False)
    if kind == "c":
        raise GradvizTypeError(f"{what} must be real numbers, got complex values")
    raise GradvizTypeError(
        f"{what} must be numbers, got an array of dtype {array.dtype} ({describe(data)}); "
        "convert it with np.asarray(..., dtype=float)"
    )


def _record(data, op: OpDef, parents: tuple, attrs: dict | None = None) -> "Tensor":
    """Create the output node of an op (the hot path: no validation)."""
    t = _new(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data, dtype=np.float64)
    t._grad = t._spare = t._saved = None
    t._op = op
    t._parents = parents
    t._attrs = attrs
    t._label = None
    t.scope = _scopes[-1]
    t.id = _next_id()
    requires_grad = False
    for parent in parents:
        if parent.requires_grad:
            requires_grad = True
            break
    t.requires_grad = requires_grad
    return t


def apply(op: OpDef, parents: Sequence["Tensor"], attrs: dict | None = None) -> "Tensor":
    """Run an op's forward on tensors and record the result.

    numpy's shape errors become a ShapeError that names the op and every shape.
    """
    saved = None
    try:
        if op.forward_saving is not None:
            out, saved = op.forward_saving(*[p.data for p in parents], **(attrs or {}))
        elif attrs:
            out = op.forward(*[p.data for p in parents], **attrs)
        elif len(parents) == 2:
            out = op.forward(parents[0].data, parents[1].data)
        elif len(parents) == 1:
            out = op.forward(parents[0].data)
        else:
            out = op.forward(*[p.data for p in parents])
    except (ValueError, IndexError) as exc:
        shapes = " and ".join(str(p.shape) for p in parents)
        raise ShapeError(f"{op.display}: shapes {shapes} do not fit together ({exc})") from None
    node = _record(out, op, tuple(parents), attrs or None)
    node._saved = saved
    return node


def _const(x: object) -> "Tensor":
    if isinstance(x, Tensor):
        return x
    if type(x).__name__ in ("Value", "Constant"):
        raise GradvizTypeError(
            "cannot combine a Tensor with a Value: use one engine per graph "
            "(gv.Tensor(v.data) makes a 0-d tensor, or keep scalars as plain floats)"
        )
    return Tensor(x, requires_grad=False)


class Tensor:
    """An array in a recorded graph: float64 ``data``, ``grad`` of the same shape, label and scope."""

    # _grad: the gradient (None: none yet). _spare: the array of a gradient that
    # zero_grad() forgot, kept for the next backward pass to fill in place.
    # _saved: what the op's forward kept for its backward (OpDef.forward_saving).
    __slots__ = ("data", "_grad", "_spare", "_saved", "_op", "_parents", "_attrs", "_label", "scope", "id",
                 "requires_grad", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    def __init__(self, data: object, label: str | None = None, requires_grad: bool = True):
        self.data = np.array(as_array(data), copy=True)
        self._grad = self._spare = self._saved = None
        self._op = None
        self._parents = ()
        self._attrs = None
        self._label = label
        self.scope = graph._scope_stack[-1]
        self.id = graph.next_id()
        self.requires_grad = bool(requires_grad)

    label = graph.LABEL

    # -- array-like properties ---------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def grad(self) -> np.ndarray:
        """d(root)/d(self) after backward(); zeros before any gradient arrived."""
        if self._grad is None:
            return np.zeros(self.data.shape)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = None if value is None else np.asarray(value, dtype=np.float64)

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        if self.data.size != 1:
            raise ShapeError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return float(self.data.reshape(()))

    # -- arithmetic with broadcasting --------------------------------------------
    def __add__(self, other):
        return apply(ew.ADD, (self, _const(other)))

    def __radd__(self, other):
        return apply(ew.ADD, (_const(other), self))

    def __sub__(self, other):
        return apply(ew.SUB, (self, _const(other)))

    def __rsub__(self, other):
        return apply(ew.SUB, (_const(other), self))

    def __mul__(self, other):
        return apply(ew.MUL, (self, _const(other)))

    def __rmul__(self, other):
        return apply(ew.MUL, (_const(other), self))

    def __truediv__(self, other):
        return apply(ew.DIV, (self, _const(other)))

    def __rtruediv__(self, other):
        return apply(ew.DIV, (_const(other), self))

    def __pow__(self, other):
        if isinstance(other, numbers.Real):
            return apply(ew.POWC, (self,), {"exponent": float(other)})
        return apply(ew.POW, (self, _const(other)))

    def __rpow__(self, other):
        return apply(ew.POW, (_const(other), self))

    def __neg__(self):
        return apply(ew.NEG, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return self.abs()

    def __matmul__(self, other):
        return apply(linalg.MATMUL, (self, _const(other)))

    def __rmatmul__(self, other):
        return apply(linalg.MATMUL, (_const(other), self))

    # -- elementwise functions ---------------------------------------------------
    def exp(self) -> "Tensor":
        return apply(ew.EXP, (self,))

    def log(self) -> "Tensor":
        return apply(ew.LOG, (self,))

    def sqrt(self) -> "Tensor":
        return apply(ew.SQRT, (self,))

    def tanh(self) -> "Tensor":
        return apply(ew.TANH, (self,))

    def sigmoid(self) -> "Tensor":
        return apply(ew.SIGMOID, (self,))

    def relu(self) -> "Tensor":
        return apply(ew.RELU, (self,))

    def abs(self) -> "Tensor":
        return apply(ew.ABS, (self,))

    def sin(self) -> "Tensor":
        return apply(ew.SIN, (self,))

    def cos(self) -> "Tensor":
        return apply(ew.COS, (self,))

    def maximum(self, other) -> "Tensor":
        return apply(ew.MAXIMUM, (self, _const(other)))

    def minimum(self, other) -> "Tensor":
        return apply(ew.MINIMUM, (self, _const(other)))

    def clip(self, lo: float, hi: float) -> "Tensor":
        return apply(ew.CLIP, (self,), {"lo": float(lo), "hi": float(hi)})

    # -- reductions and shape ----------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        return apply(reduce.SUM, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        return apply(reduce.MEAN, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        if self.size == 0:
            raise ShapeError("max() of an empty tensor has no value")
        return apply(reduce.MAX, (self,), {"axis": _axis(axis), "keepdims": keepdims})

    def reshape(self, *shape) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(shape_ops.RESHAPE, (self,), {"shape": tuple(int(n) for n in shape)})

    def transpose(self, *axes) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(shape_ops.TRANSPOSE, (self,), {"axes": tuple(axes) if axes else None})

    def __getitem__(self, index) -> "Tensor":
        if isinstance(index, Tensor):
            index = index.data.astype(np.intp)
        if not isinstance(index, tuple):
            index = (index,)
        return apply(shape_ops.GETITEM, (self,), {"index": index})

    # -- autograd ----------------------------------------------------------------
    def backward(self, grad: object = None) -> None:
        """Backpropagate into every node's ``grad``.

        A tensor with more than one element needs `grad` (the vector in the
        vector-Jacobian product), with exactly its shape. Leaf gradients
        accumulate across calls; interior gradients are recomputed each call.
        """
        seed = self._seed(grad)
        with graph.collector_paused():
            _backpropagate(self, seed)

    def _seed(self, grad: object) -> np.ndarray:
        if grad is None:
            if self.data.size != 1:
                raise ShapeError(
                    f"backward() on a tensor of shape {self.shape} needs a gradient of that shape, "
                    "e.g. y.backward(np.ones(y.shape)), or reduce it first with .sum() or .mean()"
                )
            return np.array(1.0) if self.data.shape == () else np.ones(self.data.shape)
        seed = as_array(grad, "the gradient passed to backward()").astype(np.float64, copy=False)
        if seed.shape != self.data.shape:
            raise ShapeError(
                f"backward(grad): grad has shape {seed.shape} but the tensor has shape {self.shape}; "
                "they must match"
            )
        return seed

    def zero_grad(self) -> None:
        """Forget the gradient. Its array is kept, and the next backward pass writes into it
        (when nothing else holds it) instead of freeing one array and allocating another."""
        if self._grad is not None:
            self._spare = self._grad
            self._grad = None

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label else ""
        body = np.array2string(self.data, precision=4, separator=", ", threshold=20)
        return f"Tensor({body}{name})"


def _axis(axis):
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(int(a) for a in axis)
