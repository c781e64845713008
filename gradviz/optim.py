"""Optimizers for Value and Tensor parameters alike: SGD (with momentum) and Adam."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .errors import GradvizError, describe
from .tensor import Tensor
from .value import Value


class Optimizer:
    def __init__(self, params: Iterable, lr: float):
        self.params = list(params)
        if not self.params:
            raise GradvizError("the optimizer got no parameters (did you pass model.parameters()?)")
        for p in self.params:
            if not isinstance(p, (Value, Tensor)):
                raise GradvizError(f"optimizers update Values or Tensors, got {describe(p)}")
        if not lr > 0:
            raise GradvizError(f"the learning rate must be positive, got {lr}")
        self.lr = float(lr)
        # A scalar network has thousands of Value parameters: they get loops of their own,
        # without a type test or method call per number (the parameters are fixed here, as in PyTorch).
        self._scalars = [p for p in self.params if type(p) is Value]
        self._others = [p for p in self.params if type(p) is not Value]

    def zero_grad(self) -> None:
        for p in self._scalars:
            p.grad = 0.0  # what Value.zero_grad does
        for p in self._others:
            p.zero_grad()

    @staticmethod
    def _grad(p):
        return p.grad if isinstance(p, Value) else np.asarray(p.grad, dtype=np.float64)


class SGD(Optimizer):
    """p -= lr * v, with v = momentum * v + grad (PyTorch's form; plain SGD when momentum = 0).

    Tensor parameters and velocities are updated in place, as PyTorch does: a
    training step then allocates no parameter-sized array but the one `lr * v`.
    """

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = float(momentum)
        self.velocity = [None] * len(self.params)

    def step(self) -> None:
        lr, momentum = self.lr, self.momentum
        if not momentum:  # plain SGD: the loop a course writes by hand, nothing more
            for p in self._scalars:
                p.data = p.data - lr * p.grad
            for p in self._others:
                p.data -= lr * self._grad(p)
            return
        for k, p in enumerate(self.params):
            if type(p) is Value:
                g = p.grad
                if momentum:
                    v = self.velocity[k]
                    g = self.velocity[k] = g if v is None else momentum * v + g
                p.data = p.data - lr * g
                continue
            g = self._grad(p)
            if momentum:
                v = self.velocity[k]
                if v is None:
                    v = self.velocity[k] = np.array(g, dtype=np.float64)  # its own array: updated in place
                else:
                    v *= momentum
                    v += g
                g = v
            p.data -= lr * g


class Adam(Optimizer):
    """Adam with bias correction by the number of step() calls (not epochs)."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        super().__init__(params, lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.t = 0
        self.m = [0.0 * self._grad(p) for p in self.params]
        self.v = [0.0 * self._grad(p) for p in self.params]

    def step(self) -> None:
        self.t += 1
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        for k, p in enumerate(self.params):
            g = self._grad(p)
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g * g
            m_hat, v_hat = self.m[k] / c1, self.v[k] / c2
            root = math.sqrt(v_hat) if isinstance(p, Value) else np.sqrt(v_hat)
            p.data = p.data - self.lr * m_hat / (root + self.eps)
