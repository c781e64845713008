"""Torch ops onto gradviz's op table: one small rule per torch name, calling gradviz's own front end.

A rule gets the torch result (only its shape) and the call's arguments, with every
float tensor already replaced by its gradviz node; it returns the gradviz node,
or raises ``Unmapped`` when this call needs something gradviz's op does not do
(then the call records as an opaque op, checked by finite differences).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import functional as F
from ..tensor import Tensor


class Unmapped(Exception):
    """This call has no faithful gradviz equivalent."""


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


@rule("add", "__add__", "__radd__", "add_", "__iadd__")
def _add(out, a, b, alpha=1):
    if alpha != 1:
        raise Unmapped("alpha")
    return a + b


@rule("sub", "__sub__", "sub_", "__isub__", "subtract")
def _sub(out, a, b, alpha=1):
    if alpha != 1:
        raise Unmapped("alpha")
    return a - b


@rule("__rsub__", "rsub")
def _rsub(out, a, b, alpha=1):
    if alpha != 1:
        raise Unmapped("alpha")
    return b - a


@rule("mul", "__mul__", "__rmul__", "mul_", "__imul__", "multiply")
def _mul(out, a, b):
    return a * b


@rule("div", "__truediv__", "div_", "__itruediv__", "true_divide", "divide")
def _div(out, a, b, rounding_mode=None):
    if rounding_mode is not None:
        raise Unmapped("rounding_mode")
    return a / b


@rule("__rtruediv__")
def _rdiv(out, a, b):
    return b / a


@rule("neg", "__neg__", "negative")
def _neg(out, a):
    return -a


@rule("pow", "__pow__")
def _pow(out, a, b):
    return a ** b


@rule("__rpow__")
def _rpow(out, a, b):
    return b ** a


@rule("matmul", "__matmul__", "mm", "bmm")
def _matmul(out, a, b):
    return a @ b


@rule("__rmatmul__")
def _rmatmul(out, a, b):
    return b @ a


def _unary(method: str):
    def apply(out, x, *rest, **kwargs):
        if rest or any(v for k, v in kwargs.items() if k != "inplace"):
            raise Unmapped("extra arguments")
        return getattr(x, method)()
    return apply


for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "sin", "cos"):
    rule(_name, f"{_name}_")(_unary(_name))


@rule("maximum")
def _maximum(out, a, b):
    return a.maximum(b)


@rule("minimum")
def _minimum(out, a, b):
    return a.minimum(b)


@rule("clamp", "clip")
def _clamp(out, x, min=None, max=None):  # noqa: A002 - torch's names
    return x.clip(-np.inf if min is None else float(min), np.inf if max is None else float(max))


def _axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


@rule("sum")
def _sum(out, x, dim=None, keepdim=False, dtype=None):
    return x.sum(axis=_axis(dim), keepdims=keepdim)


@rule("mean")
def _mean(out, x, dim=None, keepdim=False, dtype=None):
    return x.mean(axis=_axis(dim), keepdims=keepdim)


@rule("max", "amax")  # max over a dim returns (values, indices): that records as opaque
def _max(out, x, dim=None, keepdim=False):
    return x.max(axis=_axis(dim), keepdims=keepdim)


@rule("reshape", "view", "flatten", "squeeze", "unsqueeze", "view_as", "reshape_as")
def _reshape(out, x, *args, **kwargs):
    return x.reshape(out.shape)


@rule("t", "T", "mT")
def _t(out, x):
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(axes)


@rule("transpose", "swapaxes")
def _transpose(out, x, dim0, dim1):
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return x.transpose(axes)


@rule("permute")
def _permute(out, x, *dims):
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    return x.transpose([d % x.ndim for d in dims])


@rule("__getitem__")
def _getitem(out, x, index):
    parts = index if isinstance(index, tuple) else (index,)
    if not all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts):
        raise Unmapped("advanced indexing")
    return x[index]


@rule("linear")
def _linear(out, x, weight, bias=None):
    y = x @ weight.T
    return y if bias is None else y + bias


def _pair_int(v) -> int | tuple:
    return v if isinstance(v, int) else tuple(v)


@rule("conv2d")
def _conv2d(out, x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1 or dilation not in (1, (1, 1), [1, 1]) or isinstance(padding, str):
        raise Unmapped("groups, dilation or string padding")
    return F.conv2d(x, weight, bias, stride=_pair_int(stride), padding=_pair_int(padding))


@rule("max_pool2d")
def _max_pool2d(out, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if padding not in (0, (0, 0)) or dilation not in (1, (1, 1)) or ceil_mode or return_indices:
        raise Unmapped("padding, dilation, ceil_mode or indices")
    return F.max_pool2d(x, kernel_size, stride=stride or None)


@rule("avg_pool2d")
def _avg_pool2d(out, x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
    if padding not in (0, (0, 0)) or ceil_mode or divisor_override is not None:
        raise Unmapped("padding, ceil_mode or divisor_override")
    return F.avg_pool2d(x, kernel_size, stride=stride or None)


@rule("softmax")
def _softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return F.softmax(x, axis=-1 if dim is None else dim)


@rule("log_softmax")
def _log_softmax(out, x, dim=None, _stacklevel=3, dtype=None):
    return F.log_softmax(x, axis=-1 if dim is None else dim)


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
