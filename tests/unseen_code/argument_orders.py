"""Backwards that take the upstream gradient somewhere other than first, and losses whose derivative
takes a subset of the loss's arguments."""

import numpy as np


def sigmoid_forward(Z):
    A = 1 / (1 + np.exp(-Z))
    cache = Z
    return A, cache


def sigmoid_backward(cache, dA):
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def sigmoid_backward_bug(cache, dA):
    """Planted bug: s * (1 - s) taken at Z itself."""
    Z = cache
    return dA * Z * (1 - Z)


def conv1d_forward(x, w):
    """Valid 1-D correlation over (N, L) signals with a (K,) kernel."""
    N, L = x.shape
    K = w.shape[0]
    out = np.zeros((N, L - K + 1))
    for i in range(L - K + 1):
        out[:, i] = x[:, i:i + K] @ w
    return out


def conv1d_backward(x, w, dy):
    K = w.shape[0]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dy.shape[1]):
        dx[:, i:i + K] += np.outer(dy[:, i], w)
        dw += x[:, i:i + K].T @ dy[:, i]
    return dx, dw


def conv1d_backward_bug(x, w, dy):
    """Planted bug: the kernel is flipped in the input gradient."""
    K = w.shape[0]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dy.shape[1]):
        dx[:, i:i + K] += np.outer(dy[:, i], w[::-1])
        dw += x[:, i:i + K].T @ dy[:, i]
    return dx, dw


def cross_entropy(model, y_pred, y, reg):
    """A loss with the model's weights in it for an L2 term; its derivative only needs (y_pred, y)."""
    m = y_pred.shape[0]
    prob = np.exp(y_pred - y_pred.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    data_loss = -np.sum(np.log(prob[range(m), y])) / m
    reg_loss = 0.5 * reg * sum(np.sum(W * W) for k, W in model.items() if k.startswith("W"))
    return data_loss + reg_loss


def dcross_entropy(y_pred, y):
    m = y_pred.shape[0]
    grad_y = np.exp(y_pred - y_pred.max(axis=1, keepdims=True))
    grad_y /= grad_y.sum(axis=1, keepdims=True)
    grad_y[range(m), y] -= 1.
    grad_y /= m
    return grad_y


def dcross_entropy_bug(y_pred, y):
    """Planted bug: the batch average is forgotten."""
    m = y_pred.shape[0]
    grad_y = np.exp(y_pred - y_pred.max(axis=1, keepdims=True))
    grad_y /= grad_y.sum(axis=1, keepdims=True)
    grad_y[range(m), y] -= 1.
    return grad_y


def mse(y_hat, y):
    return np.mean((y_hat - y) ** 2)


def mse_grad(y, y_hat):
    """The derivative takes its arguments in the other order."""
    return 2 * (y_hat - y) / y.size


def mse_grad_bug(y, y_hat):
    """Planted bug: the sign is flipped."""
    return 2 * (y - y_hat) / y.size


def sigmoid_inputs(rng):
    return (rng.normal(size=(3, 4)),), {}


def conv1d_inputs(rng):
    return (rng.normal(size=(2, 7)), rng.normal(size=3)), {}


def cross_entropy_inputs(rng):
    model = {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5), "W2": rng.normal(size=(5, 3))}
    return (model, rng.normal(size=(6, 3)), rng.integers(0, 3, size=6), 0.1), {}


def mse_inputs(rng):
    return (rng.normal(size=(5, 2)), rng.normal(size=(5, 2))), {}
