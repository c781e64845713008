"""gv.F: functions on Tensors (and, where it makes sense, Values), PyTorch-style.

Everything here records a node through the op table, so it is drawn and
checked like any other op. The table is the one source: every elementwise op
becomes F.<op name> (F.tanh, F.sin, F.clip(x, lo, hi), F.maximum(a, b),
F.add...), and every other op is either written out below (conv2d, pooling,
softmax: they validate shapes and spell options PyTorch's way), reached
through the Tensor method of its name (F.sum, F.reshape...), or listed in
NOT_IN_F with the reason. Losses are compositions of ops.

(F.max and F.sum are reductions, as in PyTorch; they shadow Python's
builtins in this module, so code here never calls the builtin max or sum.)
"""

from __future__ import annotations

import numbers
import operator
from typing import Any, Callable, Sequence

import numpy as np

from . import tensor as tensor_engine
from . import value as value_engine
from .errors import GradvizError, GradvizTypeError, ShapeError, describe
from .ops import builtin_ops
from .ops import conv as conv_ops
from .ops import linalg as linalg_ops
from .ops import pool as pool_ops
from .ops import shape as shape_ops
from .ops.kinds import attribute_names
from .ops.registry import OpDef
from .tensor import Tensor, _const, apply
from .value import Value

# Table ops written with a Python operator: F.add(a, b) is a + b, so each engine records it its own way.
OPERATORS: dict[str, Callable] = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
                                  "div": operator.truediv, "pow": operator.pow, "neg": operator.neg}
# Table ops that are not functions of F, and why.
NOT_IN_F: dict[str, str] = {
    "powc": "pow with a constant exponent: F.pow(x, 2.0) records it",
    "getitem": "indexing is written x[index] on a Tensor",
    "affine": "a scalar neuron's weighted sum, recorded by gv.nn.Neuron; write it as sum(w * x) + b",
}


def _tensor(x: object, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, Value):
        raise GradvizTypeError(f"{what} needs a Tensor, got a Value; wrap arrays in gv.Tensor")
    return _const(x)


def _engine_inputs(args: Sequence[object], name: str) -> list:
    """The inputs of an elementwise op on one engine: numbers and arrays join the engine of the other inputs.

    With no Value or Tensor among them, the first input becomes a fresh leaf
    (a Value for a number, a Tensor for an array), so F.tanh(0.5) is a graph.
    """
    for x in args:
        if not isinstance(x, (Value, Tensor, np.ndarray, list, tuple)) and \
                not (isinstance(x, numbers.Real) and not isinstance(x, bool)):
            raise GradvizTypeError(f"{name}() needs a Value, Tensor or number, got {describe(x)}")
    engines = {type(x) for x in args if isinstance(x, (Value, Tensor))}
    if len(engines) > 1:
        raise GradvizTypeError(f"{name}() cannot mix Values and Tensors: use one engine per graph")
    arrays = Tensor in engines or any(isinstance(x, (np.ndarray, list, tuple)) for x in args)
    inputs = list(args)
    if not engines:
        inputs[0] = Tensor(inputs[0]) if arrays else Value(inputs[0])
    constant = tensor_engine._const if arrays else value_engine._const
    return [x if isinstance(x, (Value, Tensor)) else constant(x) for x in inputs]


def _apply(op: OpDef, inputs: list, attrs: dict) -> Value | Tensor:
    """Record `op` on engine inputs straight from the table (an op no engine has a method for)."""
    if isinstance(inputs[0], Tensor):
        return apply(op, inputs, attrs or None)
    out = op.forward(*[x.data for x in inputs], **attrs)
    return value_engine._record(value_engine._to_float(out, f"the output of {op.name}"), op, tuple(inputs),
                                attrs or None)


def _elementwise(op: OpDef) -> Callable:
    """F.<op name> for an elementwise op: its inputs, then its attributes (F.clip(x, lo, hi))."""
    attributes = attribute_names(op)

    def fn(*args: Any, **attrs: Any) -> Value | Tensor:
        if len(args) < op.arity or len(args) > op.arity + len(attributes):
            wanted = ", ".join(["x", "y"][:op.arity] + list(attributes))
            raise GradvizTypeError(f"{op.name}({wanted}) takes {op.arity + len(attributes)} arguments, "
                                   f"got {len(args)}")
        inputs = _engine_inputs(args[:op.arity], op.name)
        attrs.update(zip(attributes, args[op.arity:]))
        if op.name in OPERATORS:  # the operator takes numbers as they are: x ** 2 records powc, not pow
            engine_given = any(isinstance(x, (Value, Tensor)) for x in args)
            return OPERATORS[op.name](*(args if engine_given else inputs))
        method = getattr(inputs[0], op.name, None)
        if method is None:
            return _apply(op, inputs, attrs)
        return method(*inputs[1:], **attrs)

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = (f"Elementwise {op.name} of Values, Tensors, numbers or arrays (recorded in the graph)"
                  + (f"; attributes: {', '.join(attributes)}." if attributes else "."))
    return fn


def _tensor_method(op: OpDef) -> Callable:
    """F.<op name> for an op the Tensor engine has a method of that name for (sum, mean, reshape...)."""

    def fn(x: object, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(_tensor(x, f"{op.name} input"), op.name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"x.{op.name}(...) of a Tensor or array, as the Tensor method (recorded in the graph)."
    return fn


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


def matmul(a: object, b: object) -> Tensor:
    """a @ b, with numpy's rules for 1-D operands and broadcast batch dimensions."""
    return _tensor(a, "matmul input") @ _tensor(b, "matmul input")


def linear(x: object, weight: object, bias: object = None) -> Tensor:
    """x @ weight.T + bias, weight of shape (out, in): torch.nn.functional.linear."""
    parents = [_tensor(x, "linear input"), _tensor(weight, "linear weight")]
    if bias is not None:
        parents.append(_tensor(bias, "linear bias"))
    return apply(linalg_ops.LINEAR, parents)


def concatenate(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; gradients are split back to each one."""
    parts = [_const(t) for t in tensors]
    if not parts:
        raise GradvizError("concatenate needs at least one tensor")
    return apply(shape_ops.CONCATENATE, parts, {"axis": int(axis)})


def stack(tensors: Sequence[object], axis: int = 0) -> Tensor:
    """Join tensors along a new axis; gradients are split back to each one."""
    parts = [_const(t) for t in tensors]
    if not parts:
        raise GradvizError("stack needs at least one tensor")
    return apply(shape_ops.STACK, parts, {"axis": int(axis)})


def where(condition: object, a: object, b: object) -> Tensor:
    """Elementwise choice: a where condition holds, else b. The condition is not differentiated."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition).astype(bool)
    return apply(shape_ops.WHERE, (_const(a), _const(b)), {"condition": cond})


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


def _derive_from_the_table() -> list[str]:
    """Add F.<name> for every op of the table that is not written out above nor in NOT_IN_F."""
    made = []
    for op in builtin_ops():
        if op.name in NOT_IN_F or callable(globals().get(op.name)):
            continue
        if op.elementwise:
            globals()[op.name] = _elementwise(op)
        elif callable(getattr(Tensor, op.name, None)):
            globals()[op.name] = _tensor_method(op)
        else:
            continue  # neither a function here nor listed: tests/test_op_consumers.py names it
        made.append(op.name)
    return made


DERIVED = tuple(_derive_from_the_table())  # the names of F that come straight from the op table
