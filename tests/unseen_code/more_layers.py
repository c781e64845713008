"""More layer functions as assignments and small libraries write them: pooling with an argmax cache, dropout
with its mask drawn from a seed it is given, batch norm in (features, batch) layout that also returns its
running statistics, a leaky ReLU with a setting, a time-distributed affine layer, cosine similarity of two
inputs, a whole-sequence RNN, a two-headed encoder, a softplus with a sharpness setting."""

import numpy as np


def maxpool1d_forward(x, size=2):
    N, L = x.shape
    windows = x[:, : L // size * size].reshape(N, L // size, size)
    idx = windows.argmax(axis=2)
    out = np.take_along_axis(windows, idx[..., None], axis=2)[..., 0]
    return out, (x.shape, idx, size)


def maxpool1d_backward(dout, cache):
    shape, idx, size = cache
    N, L = shape
    dwin = np.zeros((N, L // size, size))
    np.put_along_axis(dwin, idx[..., None], dout[..., None], axis=2)
    dx = np.zeros(shape)
    dx[:, : L // size * size] = dwin.reshape(N, -1)
    return dx


def maxpool1d_backward_bug(dout, cache):
    """Planted bug: the gradient goes to the first element of each window, not the maximum."""
    shape, idx, size = cache
    N, L = shape
    dx = np.zeros(shape)
    dx[:, 0: L // size * size: size] = dout
    return dx


def dropout_forward(x, p, seed):
    mask = (np.random.default_rng(seed).random(x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * mask


def dropout_backward_bug(dout, mask):
    """Planted bug: the kept units are not rescaled by 1/p."""
    return dout * (mask > 0)


def batchnorm_forward(Z, gamma, beta, running_mean, running_var, momentum=0.9, eps=1e-5):
    mu = Z.mean(axis=1, keepdims=True)
    var = Z.var(axis=1, keepdims=True)
    Z_norm = (Z - mu) / np.sqrt(var + eps)
    out = gamma * Z_norm + beta
    new_mean = momentum * running_mean + (1 - momentum) * mu
    new_var = momentum * running_var + (1 - momentum) * var
    return out, new_mean, new_var, (Z_norm, gamma, var, eps)


def batchnorm_backward(dout, cache):
    Z_norm, gamma, var, eps = cache
    m = Z_norm.shape[1]
    dgamma = np.sum(dout * Z_norm, axis=1, keepdims=True)
    dbeta = np.sum(dout, axis=1, keepdims=True)
    dZ_norm = dout * gamma
    centered = m * dZ_norm - dZ_norm.sum(axis=1, keepdims=True)
    dZ = (centered - Z_norm * np.sum(dZ_norm * Z_norm, axis=1, keepdims=True)) / (m * np.sqrt(var + eps))
    return dZ, dgamma, dbeta


def batchnorm_backward_bug(dout, cache):
    """Planted bug: dgamma forgets the normalized input."""
    Z_norm, gamma, var, eps = cache
    m = Z_norm.shape[1]
    dZ_norm = dout * gamma
    centered = m * dZ_norm - dZ_norm.sum(axis=1, keepdims=True)
    dZ = (centered - Z_norm * np.sum(dZ_norm * Z_norm, axis=1, keepdims=True)) / (m * np.sqrt(var + eps))
    return dZ, np.sum(dout, axis=1, keepdims=True), np.sum(dout, axis=1, keepdims=True)


def leaky_relu_forward(x, alpha=0.1):
    out = np.where(x > 0, x, alpha * x)
    return out, (x, alpha)


def leaky_relu_backward(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha)


def leaky_relu_backward_bug(dout, cache):
    """Planted bug: the negative side's slope is taken as 0."""
    x, alpha = cache
    return dout * (x > 0)


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    out = x.reshape(N * T, D).dot(w).reshape(N, T, -1) + b
    return out, (x, w, b, out)


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_affine_backward_bug(dout, cache):
    """Planted bug: db sums over the batch only and keeps the last time step."""
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=0)[-1]
    return dx, dw, db


def cosine_forward(a, b):
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    sim = np.sum(a * b, axis=1, keepdims=True) / (na * nb)
    return sim, (a, b, na, nb, sim)


def cosine_backward(dsim, cache):
    a, b, na, nb, sim = cache
    da = dsim * (b / (na * nb) - sim * a / na ** 2)
    db = dsim * (a / (na * nb) - sim * b / nb ** 2)
    return da, db


def cosine_backward_bug(dsim, cache):
    """Planted bug: the norms are treated as constants."""
    a, b, na, nb, sim = cache
    return dsim * b / (na * nb), dsim * a / (na * nb)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h, prev, states = np.zeros((N, T, h0.shape[1])), h0, []
    for t in range(T):
        prev = np.tanh(x[:, t].dot(Wx) + prev.dot(Wh) + b)
        h[:, t] = prev
    return h, (x, h0, Wx, Wh, h)


def _rnn_backward(dh, cache, carry=True):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dprev = np.zeros_like(h0)
    for t in reversed(range(T)):
        prev = h[:, t - 1] if t > 0 else h0
        dz = (dh[:, t] + (dprev if carry else 0)) * (1 - h[:, t] ** 2)
        dx[:, t], dWx, dWh, db = dz.dot(Wx.T), dWx + x[:, t].T.dot(dz), dWh + prev.T.dot(dz), db + dz.sum(axis=0)
        dprev = dz.dot(Wh.T)
    return dx, dprev, dWx, dWh, db


def rnn_backward(dh, cache):
    dx, dh0, dWx, dWh, db = _rnn_backward(dh, cache)
    return dx, dh0, dWx, dWh, db


def rnn_backward_bug(dh, cache):
    """Planted bug: the gradient from later time steps is not carried back."""
    dx, dh0, dWx, dWh, db = _rnn_backward(dh, cache, carry=False)
    return dx, dh0, dWx, dWh, db


def encoder_forward(x, W_mu, W_logvar):
    """Two heads: a mean and a log-variance, each with its own upstream gradient."""
    mu = x @ W_mu
    logvar = np.tanh(x @ W_logvar)
    return mu, logvar, (x, W_mu, W_logvar, logvar)


def encoder_backward(dmu, dlogvar, cache):
    x, W_mu, W_logvar, logvar = cache
    dz = dlogvar * (1 - logvar ** 2)
    dx = dmu @ W_mu.T + dz @ W_logvar.T
    return dx, x.T @ dmu, x.T @ dz


def encoder_backward_bug(dmu, dlogvar, cache):
    """Planted bug: the log-variance head's contribution to dx is dropped."""
    x, W_mu, W_logvar, logvar = cache
    dz = dlogvar * (1 - logvar ** 2)
    return dmu @ W_mu.T, x.T @ dmu, x.T @ dz


def softplus_forward(x, w, beta=2.0):
    z = x @ w
    return np.log1p(np.exp(beta * z)) / beta


def softplus_backward(dout, x, w, beta=2.0):
    s = 1 / (1 + np.exp(-beta * (x @ w)))
    dz = dout * s
    return dz @ w.T, x.T @ dz


def softplus_backward_bug(dout, x, w, beta=2.0):
    """Planted bug: the sharpness is applied twice."""
    s = 1 / (1 + np.exp(-beta * (x @ w)))
    dz = dout * s * beta
    return dz @ w.T, x.T @ dz


def huber_loss(y, y_pred, delta=1.0):
    r = y_pred - y
    quad = np.minimum(np.abs(r), delta)
    return np.mean(0.5 * quad ** 2 + delta * (np.abs(r) - quad))


def huber_grad(y_pred, y):
    r = y_pred - y
    return np.clip(r, -1.0, 1.0) / r.size


def huber_grad_bug(y_pred, y):
    """Planted bug: the linear region's slope has the wrong sign."""
    r = y_pred - y
    return np.where(np.abs(r) <= 1.0, r, -np.sign(r)) / r.size


def log_softmax_forward(z):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    p = np.exp(logp)
    return logp, p


def log_softmax_backward(dlogp, p):
    return dlogp - p * dlogp.sum(axis=1, keepdims=True)


def log_softmax_backward_bug(dlogp, p):
    """Planted bug: the normalizer's gradient forgets the sum over classes."""
    return dlogp - p * dlogp


def pad_forward(x, pad):
    return np.pad(x, ((0, 0), (pad, pad)))


def pad_backward(dout, pad):
    return dout[:, pad:-pad]


def pad_backward_bug(dout, pad):
    """Planted bug: the slice is shifted by one."""
    return dout[:, pad - 1:-pad - 1]


def bilinear_forward(x1, x2, W):
    out = np.einsum("ni,ij,nj->n", x1, W, x2)
    return out, (x1, x2, W)


def bilinear_backward(dout, cache):
    x1, x2, W = cache
    dx1 = dout[:, None] * (x2 @ W.T)
    dx2 = dout[:, None] * (x1 @ W)
    dW = np.einsum("n,ni,nj->ij", dout, x1, x2)
    return dx1, dx2, dW


def bilinear_backward_bug(dout, cache):
    """Planted bug: dW is transposed (it only fits because W is square)."""
    x1, x2, W = cache
    dx1 = dout[:, None] * (x2 @ W.T)
    dx2 = dout[:, None] * (x1 @ W)
    dW = np.einsum("n,ni,nj->ji", dout, x1, x2)
    return dx1, dx2, dW


def log_softmax_inputs(rng):
    return (rng.normal(size=(4, 5)),), {}


def pad_inputs(rng):
    return (rng.normal(size=(3, 4)), 2), {}


def bilinear_inputs(rng):
    return (rng.normal(size=(5, 3)), rng.normal(size=(5, 3)), rng.normal(size=(3, 3))), {}


def maxpool_inputs(rng):
    return (rng.normal(size=(3, 8)),), {}


def dropout_inputs(rng):
    return (rng.normal(size=(4, 5)), 0.6, 7), {}


def batchnorm_inputs(rng):
    return (rng.normal(size=(3, 6)), rng.normal(size=(3, 1)), rng.normal(size=(3, 1)), np.zeros((3, 1)),
            np.ones((3, 1))), {}


def leaky_inputs(rng):
    return (rng.normal(size=(4, 5)),), {}


def temporal_inputs(rng):
    return (rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)), {}


def cosine_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))), {}


def rnn_inputs(rng):
    return (rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5)), rng.normal(size=(4, 5)) * 0.5,
            rng.normal(size=(5, 5)) * 0.5, rng.normal(size=5)), {}


def encoder_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))), {}


def softplus_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)) * 0.5), {}


def huber_inputs(rng):
    return (rng.normal(size=(6, 2)), rng.normal(size=(6, 2)) * 2), {}
