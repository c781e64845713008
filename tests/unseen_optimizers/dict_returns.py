"""Functions over dicts keyed alike that build new dicts rather than updating in place, and an Adam that counts
its own steps and hands the counter back (written for these tests)."""

import numpy as np


def rmsprop_update(weights, gradients, cache, lr=1e-3, decay_rate=0.9, eps=1e-8):
    new_cache = {k: decay_rate * cache[k] + (1 - decay_rate) * gradients[k] ** 2 for k in weights}
    new_weights = {k: weights[k] - lr * gradients[k] / (np.sqrt(new_cache[k]) + eps) for k in weights}
    return new_weights, new_cache


def rmsprop_update_bug(weights, gradients, cache, lr=1e-3, decay_rate=0.9, eps=1e-8):
    """Planted bug: the cache averages |g|, not g squared."""
    new_cache = {k: decay_rate * cache[k] + (1 - decay_rate) * np.abs(gradients[k]) for k in weights}
    new_weights = {k: weights[k] - lr * gradients[k] / (np.sqrt(new_cache[k]) + eps) for k in weights}
    return new_weights, new_cache


def adam_step(params, grads, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """The caller starts with t = 0 and keeps what comes back: params, m, v, t = adam_step(..., t)."""
    t += 1
    out = {}
    for k in params:
        m[k] = b1 * m[k] + (1 - b1) * grads[k]
        v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
        out[k] = params[k] - lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
    return out, m, v, t


def adam_step_bug(params, grads, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Planted bug: the counter is never incremented, so the caller gets back the t it gave."""
    out = {}
    for k in params:
        m[k] = b1 * m[k] + (1 - b1) * grads[k]
        v[k] = b2 * v[k] + (1 - b2) * grads[k] * grads[k]
        out[k] = params[k] - lr * (m[k] / (1 - b1 ** t)) / (np.sqrt(v[k] / (1 - b2 ** t)) + eps)
    return out, m, v, t


def heavy_ball(x, dx, buf, eta=0.05, gamma=0.9):
    """Polyak's heavy ball in PyTorch's form, on one array: buf = gamma*buf + dx; x -= eta*buf."""
    buf = gamma * buf + dx
    return x - eta * buf, buf


def heavy_ball_bug(x, dx, buf, eta=0.05, gamma=0.9):
    """Planted bug: eta is folded into the buffer and applied again."""
    buf = gamma * buf + eta * dx
    return x - eta * buf, buf
