"""Torch ops onto gradviz's op table: one small rule per torch name.

A rule gets the torch result (only its shape) and the call's arguments, with
every float tensor already replaced by its gradviz node. It returns a
``Direct`` (one op-table op whose output is torch's own result, so recording
recomputes nothing) or, for a composite such as a loss, the node gradviz's front
end builds. It raises ``Unmapped`` when this call needs something gradviz's op
does not do: then the call records as an opaque op, checked by finite differences.

The op table is the source of the rules: every elementwise op gets one under
its table name (torch.tanh, torch.maximum...) and its in-place twin (tanh_),
plus torch's other spellings from ALIASES; the other ops have rules written
out below. MAPPED says which table ops some rule records; an op of the table
that none does is in NOT_MAPPED with the reason.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import functional as F
from ..ops import builtin_ops, conv, linalg, loss, pool, reduce, shape
from ..ops import elementwise as ew
from ..ops.kinds import attribute_names
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
MAPPED: dict[str, set[str]] = {}  # table op name -> the torch names whose rule records it
# table op name -> why no torch call records it
NOT_MAPPED: dict[str, str] = {"affine": "gv.nn's scalar neuron sum; torch records a neuron's sum as mul and add"}
# Calls that only change dtype, device or memory layout: the output is the same node.
IDENTITY = {"float", "double", "to", "contiguous", "clone", "cpu", "cuda", "type_as", "requires_grad_"}
# detach() and .data have no rule on purpose: they record as opaque nodes whose backward gives no
# gradient, so a check names them when the stopped gradient is what makes the result wrong.


def rule(*names: str, ops: tuple = ()):
    """Register a rule under torch's `names`; `ops` are the table ops it records."""
    def add(fn):
        for name in names:
            RULES[name] = fn
        for op in ops:
            MAPPED.setdefault(op.name, set()).update(names)
        return fn
    return add


def _binary(op: OpDef, swap: bool = False):
    def apply(out, a, b, alpha=1, rounding_mode=None):
        if alpha != 1 or rounding_mode is not None:
            raise Unmapped("alpha or rounding_mode")
        return Direct(op, (b, a) if swap else (a, b))
    return apply


def _unary(op: OpDef):
    def apply(out, x, *rest, **kwargs):
        if rest or any(v for k, v in kwargs.items() if k != "inplace"):
            raise Unmapped("extra arguments")
        return Direct(op, (x,))
    return apply


# torch's other spellings of table ops: op name -> ((names, the inputs come swapped), ...)
ALIASES: dict[str, tuple[tuple[tuple[str, ...], bool], ...]] = {
    "add": ((("__add__", "__radd__", "__iadd__"), False),),
    "sub": ((("__sub__", "__isub__", "subtract"), False), (("__rsub__", "rsub"), True)),
    "mul": ((("__mul__", "__rmul__", "__imul__", "multiply"), False),),
    "div": ((("__truediv__", "__itruediv__", "true_divide", "divide"), False), (("__rtruediv__",), True)),
    "neg": ((("__neg__", "negative"), False),),
    "matmul": ((("__matmul__", "mm", "bmm"), False), (("__rmatmul__",), True)),
}
# Table ops whose torch calls take arguments the generic rules do not read: their rules are written out below.
WRITTEN_OUT = {"pow", "powc", "clip"}


def _derive_from_the_table() -> None:
    """A rule for every elementwise op of the table (and matmul) under its name, its in-place twin and ALIASES."""
    for op in builtin_ops():
        if op.name in WRITTEN_OUT or not (op.elementwise or op.name == "matmul") or attribute_names(op):
            continue
        make = _unary if op.arity == 1 else _binary
        rule(op.name, f"{op.name}_", ops=(op,))(make(op))
        for names, swap in ALIASES.get(op.name, ()):
            rule(*names, ops=(op,))(_binary(op, swap) if op.arity == 2 else make(op))


_derive_from_the_table()


@rule("pow", "__pow__", ops=(ew.POW, ew.POWC))
def _pow(out, a, b):
    if isinstance(b, numbers.Real) and not isinstance(b, bool):
        return Direct(ew.POWC, (a,), {"exponent": float(b)})
    return Direct(ew.POW, (a, b))


@rule("__rpow__", ops=(ew.POW,))
def _rpow(out, a, b):
    return Direct(ew.POW, (b, a))


@rule("clamp", "clip", ops=(ew.CLIP,))
def _clamp(out, x, min=None, max=None):  # noqa: A002 - torch's names
    return Direct(ew.CLIP, (x,), {"lo": -np.inf if min is None else float(min),
                                  "hi": np.inf if max is None else float(max)})


def _axis(dim):
    return tuple(int(d) for d in dim) if isinstance(dim, (list, tuple)) else dim


@rule("sum", ops=(reduce.SUM,))
def _sum(out, x, dim=None, keepdim=False, dtype=None):
    return Direct(reduce.SUM, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("mean", ops=(reduce.MEAN,))
def _mean(out, x, dim=None, keepdim=False, dtype=None):
    return Direct(reduce.MEAN, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("max", "amax", ops=(reduce.MAX,))  # max over a dim returns (values, indices): that records as opaque
def _max(out, x, dim=None, keepdim=False):
    return Direct(reduce.MAX, (x,), {"axis": _axis(dim), "keepdims": bool(keepdim)})


@rule("reshape", "view", "flatten", "squeeze", "unsqueeze", "view_as", "reshape_as", ops=(shape.RESHAPE,))
def _reshape(out, x, *args, **kwargs):
    return Direct(shape.RESHAPE, (x,), {"shape": tuple(out.shape)})


def _swap_last(ndim: int) -> tuple:
    """The axes of a matrix transpose of the last two dimensions."""
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


@rule("t", "T", "mT", ops=(shape.TRANSPOSE,))
def _t(out, x):
    return x if x.ndim < 2 else Direct(shape.TRANSPOSE, (x,), {"axes": _swap_last(x.ndim)})


@rule("transpose", "swapaxes", ops=(shape.TRANSPOSE,))
def _transpose(out, x, dim0, dim1):
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return Direct(shape.TRANSPOSE, (x,), {"axes": tuple(axes)})


@rule("permute", ops=(shape.TRANSPOSE,))
def _permute(out, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    return Direct(shape.TRANSPOSE, (x,), {"axes": tuple(d % x.ndim for d in dims)})


@rule("__getitem__", ops=(shape.GETITEM,))
def _getitem(out, x, index):
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts):
        raise Unmapped("advanced indexing")
    return Direct(shape.GETITEM, (x,), {"index": parts})


@rule("linear", ops=(linalg.LINEAR,))
def _linear(out, x, weight, bias=None):
    return Direct(linalg.LINEAR, (x, weight) if bias is None else (x, weight, bias))


@rule("conv2d", ops=(conv.CONV2D,))
def _conv2d(out, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1 or conv.pair(dilation, "dilation") != (1, 1) or isinstance(padding, str):
        raise Unmapped("groups, dilation or string padding")
    return Direct(conv.CONV2D, (x, weight) if bias is None else (x, weight, bias),
                  {"stride": conv.pair(stride, "stride"), "padding": conv.pair(padding, "padding")})


def _pool(kernel_size, stride) -> dict:
    kernel = conv.pair(kernel_size, "kernel_size")
    return {"kernel": kernel, "stride": conv.pair(stride, "stride") if stride else kernel}


@rule("max_pool2d", ops=(pool.MAX_POOL2D,))
def _max_pool2d(out, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if conv.pair(padding, "padding") != (0, 0) or conv.pair(dilation, "dilation") != (1, 1) or ceil_mode \
            or return_indices:
        raise Unmapped("padding, dilation, ceil_mode or indices")
    return Direct(pool.MAX_POOL2D, (x,), _pool(kernel_size, stride))


@rule("avg_pool2d", ops=(pool.AVG_POOL2D,))
def _avg_pool2d(out, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
    if conv.pair(padding, "padding") != (0, 0) or ceil_mode or divisor_override is not None:
        raise Unmapped("padding, ceil_mode or divisor_override")
    return Direct(pool.AVG_POOL2D, (x,), _pool(kernel_size, stride))


@rule("softmax", ops=(loss.SOFTMAX,))
def _softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return Direct(loss.SOFTMAX, (x,), {"axis": -1 if dim is None else int(dim)})


@rule("log_softmax", ops=(loss.LOG_SOFTMAX,))
def _log_softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return Direct(loss.LOG_SOFTMAX, (x,), {"axis": -1 if dim is None else int(dim)})


@rule("cat", "concatenate", "concat", ops=(shape.CONCATENATE,))
def _cat(out, tensors, dim=0, axis=None):
    return Direct(shape.CONCATENATE, tuple(tensors), {"axis": int(dim if axis is None else axis)})


@rule("stack", ops=(shape.STACK,))
def _stack(out, tensors, dim=0):
    return Direct(shape.STACK, tuple(tensors), {"axis": int(dim)})


@rule("where", ops=(shape.WHERE,))
def _where(out, condition, input=None, other=None):  # noqa: A002 - torch's names
    if input is None or other is None or not isinstance(condition, np.ndarray):
        raise Unmapped("where(condition) alone gives indices; a float condition is not a mask")
    return Direct(shape.WHERE, (input, other), {"condition": condition.astype(bool)})


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
