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
    ``backward`` returns one gradient per input (a tuple, or the bare gradient
    for a one-input op; ``None`` for an input that gets no gradient).
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
            entry = register(OpDef(
                name=f"{cls.__name__}#{next(_serial)}",
                symbol=cls.__name__,
                forward=cls.forward,
                backward=cls.backward,
                symbolic=symbolic,
                arity=None,
                elementwise=bool(getattr(cls, "elementwise", False)),
                scalar=True,
                kinks=getattr(cls, "kinks", None),
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
            parents = tuple(tensor_mod._const(x) for x in inputs)
            return tensor_mod.apply(op, parents)
        parents = tuple(x if isinstance(x, Value) else _const_value(x) for x in inputs)
        out = op.forward(*[p.data for p in parents])
        return _record_value(_to_float(out, f"the output of {cls.__name__}.forward"), op, parents)


def _const_value(x: object) -> Value:
    v = Value(x, requires_grad=False)
    return v

