"""ctx-style Functions without torch in styles gradviz was not written for (our own code): a scalar Function
saving its output, state kept as ctx attributes, a setting among the inputs whose backward returns only the
gradient of the array, gradients returned in a dict by name. Each correct; each `...Bug` plants one mistake."""

import math

import numpy as np


class Sigmoid:
    @staticmethod
    def forward(ctx, a):
        out = 1.0 / (1.0 + math.exp(-a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, d_output):
        (out,) = ctx.saved_values
        return d_output * out * (1.0 - out)


class SigmoidBug(Sigmoid):
    @staticmethod
    def backward(ctx, d_output):
        """Planted bug: a + where a * belongs (the upstream gradient added, not multiplied)."""
        (out,) = ctx.saved_values
        return out + (1.0 - out) * d_output


class MultiplyAdd:
    @staticmethod
    def forward(ctx, w, x, b):
        ctx.w, ctx.x = w, x
        return w * x + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.x, grad_output * ctx.w, grad_output.sum(axis=0)


class MultiplyAddBug(MultiplyAdd):
    @staticmethod
    def backward(ctx, grad_output):
        """Planted bug: w's gradient uses w."""
        return grad_output * ctx.w, grad_output * ctx.w, grad_output.sum(axis=0)


class Power:
    """forward(ctx, x, n) with an integer n; backward returns x's gradient alone, not (dx, None)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return x ** n

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.n * x ** (ctx.n - 1)


class PowerBug(Power):
    @staticmethod
    def backward(ctx, grad):
        """Planted bug: the exponent is not lowered."""
        (x,) = ctx.saved_tensors
        return grad * ctx.n * x ** ctx.n


class MatMul:
    """backward returns its gradients in a dict, by the inputs' names."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_values
        return {"a": grad_out @ b.T, "b": a.T @ grad_out}


class MatMulBug(MatMul):
    @staticmethod
    def backward(ctx, grad_out):
        """Planted bug: a stray term: the first row of grad_out counted twice in b's gradient."""
        a, b = ctx.saved_values
        return {"a": grad_out @ b.T, "b": a.T @ grad_out + a.T[:, :1] @ grad_out[:1, :]}


def sigmoid_inputs(rng):
    return (float(rng.normal()),)


def multiply_add_inputs(rng):
    return rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)


def power_inputs(rng):
    return rng.uniform(0.5, 1.5, size=(3, 2)), 3


def matmul_inputs(rng):
    return rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
