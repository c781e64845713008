"""Costs returned together with their gradient, with the differentiated array in other places: the
parameters last (a machine-learning course's regularized linear regression), and the classic
vectorized SVM and softmax losses over a weight matrix."""

import numpy as np


def linear_reg_cost(X, y, theta, lambda_):
    m = y.size
    h = X @ theta
    J = np.sum((h - y) ** 2) / (2 * m) + lambda_ / (2 * m) * np.sum(theta[1:] ** 2)
    grad = X.T @ (h - y) / m
    grad[1:] += lambda_ / m * theta[1:]
    return J, grad


def linear_reg_cost_bug(X, y, theta, lambda_):
    """Planted bug: the bias term is regularized too."""
    m = y.size
    h = X @ theta
    J = np.sum((h - y) ** 2) / (2 * m) + lambda_ / (2 * m) * np.sum(theta[1:] ** 2)
    grad = X.T @ (h - y) / m + lambda_ / m * theta
    return J, grad


def svm_loss_vectorized(W, X, y, reg):
    N = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    binary = (margins > 0).astype(float)
    binary[np.arange(N), y] = -binary.sum(axis=1)
    dW = X.T.dot(binary) / N + 2 * reg * W
    return loss, dW


def svm_loss_vectorized_bug(W, X, y, reg):
    """Planted bug: the regularization gradient misses its factor 2."""
    N = X.shape[0]
    scores = X.dot(W)
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0, scores - correct + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    binary = (margins > 0).astype(float)
    binary[np.arange(N), y] = -binary.sum(axis=1)
    dW = X.T.dot(binary) / N + reg * W
    return loss, dW


def linear_reg_inputs(rng):
    X = np.hstack([np.ones((6, 1)), rng.normal(size=(6, 2))])
    return (X, rng.normal(size=6), rng.normal(size=3), 0.5), {}


def svm_inputs(rng):
    return (rng.normal(size=(5, 3)) * 0.1, rng.normal(size=(6, 5)), rng.integers(0, 3, size=6), 0.1), {}
