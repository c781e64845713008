"""A 148-element network built only of user ops (gv.Function) with symbolic twins.

Dense -> tanh -> Dense -> LayerNorm -> cross-entropy, written the way a custom-op
author writes them: numpy forward and backward, a SymPy twin on object arrays.
Inputs: x (2, 4), W1 (4, 8), b1 (8,), W2 (8, 10), b2 (10,), gamma (10,): 148 elements.
Also the single ops the issue timed against torch gradcheck: softmax, log-softmax, layer norm.
"""

from __future__ import annotations

import numpy as np

import gradviz as gv

LN_EPS = 1e-5
TARGETS = np.array([3, 7])


def _sympy():
    import sympy

    return sympy


class Dense(gv.Function):
    @staticmethod
    def forward(x, W, b):
        return x @ W + b

    @staticmethod
    def backward(grad, x, W, b, out):
        return grad @ W.T, x.T @ grad, grad.sum(axis=0)

    @staticmethod
    def symbolic(x, W, b):
        return x.dot(W) + b


class Tanh(gv.Function):
    elementwise = True

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def backward(grad, x, out):
        return grad * (1 - out**2)

    @staticmethod
    def symbolic(x):
        return _sympy().tanh(x)


class LayerNorm(gv.Function):
    """Normalise each row, then scale by gamma: y = gamma * (h - mean) / sqrt(var + eps)."""

    @staticmethod
    def forward(h, gamma):
        mean = h.mean(axis=-1, keepdims=True)
        var = h.var(axis=-1, keepdims=True)
        return gamma * (h - mean) / np.sqrt(var + LN_EPS)

    @staticmethod
    def backward(grad, h, gamma, out):
        n = h.shape[-1]
        mean = h.mean(axis=-1, keepdims=True)
        inv = 1 / np.sqrt(h.var(axis=-1, keepdims=True) + LN_EPS)
        xhat = (h - mean) * inv
        dxhat = grad * gamma
        dh = inv / n * (n * dxhat - dxhat.sum(-1, keepdims=True) - xhat * (dxhat * xhat).sum(-1, keepdims=True))
        return dh, (grad * xhat).sum(axis=0)

    @staticmethod
    def symbolic(h, gamma):
        sp = _sympy()
        out = np.empty(h.shape, dtype=object)
        n = h.shape[-1]
        for i in range(h.shape[0]):
            mean = sum(h[i]) / n
            var = sum((v - mean) ** 2 for v in h[i]) / n
            inv = 1 / sp.sqrt(var + LN_EPS)
            for j in range(n):
                out[i, j] = gamma[j] * (h[i, j] - mean) * inv
        return out


class LayerNormNoEps(LayerNorm):
    """The planted 1e-5-relative bug: backward forgets eps in sqrt(var + eps)."""

    @staticmethod
    def backward(grad, h, gamma, out):
        n = h.shape[-1]
        mean = h.mean(axis=-1, keepdims=True)
        inv = 1 / np.sqrt(h.var(axis=-1, keepdims=True))
        xhat = (h - mean) * inv
        dxhat = grad * gamma
        dh = inv / n * (n * dxhat - dxhat.sum(-1, keepdims=True) - xhat * (dxhat * xhat).sum(-1, keepdims=True))
        return dh, (grad * xhat).sum(axis=0)


class CrossEntropy(gv.Function):
    """Mean cross-entropy of logits z against the fixed TARGETS."""

    @staticmethod
    def forward(z):
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(TARGETS)), TARGETS].mean()

    @staticmethod
    def backward(grad, z, out):
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(TARGETS)), TARGETS] -= 1
        return grad * p / len(TARGETS)

    @staticmethod
    def symbolic(z):
        sp = _sympy()
        rows = [sp.log(sum(sp.exp(v) for v in z[i])) - z[i, t] for i, t in enumerate(TARGETS)]
        return sum(rows) / len(TARGETS)


class Softmax(gv.Function):
    @staticmethod
    def forward(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    @staticmethod
    def backward(grad, z, out):
        return out * (grad - (grad * out).sum(axis=-1, keepdims=True))

    @staticmethod
    def symbolic(z):
        sp = _sympy()
        out = np.empty(z.shape, dtype=object)
        for i in range(z.shape[0]):
            total = sum(sp.exp(v) for v in z[i])
            for j in range(z.shape[1]):
                out[i, j] = sp.exp(z[i, j]) / total
        return out


class LogSoftmax(gv.Function):
    @staticmethod
    def forward(z):
        shifted = z - z.max(axis=-1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

    @staticmethod
    def backward(grad, z, out):
        return grad - np.exp(out) * grad.sum(axis=-1, keepdims=True)

    @staticmethod
    def symbolic(z):
        sp = _sympy()
        out = np.empty(z.shape, dtype=object)
        for i in range(z.shape[0]):
            log_total = sp.log(sum(sp.exp(v) for v in z[i]))
            for j in range(z.shape[1]):
                out[i, j] = z[i, j] - log_total
        return out


def network_inputs(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    shapes = {"x": (2, 4), "W1": (4, 8), "b1": (8,), "W2": (8, 10), "b2": (10,), "gamma": (10,)}
    return [gv.Tensor(rng.normal(size=s) * (0.5 if k.startswith("W") else 1.0), label=k) for k, s in shapes.items()]


def network(x, W1, b1, W2, b2, gamma, norm=LayerNorm):
    return CrossEntropy.apply(norm.apply(Dense.apply(Tanh.apply(Dense.apply(x, W1, b1)), W2, b2), gamma))
