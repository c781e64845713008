"""Array layers on Tensors: Linear, Conv2d, pooling, Flatten, activations, losses."""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..ops.conv import pair
from ..tensor import Tensor
from .module import Module, make_rng

INITS = ("he", "xavier", "random")


def init_weight(shape: tuple, fan_in: int, fan_out: int, init: str, rng: np.random.Generator) -> np.ndarray:
    """he: N(0, 2/fan_in); xavier: N(0, 2/(fan_in+fan_out)); random: N(0, 1) * 0.01."""
    if init == "he":
        return rng.normal(size=shape) * math.sqrt(2.0 / fan_in)
    if init == "xavier":
        return rng.normal(size=shape) * math.sqrt(2.0 / (fan_in + fan_out))
    if init == "random":
        return rng.normal(size=shape) * 0.01
    raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")


class Linear(Module):
    """x @ W + b, with W (in, out) and b (out,) zeros."""

    name = "linear"

    def __init__(self, in_features: int, out_features: int, init: str = "he", *, bias: bool = True,
                 seed: int | None = None, rng: np.random.Generator | None = None, name: str | None = None):
        self.name = name or self.name
        rng = make_rng(seed, rng)
        self.W = Tensor(init_weight((in_features, out_features), in_features, out_features, init, rng), label="W")
        self.b = Tensor(np.zeros(out_features), label="b") if bias else None

    def forward(self, x: Tensor) -> Tensor:
        out = x @ self.W
        return out + self.b if self.b is not None else out


class Conv2d(Module):
    """2-D convolution, NCHW; fan-in counts the kernel area (C_in * kh * kw)."""

    name = "conv2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size=3, stride=1, padding=0,
                 init: str = "he", *, bias: bool = True, seed: int | None = None,
                 rng: np.random.Generator | None = None, name: str | None = None):
        self.name = name or self.name
        rng = make_rng(seed, rng)
        kh, kw = pair(kernel_size, "kernel_size")
        self.stride, self.padding = stride, padding
        shape = (out_channels, in_channels, kh, kw)
        self.weight = Tensor(init_weight(shape, in_channels * kh * kw, out_channels * kh * kw, init, rng),
                             label="weight")
        self.bias = Tensor(np.zeros(out_channels), label="bias") if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)


class MaxPool2d(Module):
    name = "maxpool2d"

    def __init__(self, kernel_size=2, stride=None, name: str | None = None):
        self.kernel_size, self.stride, self.name = kernel_size, stride, name or self.name

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride)


class AvgPool2d(Module):
    name = "avgpool2d"

    def __init__(self, kernel_size=2, stride=None, name: str | None = None):
        self.kernel_size, self.stride, self.name = kernel_size, stride, name or self.name

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride)


class Flatten(Module):
    """(N, ...) -> (N, everything else)."""

    name = "flatten"

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class _Activation(Module):
    method = ""

    def __init__(self, name: str | None = None):
        self.name = name or type(self).name

    def forward(self, x):
        return getattr(x, self.method)()


class Tanh(_Activation):
    name, method = "tanh", "tanh"


class ReLU(_Activation):
    name, method = "relu", "relu"


class Sigmoid(_Activation):
    name, method = "sigmoid", "sigmoid"


class Identity(Module):
    name = "identity"

    def forward(self, x):
        return x


class _Loss(Module):
    function = staticmethod(F.mse_loss)

    def __init__(self, reduction: str = "mean", name: str | None = None):
        self.reduction, self.name = reduction, name or type(self).name

    def forward(self, prediction, target):
        return type(self).function(prediction, target, reduction=self.reduction)


class MSELoss(_Loss):
    name, function = "mse_loss", staticmethod(F.mse_loss)


class BCELoss(_Loss):
    name, function = "bce_loss", staticmethod(F.binary_cross_entropy)


class CrossEntropyLoss(_Loss):
    name, function = "cross_entropy", staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    name, function = "nll_loss", staticmethod(F.nll_loss)
