"""Forwards that return more than (out, cache): attention weights, a running statistic, predicted classes,
the cache first. The backward takes a gradient only for the output it differentiates."""

import numpy as np


def attention_forward(Q, K, V):
    d = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=1, keepdims=True)
    out = weights @ V
    cache = (Q, K, V, weights)
    return out, weights, cache


def attention_backward(dout, cache):
    Q, K, V, weights = cache
    d = Q.shape[-1]
    dV = weights.T @ dout
    dweights = dout @ V.T
    dscores = weights * (dweights - np.sum(dweights * weights, axis=1, keepdims=True))
    dQ = dscores @ K / np.sqrt(d)
    dK = dscores.T @ Q / np.sqrt(d)
    return dQ, dK, dV


def attention_backward_bug(dout, cache):
    """Planted bug: the softmax Jacobian's row term is dropped."""
    Q, K, V, weights = cache
    d = Q.shape[-1]
    dV = weights.T @ dout
    dscores = weights * (dout @ V.T)
    dQ = dscores @ K / np.sqrt(d)
    dK = dscores.T @ Q / np.sqrt(d)
    return dQ, dK, dV


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    return out, mu, (xhat, gamma, var, eps)


def layernorm_backward(dout, cache):
    xhat, gamma, var, eps = cache
    D = xhat.shape[1]
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(axis=1, keepdims=True) - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) \
        / (D * np.sqrt(var + eps))
    return dx, dgamma, dbeta


def layernorm_backward_bug(dout, cache):
    """Planted bug: the mean's path is forgotten."""
    xhat, gamma, var, eps = cache
    D = xhat.shape[1]
    dxhat = dout * gamma
    dx = (D * dxhat - xhat * np.sum(dxhat * xhat, axis=1, keepdims=True)) / (D * np.sqrt(var + eps))
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def softmax_forward(z):
    shifted = z - z.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    preds = probs.argmax(axis=1)
    return probs, preds, probs


def softmax_backward(dprobs, probs):
    dz = probs * (dprobs - np.sum(dprobs * probs, axis=1, keepdims=True))
    return dz


def softmax_backward_bug(dprobs, probs):
    """Planted bug: only the diagonal of the Jacobian."""
    dz = probs * (1 - probs) * dprobs
    return dz


def tanh_forward(x, w):
    """The cache comes first."""
    y = np.tanh(x @ w)
    return (x, w, y), y


def tanh_backward(dy, cache):
    x, w, y = cache
    dz = dy * (1 - y ** 2)
    return dz @ w.T, x.T @ dz


def tanh_backward_bug(dy, cache):
    """Planted bug: tanh' taken as 1 - tanh."""
    x, w, y = cache
    dz = dy * (1 - y)
    return dz @ w.T, x.T @ dz


def attention_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))), {}


def layernorm_inputs(rng):
    return (rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=6)), {}


def softmax_inputs(rng):
    return (rng.normal(size=(4, 5)),), {}


def tanh_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(3, 2))), {}
