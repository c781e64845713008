"""Whole-model costs over a parameters dict, as a gradient-checking assignment writes them: the forward
returns (cost, cache) and the backward takes the data and the cache, never an upstream gradient."""

import numpy as np


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward_propagation_n(X, Y, parameters):
    m = X.shape[1]
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1. / m * np.sum(logprobs)
    cache = (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3)
    return cost, cache


def backward_propagation_n(X, Y, cache):
    return _backward(X, Y, cache, 1.0, 1.0)


def backward_propagation_n_bug(X, Y, cache):
    """Planted bugs as the assignment plants them: dW2 doubled, db1 with 4/m."""
    return _backward(X, Y, cache, 2.0, 4.0)


def _backward(X, Y, cache, w2_factor, b1_factor):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1. / m * np.dot(dZ3, A2.T)
    db3 = 1. / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = w2_factor / m * np.dot(dZ2, A1.T)
    db2 = 1. / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1. / m * np.dot(dZ1, X.T)
    db1 = b1_factor / m * np.sum(dZ1, axis=1, keepdims=True)
    gradients = {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2,
                 "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}
    return gradients


def model_cost(parameters, X, Y):
    """Another hand: parameters first, softmax cross-entropy, the cache as a dict."""
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    H = np.tanh(X @ W1 + b1)
    scores = H @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    n = X.shape[0]
    cost = -np.sum(Y * np.log(probs)) / n
    return cost, {"X": X, "H": H, "probs": probs, "params": parameters}


def model_grads(cache, X, Y):
    """Gradients keyed by the parameters' own names (no d prefix)."""
    H, probs, W2 = cache["H"], cache["probs"], cache["params"]["W2"]
    n = X.shape[0]
    dscores = (probs - Y) / n
    dH = dscores @ W2.T * (1 - H ** 2)
    return {"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": H.T @ dscores, "b2": dscores.sum(axis=0)}


def model_grads_bug(cache, X, Y):
    """Planted bug: tanh's derivative written as 1 - H."""
    H, probs, W2 = cache["H"], cache["probs"], cache["params"]["W2"]
    n = X.shape[0]
    dscores = (probs - Y) / n
    dH = dscores @ W2.T * (1 - H)
    return {"W1": X.T @ dH, "b1": dH.sum(axis=0), "W2": H.T @ dscores, "b2": dscores.sum(axis=0)}


def model_n_inputs(rng):
    X = rng.normal(size=(4, 3))
    Y = np.array([[1.0, 0.0, 1.0]])
    parameters = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=(5, 1)), "W2": rng.normal(size=(3, 5)),
                  "b2": rng.normal(size=(3, 1)), "W3": rng.normal(size=(1, 3)), "b3": rng.normal(size=(1, 1))}
    return (X, Y, parameters), {}


def model_cost_inputs(rng):
    X = rng.normal(size=(6, 4))
    Y = np.eye(3)[rng.integers(0, 3, size=6)]
    parameters = {"W1": rng.normal(size=(4, 5)) * 0.5, "b1": rng.normal(size=5) * 0.1,
                  "W2": rng.normal(size=(5, 3)) * 0.5, "b2": rng.normal(size=3) * 0.1}
    return (parameters, X, Y), {}
