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
    t.label = None
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


def _with_extras(op: OpDef, node: "Tensor", attrs: dict | None, into: tuple | None) -> dict | None:
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


def _const(x: object) -> "Tensor":
    if isinstance(x, Tensor):
        return x
    if type(x).__name__ in ("Value", "Constant"):
        raise GradvizTypeError(
            "cannot combine a Tensor with a Value: use one engine per graph "
            "(gv.Tensor(v.data) makes a 0-d tensor, or keep scalars as plain floats)"
        )
    return Tensor(x, requires_grad=False)


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


class Tensor:
    """An array in a recorded graph: float64 ``data``, ``grad`` of the same shape, label and scope."""

    # _grad: the gradient (None: none yet). _spare: the array of a gradient that
    # zero_grad() forgot, kept for the next backward pass to fill in place.
    # _saved: what the op's forward kept for its backward (OpDef.forward_saving).
    __slots__ = ("data", "_grad", "_spare", "_saved", "_op", "_parents", "_attrs", "label", "scope", "id",
                 "requires_grad", "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` defer to Tensor.__rmul__

    def __init__(self, data: object, label: str | None = None, requires_grad: bool = True):
        self.data = np.array(as_array(data), copy=True)
        self._grad = self._spare = self._saved = None
        self._op = None
        self._parents = ()
        self._attrs = None
        self.label = label
        self.scope = graph._scope_stack[-1]
        self.id = graph.next_id()
        self.requires_grad = bool(requires_grad)

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


def _backpropagate(root: Tensor, seed: np.ndarray) -> None:
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

            grads = normalize_grads(op, grads, len(parents))
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


def _add_to_leaf(leaf: Tensor, g: np.ndarray) -> None:
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


def _axis(axis):
    if axis is None or isinstance(axis, int):
        return axis
    return tuple(int(a) for a in axis)
