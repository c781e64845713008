"""One function returning a cost and its gradients together, in the orders course code uses."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def propagate(w, b, X, Y):
    """Logistic regression: the gradients first, then the cost."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = np.dot(X, (A - Y).T) / m
    db = np.sum(A - Y) / m
    grads = {"dw": dw, "db": db}
    return grads, cost


def propagate_bug(w, b, X, Y):
    """Planted bug: dw is not averaged."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    grads = {"dw": np.dot(X, (A - Y).T), "db": np.sum(A - Y) / m}
    return grads, cost


def softmax_cost_and_grads(params, X, y):
    """The cost first, then a dict of gradients keyed d<name>."""
    W, b = params["W"], params["b"]
    scores = X @ W + b
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    n = X.shape[0]
    cost = -np.log(probs[np.arange(n), y]).mean()
    dscores = probs.copy()
    dscores[np.arange(n), y] -= 1
    dscores /= n
    return cost, {"dW": X.T @ dscores, "db": dscores.sum(axis=0)}


def softmax_cost_and_grads_bug(params, X, y):
    """Planted bug: the label term is subtracted from every class."""
    W, b = params["W"], params["b"]
    scores = X @ W + b
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    n = X.shape[0]
    cost = -np.log(probs[np.arange(n), y]).mean()
    dscores = (probs - 1) / n
    return cost, {"dW": X.T @ dscores, "db": dscores.sum(axis=0)}


def propagate_inputs(rng):
    return (rng.normal(size=(3, 1)), np.array(0.2), rng.normal(size=(3, 6)),
            np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]])), {}


def softmax_inputs(rng):
    return ({"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}, rng.normal(size=(6, 4)),
            rng.integers(0, 3, size=6)), {}
