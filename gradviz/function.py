"""gv.Function: a user's own op, recorded, drawn and checked exactly like a built-in.

>>> import gradviz as gv
>>> class Square(gv.Function):
...     @staticmethod
...     def forward(x): return x * x
...     @staticmethod
...     def backward(grad, x, out): return (2 * x * grad,)
...     @staticmethod
...     def symbolic(x): return x ** 2
>>> y = Square.apply(gv.Value(3.0)); y.backward(); y.data
9.0
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from . import tensor as tensor_mod
from .errors import GradvizError, GradvizTypeError
from .ops.grads import normalize_grads  # noqa: F401  (gradviz.function.normalize_grads, as before)
from .ops.registry import OpDef, register
from .tensor import Tensor
from .value import Value, _to_float
from .value import record as _record_value

_serial = itertools.count()


class Function:
    """Subclass with static ``forward(*inputs)``, ``backward(grad, *inputs, out)``
    and optionally ``symbolic(*inputs)``, then call ``MyOp.apply(*inputs)``.

    ``forward`` gets floats (for Values) or float64 arrays (for Tensors);
    ``backward`` returns one gradient per input, each in that input's shape (a
    tuple, or the bare gradient for a one-input op; ``None`` for an input that
    gets no gradient). Integer arrays, ints and plain floats given beside
    Tensors are held fixed: passed through unchanged, never differentiated.
    ``symbolic`` gets SymPy symbols (or, for array inputs, numpy object arrays
    of them) and returns the same computation in SymPy: it enables the SymPy
    oracle. Declare ``elementwise = True`` when the op acts elementwise so its
    scalar twin is mapped over arrays; ``kinks(inputs, attrs, tol)`` and
    ``kink_reason`` mark points where the op is not differentiable.
    """

    elementwise: bool = False

    @staticmethod
    def forward(*inputs):  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def backward(grad, *inputs_and_out):  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def op(cls) -> OpDef:
        """The op-table entry for this class, registered on first use."""
        entry = cls.__dict__.get("_opdef")
        if entry is None:
            if cls.forward is Function.forward or cls.backward is Function.backward:
                raise GradvizError(f"{cls.__name__} must define static forward() and backward()")
            symbolic = cls.__dict__.get("symbolic") or getattr(cls, "symbolic", None)
            kinks = getattr(cls, "kinks", None)
            entry = register(OpDef(
                name=f"{cls.__name__}#{next(_serial)}",
                symbol=cls.__name__,
                forward=_bound_forward(cls.forward),
                backward=_bound_backward(cls),
                symbolic=None if symbolic is None else _bound_forward(symbolic),
                arity=None,
                elementwise=bool(getattr(cls, "elementwise", False)),
                scalar=True,
                kinks=None if kinks is None else _bound_kinks(kinks),
                kink_reason=getattr(cls, "kink_reason", ""),
                builtin=False,
            ))
            cls._opdef = entry
        return entry

    @classmethod
    def apply(cls, *inputs):
        """Run the op on Values, Tensors, numbers or arrays and record its node."""
        op = cls.op()
        if not inputs:
            raise GradvizError(f"{cls.__name__}.apply needs at least one input")
        if any(isinstance(x, Tensor) or isinstance(x, np.ndarray) and x.ndim > 0 for x in inputs):
            if any(isinstance(x, Value) for x in inputs):
                raise GradvizTypeError(f"{cls.__name__}.apply: cannot mix Values and Tensors in one op")
            fixed_at = tuple(k for k, x in enumerate(inputs) if _held_fixed(x))
            parents = tuple(tensor_mod._const(x) for k, x in enumerate(inputs) if k not in fixed_at)
            if not parents:
                raise GradvizTypeError(f"{cls.__name__}.apply: no input is a Tensor or a float array")
            attrs = {FIXED_AT: fixed_at, FIXED: tuple(inputs[k] for k in fixed_at)} if fixed_at else None
            return tensor_mod.apply(op, parents, attrs)
        parents = tuple(x if isinstance(x, Value) else _const_value(x) for x in inputs)
        out = op.forward(*[p.data for p in parents])
        return _record_value(_to_float(out, f"the output of {cls.__name__}.forward"), op, parents)


FIXED_AT, FIXED = "_fixed_at", "_fixed"  # node attrs: where the held-fixed arguments go back, and their values


def _held_fixed(x: object) -> bool:
    """An argument beside Tensors that is data, not a variable: an integer index array, an int, a float eps.

    It reaches forward and backward unchanged in its place, is never made a float
    Tensor, and is never perturbed by a check; its gradient from backward is dropped.
    """
    if isinstance(x, Tensor):
        return False
    if isinstance(x, np.ndarray):
        return x.ndim == 0 or x.dtype.kind not in "fc"
    return not isinstance(x, (list, tuple))  # numbers, None, strings, settings objects


def _splice(inputs: tuple, fixed_at: tuple, fixed: tuple) -> list:
    args = list(inputs)
    for k, value in zip(fixed_at, fixed):  # positions ascending: each lands where the user put it
        args.insert(k, value)
    return args


def _bound_forward(fn):
    @functools.wraps(fn)  # __wrapped__: the user's source and argument names, for the diagnosis to read
    def forward(*inputs, _fixed_at=(), _fixed=()):
        return fn(*_splice(inputs, _fixed_at, _fixed))
    return forward


def _bound_backward(cls):
    @functools.wraps(cls.backward)
    def backward(grad, *inputs_and_out, _fixed_at=(), _fixed=()):
        *inputs, out = inputs_and_out
        grads = cls.backward(grad, *_splice(tuple(inputs), _fixed_at, _fixed), out)
        if not _fixed_at:
            return grads
        grads = normalize_grads(cls.op(), grads, len(inputs) + len(_fixed_at))
        return tuple(g for k, g in enumerate(grads) if k not in _fixed_at)
    return backward


def _bound_kinks(kinks):
    def bound(inputs, attrs, tol):
        attrs = dict(attrs or {})
        args = _splice(tuple(inputs), attrs.pop(FIXED_AT, ()), attrs.pop(FIXED, ()))
        return kinks(args, attrs, tol)
    return bound


def _const_value(x: object) -> Value:
    v = Value(x, requires_grad=False)
    return v

