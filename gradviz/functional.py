"""gv.F: functions on Tensors (and, where it makes sense, Values), PyTorch-style.

Everything here records a node through the op table, so it is drawn and
checked like any other op.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import GradvizTypeError, ShapeError, describe
from .ops import conv as conv_ops
from .ops import pool as pool_ops
from .tensor import Tensor, _const, apply
from .value import Value


def _tensor(x: object, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Value):
        raise GradvizTypeError(f"{what} needs a Tensor, got a Value; wrap arrays in gv.Tensor")
    return _const(x)


def _elementwise(name: str):
    def fn(x):
        if isinstance(x, (Value, Tensor)):
            return getattr(x, name)()
        if isinstance(x, numbers.Real) and not isinstance(x, bool):
            return getattr(Value(x), name)()
        if isinstance(x, (np.ndarray, list, tuple)):
            return getattr(Tensor(x), name)()
        raise GradvizTypeError(f"{name}() needs a Value, Tensor or number, got {describe(x)}")

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} of a Value, Tensor, number or array (recorded in the graph)."
    return fn


exp, log, sqrt, tanh, sigmoid, relu, abs = (_elementwise(n) for n in
                                            ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"))


def conv2d(x: object, weight: object, bias: object = None, stride=1, padding=0) -> Tensor:
    """2-D cross-correlation: x (N, C_in, H, W), weight (C_out, C_in, kh, kw), bias (C_out,)."""
    x, weight = _tensor(x, "conv2d input"), _tensor(weight, "conv2d weight")
    stride, padding = conv_ops.pair(stride, "stride"), conv_ops.pair(padding, "padding")
    if x.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv2d needs x of shape (N, C, H, W) and weight (C_out, C_in, kh, kw); "
                         f"got x {x.shape} and weight {weight.shape}")
    if x.shape[1] != weight.shape[1]:
        raise ShapeError(f"conv2d: x has {x.shape[1]} channels but weight expects {weight.shape[1]} "
                         f"(x {x.shape}, weight {weight.shape})")
    if min(stride) < 1 or min(padding) < 0:
        raise ShapeError(f"conv2d: stride must be >= 1 and padding >= 0, got stride {stride}, padding {padding}")
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < weight.shape[2] or w < weight.shape[3]:
        raise ShapeError(f"conv2d: the kernel {weight.shape[2:]} is larger than the padded input ({h}, {w})")
    parents = [x, weight]
    if bias is not None:
        bias = _tensor(bias, "conv2d bias")
        if bias.shape != (weight.shape[0],):
            raise ShapeError(f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
        parents.append(bias)
    return apply(conv_ops.CONV2D, parents, {"stride": stride, "padding": padding})


def _pool(op, x, kernel_size, stride, name) -> Tensor:
    x = _tensor(x, f"{name} input")
    kernel = conv_ops.pair(kernel_size, "kernel_size")
    stride = kernel if stride is None else conv_ops.pair(stride, "stride")
    if x.ndim != 4:
        raise ShapeError(f"{name} needs x of shape (N, C, H, W), got {x.shape}")
    if min(kernel) < 1 or min(stride) < 1:
        raise ShapeError(f"{name}: kernel_size and stride must be >= 1, got {kernel} and {stride}")
    if x.shape[2] < kernel[0] or x.shape[3] < kernel[1]:
        raise ShapeError(f"{name}: the window {kernel} is larger than the input {x.shape[2:]}")
    return apply(op, (x,), {"kernel": kernel, "stride": stride})


def max_pool2d(x: object, kernel_size=2, stride=None) -> Tensor:
    """Max over windows (stride defaults to the kernel). On a tie the first maximum gets the gradient."""
    return _pool(pool_ops.MAX_POOL2D, x, kernel_size, stride, "max_pool2d")


def avg_pool2d(x: object, kernel_size=2, stride=None) -> Tensor:
    """Mean over windows (stride defaults to the kernel)."""
    return _pool(pool_ops.AVG_POOL2D, x, kernel_size, stride, "avg_pool2d")


# --- losses -------------------------------------------------------------------------

_REDUCTIONS = ("mean", "sum")


def _reduce(per_item: Tensor, reduction: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    return per_item.mean() if reduction == "mean" else per_item.sum()


def log_softmax(x: object, axis: int = -1) -> Tensor:
    """log(softmax(x)), computed max-shifted so that huge logits stay finite."""
    from .ops.loss import LOG_SOFTMAX

    return apply(LOG_SOFTMAX, (_tensor(x, "log_softmax input"),), {"axis": int(axis)})


def softmax(x: object, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along an axis, max-shifted."""
    from .ops.loss import SOFTMAX

    return apply(SOFTMAX, (_tensor(x, "softmax input"),), {"axis": int(axis)})


def _class_targets(target: object, n: int, classes: int) -> np.ndarray:
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.shape != (n,) or t.dtype.kind not in "iu" and not (t.dtype.kind == "f" and np.all(t == np.round(t))):
        raise ShapeError(f"targets must be {n} integer class indices, got shape {t.shape} and dtype {t.dtype}")
    t = t.astype(np.intp)
    if t.size and (t.min() < 0 or t.max() >= classes):
        raise ShapeError(f"targets must be class indices in [0, {classes - 1}], got values from {t.min()} to {t.max()}")
    return t


def nll_loss(log_probs: object, target: object, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer class targets, given log-probabilities (N, C)."""
    log_probs = _tensor(log_probs, "nll_loss input")
    if log_probs.ndim != 2:
        raise ShapeError(f"nll_loss needs log-probabilities of shape (N, C), got {log_probs.shape}")
    t = _class_targets(target, log_probs.shape[0], log_probs.shape[1])
    return _reduce(-log_probs[np.arange(len(t)), t], reduction)


def cross_entropy(logits: object, target: object, reduction: str = "mean") -> Tensor:
    """nll_loss(log_softmax(logits), target): stable for any logits."""
    return nll_loss(log_softmax(logits, axis=1), target, reduction)


def mse_loss(prediction: object, target: object, reduction: str = "mean") -> Tensor | Value:
    """Mean (or sum) of squared errors. Works on Values too: (prediction - target) ** 2."""
    if isinstance(prediction, Value):
        return (prediction - target) ** 2
    prediction = _tensor(prediction, "mse_loss prediction")
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target, dtype=np.float64)
    if np.shape(target_data) != prediction.shape:
        raise ShapeError(f"mse_loss: prediction has shape {prediction.shape} but target has shape "
                         f"{np.shape(target_data)}; they must match")
    return _reduce((prediction - target) ** 2, reduction)


BCE_CLAMP = 1e-12


def binary_cross_entropy(probability: object, target: object, reduction: str = "mean") -> Tensor | Value:
    """-[y log p + (1 - y) log(1 - p)], natural log, p clamped to [1e-12, 1 - 1e-12]."""
    if isinstance(probability, Value):
        p = probability.clip(BCE_CLAMP, 1 - BCE_CLAMP)
        return -(target * p.log() + (1 - target) * (1 - p).log())
    probability = _tensor(probability, "binary_cross_entropy input")
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target, dtype=np.float64)
    if np.shape(target_data) != probability.shape:
        raise ShapeError(f"binary_cross_entropy: input has shape {probability.shape} but target has shape "
                         f"{np.shape(target_data)}; they must match")
    p = probability.clip(BCE_CLAMP, 1 - BCE_CLAMP)
    y = _const(target_data)
    return _reduce(-(y * p.log() + (1 - y) * (1 - p).log()), reduction)
