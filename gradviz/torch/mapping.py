"""Torch ops onto gradviz's op table: one small rule per torch name.

A rule gets the torch result (only its shape) and the call's arguments, with
every float tensor already replaced by its gradviz node. It returns a
``Direct`` (one op-table op whose output is torch's own result, so recording
recomputes nothing) or, for a composite such as a loss, the node gradviz's front
end builds. It raises ``Unmapped`` when this call needs something gradviz's op
does not do: then the call records as an opaque op, checked by finite differences.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import functional as F
from ..ops import elementwise as ew
from ..ops import conv, linalg, loss, pool, reduce, shape
from ..ops.registry import OpDef
from ..tensor import Tensor


class Unmapped(Exception):
    """This call has no faithful gradviz equivalent."""


@dataclass(frozen=True)
class Direct:
    """One op of the table applied to `parents`, its output being torch's result."""

    op: OpDef
    parents: tuple
    attrs: dict | None = None


RULES: dict[str, Callable[..., Any]] = {}
# Calls that only change dtype, device or memory layout: the output is the same node.
IDENTITY = {"float", "double", "to", "contiguous", "clone", "cpu", "cuda", "type_as", "requires_grad_"}
# detach() and .data have no rule on purpose: they record as opaque nodes whose backward gives no
# gradient, so a check names them when the stopped gradient is what makes the result wrong.


def rule(*names: str):
    def add(fn):
        for name in names:
            RULES[name] = fn
        return fn
    return add


def _binary(op: OpDef, swap: bool = False):
    def apply(out, a, b, alpha=1, rounding_mode=None):
        if alpha != 1 or rounding_mode is not None:
            raise Unmapped("alpha or rounding_mode")
        return Direct(op, (b, a) if swap else (a, b))
    return apply


for _names, _op, _swap in ((("add", "__add__", "__radd__", "add_", "__iadd__"), ew.ADD, False),
                           (("sub", "__sub__", "sub_", "__isub__", "subtract"), ew.SUB, False),
                           (("__rsub__", "rsub"), ew.SUB, True),
                           (("mul", "__mul__", "__rmul__", "mul_", "__imul__", "multiply"), ew.MUL, False),
                           (("div", "__truediv__", "div_", "__itruediv__", "true_divide", "divide"), ew.DIV, False),
                           (("__rtruediv__",), ew.DIV, True),
                           (("maximum",), ew.MAXIMUM, False), (("minimum",), ew.MINIMUM, False),
                           (("matmul", "__matmul__", "mm", "bmm"), linalg.MATMUL, False),
                           (("__rmatmul__",), linalg.MATMUL, True)):
    rule(*_names)(_binary(_op, _swap))


def _unary(op: OpDef):
    def apply(out, x, *rest, **kwargs):
        if rest or any(v for k, v in kwargs.items() if k != "inplace"):
            raise Unmapped("extra arguments")
        return Direct(op, (x,))
    return apply


for _name, _op in (("exp", ew.EXP), ("log", ew.LOG), ("sqrt", ew.SQRT), ("tanh", ew.TANH), ("sigmoid", ew.SIGMOID),
                   ("relu", ew.RELU), ("abs", ew.ABS), ("sin", ew.SIN), ("cos", ew.COS), ("neg", ew.NEG)):
    rule(_name, f"{_name}_")(_unary(_op))
rule("__neg__", "negative")(_unary(ew.NEG))


@rule("pow", "__pow__")
def _pow(out, a, b):
    if isinstance(b, numbers.Real) and not isinstance(b, bool):
        return Direct(ew.POWC, (a,), {"exponent": float(b)})
    return Direct(ew.POW, (a, b))


@rule("__rpow__")
def _rpow(out, a, b):
    return Direct(ew.POW, (b, a))


@rule("clamp", "clip")
def _clamp(out, x, min=None, max=None):  # noqa: A002 - torch's names
    return Direct(ew.CLIP, (x,), {"lo": -np.inf if min is None else float(min),
                                  "hi": np.inf if max is None else float(max)})


def _axis(dim):
    return tuple(int(d) for d in dim) if isinstance(dim, (list, tuple)) else dim


@rule("sum")
def _sum(out, x, dim=None, keepdim=False, dtype=None):
    return Direct(reduce.SUM, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("mean")
def _mean(out, x, dim=None, keepdim=False, dtype=None):
    return Direct(reduce.MEAN, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("max", "amax")  # max over a dim returns (values, indices): that records as opaque
def _max(out, x, dim=None, keepdim=False):
    return Direct(reduce.MAX, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("reshape", "view", "flatten", "squeeze", "unsqueeze", "view_as", "reshape_as")
def _reshape(out, x, *args, **kwargs):
    return Direct(shape.RESHAPE, (x,), {"shape": tuple(out.shape)})


def _swap_last(ndim: int) -> tuple:
    """The axes of a matrix transpose of the last two dimensions."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


@rule("t", "T", "mT")
def _t(out, x):
    return x if x.ndim < 2 else Direct(shape.TRANSPOSE, (x,), {"axes": _swap_last(x.ndim)})


@rule("transpose", "swapaxes")
def _transpose(out, x, dim0, dim1):
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Direct(shape.TRANSPOSE, (x,), {"axes": tuple(axes)})


@rule("permute")
def _permute(out, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    return Direct(shape.TRANSPOSE, (x,), {"axes": tuple(d % x.ndim for d in dims)})


@rule("__getitem__")
def _getitem(out, x, index):
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts):
        raise Unmapped("advanced indexing")
    return Direct(shape.GETITEM, (x,), {"index": parts})


@rule("linear")
def _linear(out, x, weight, bias=None):
    return Direct(linalg.LINEAR, (x, weight) if bias is None else (x, weight, bias))


@rule("conv2d")
def _conv2d(out, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1 or conv.pair(dilation, "dilation") != (1, 1) or isinstance(padding, str):
        raise Unmapped("groups, dilation or string padding")
    return Direct(conv.CONV2D, (x, weight) if bias is None else (x, weight, bias),
                  {"stride": conv.pair(stride, "stride"), "padding": conv.pair(padding, "padding")})


def _pool(kernel_size, stride) -> dict:
    kernel = conv.pair(kernel_size, "kernel_size")
    return {"kernel": kernel, "stride": conv.pair(stride, "stride") if stride else kernel}


@rule("max_pool2d")
def _max_pool2d(out, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if conv.pair(padding, "padding") != (0, 0) or conv.pair(dilation, "dilation") != (1, 1) or ceil_mode \
            or return_indices:
        raise Unmapped("padding, dilation, ceil_mode or indices")
    return Direct(pool.MAX_POOL2D, (x,), _pool(kernel_size, stride))


@rule("avg_pool2d")
def _avg_pool2d(out, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
    if conv.pair(padding, "padding") != (0, 0) or ceil_mode or divisor_override is not None:
        raise Unmapped("padding, ceil_mode or divisor_override")
    return Direct(pool.AVG_POOL2D, (x,), _pool(kernel_size, stride))


@rule("softmax")
def _softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return Direct(loss.SOFTMAX, (x,), {"axis": -1 if dim is None else int(dim)})


@rule("log_softmax")
def _log_softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return Direct(loss.LOG_SOFTMAX, (x,), {"axis": -1 if dim is None else int(dim)})


# --- losses: composites, built by gradviz's front end ------------------------------------------

def _loss_options(weight=None, size_average=None, reduce=None, ignore_index=-100, label_smoothing=0.0,
                  reduction="mean") -> str:
    if weight is not None or size_average is not None or reduce is not None or label_smoothing:
        raise Unmapped("weights, label smoothing or legacy reduction flags")
    if reduction not in ("mean", "sum"):
        raise Unmapped(f"reduction={reduction!r}")
    return reduction


def _targets(target) -> np.ndarray:
    if isinstance(target, Tensor):
        raise Unmapped("float targets")
    return np.asarray(target)


@rule("cross_entropy")
def _cross_entropy(out, logits, target, *args, **kwargs):
    return F.cross_entropy(logits, _targets(target), reduction=_loss_options(*args, **kwargs))


@rule("nll_loss")
def _nll_loss(out, log_probs, target, *args, **kwargs):
    return F.nll_loss(log_probs, _targets(target), reduction=_loss_options(*args, **kwargs))


@rule("mse_loss")
def _mse_loss(out, prediction, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return F.mse_loss(prediction, target, reduction=_loss_options(weight, size_average, reduce,
                                                                  reduction=reduction))
