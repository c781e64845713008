"""Networks as course notebooks write them: (features, batch) layers whose cache nests two caches,
a two-layer net whose backward returns a dict keyed by the parameters' own names, an embedding
lookup with integer inputs."""

import numpy as np


def linear_activation_forward(A_prev, W, b, activation):
    Z = W.dot(A_prev) + b
    linear_cache = (A_prev, W, b)
    if activation == "sigmoid":
        A = 1 / (1 + np.exp(-Z))
    else:
        A = np.maximum(0, Z)
    cache = (linear_cache, Z)
    return A, cache


def linear_activation_backward(dA, cache, activation):
    linear_cache, Z = cache
    A_prev, W, b = linear_cache
    if activation == "sigmoid":
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s)
    else:
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
    dW = dZ.dot(A_prev.T)
    db = np.sum(dZ, axis=1, keepdims=True)
    dA_prev = W.T.dot(dZ)
    return dA_prev, dW, db


def linear_activation_backward_bug(dA, cache, activation):
    """Planted bug: db sums over the wrong axis and is broadcast back."""
    linear_cache, Z = cache
    A_prev, W, b = linear_cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s) if activation == "sigmoid" else dA * (Z > 0)
    dW = dZ.dot(A_prev.T)
    db = np.sum(dZ, axis=0, keepdims=True).mean() * np.ones_like(b)
    dA_prev = W.T.dot(dZ)
    return dA_prev, dW, db


def two_layer_forward(X, params):
    h = np.maximum(0, X @ params["W1"] + params["b1"])
    scores = h @ params["W2"] + params["b2"]
    return scores, (X, h, params)


def two_layer_backward(dscores, cache):
    X, h, params = cache
    grads = {"W2": h.T @ dscores, "b2": dscores.sum(axis=0)}
    dh = dscores @ params["W2"].T
    dh[h <= 0] = 0
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    return grads


def two_layer_backward_bug(dscores, cache):
    """Planted bug: W2's gradient uses the input instead of the hidden layer's shape-compatible transpose."""
    X, h, params = cache
    grads = {"W2": (dscores.T @ h).T * 0.5, "b2": dscores.sum(axis=0)}
    dh = dscores @ params["W2"].T
    dh[h <= 0] = 0
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    return grads


def embed_forward(idx, W):
    out = W[idx]
    return out, (idx, W.shape)


def embed_backward(dout, cache):
    idx, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, idx, dout)
    return dW


def embed_backward_bug(dout, cache):
    """Planted bug: repeated indices overwrite instead of accumulating."""
    idx, shape = cache
    dW = np.zeros(shape)
    dW[idx] = dout
    return dW


def linear_inputs(rng):
    return (rng.normal(size=(4, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 1)), "sigmoid"), {}


def two_layer_inputs(rng):
    params = {"W1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6) * 0.1, "W2": rng.normal(size=(6, 3)),
              "b2": rng.normal(size=3)}
    return (rng.normal(size=(5, 4)), params), {}


def embed_inputs(rng):
    return (np.array([[0, 2, 2], [1, 0, 2]]), rng.normal(size=(4, 3))), {}
