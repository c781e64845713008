"""A function and its gradient in styles gradviz was not written for (our own code, course-exercise style):
the parameters first and the data after them (`cost(theta, X, y)`, the theta among arrays that could each be
differentiated), a test function of one array, a regularised loss with a setting. Each correct; each
`..._bug` plants one mistake."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cost(theta, X, y):
    m = y.size
    h = sigmoid(X @ theta)
    return float(-(y @ np.log(h) + (1 - y) @ np.log(1 - h)) / m)


def gradient(theta, X, y):
    return X.T @ (sigmoid(X @ theta) - y) / y.size


def gradient_bug(theta, X, y):
    """Planted bug: the average over the m examples is forgotten."""
    return X.T @ (sigmoid(X @ theta) - y)


def rosenbrock(p):
    return float(np.sum(100.0 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2))


def rosenbrock_grad(p):
    g = np.zeros_like(p)
    g[:-1] = -400.0 * p[:-1] * (p[1:] - p[:-1] ** 2) - 2 * (1 - p[:-1])
    g[1:] += 200.0 * (p[1:] - p[:-1] ** 2)
    return g


def rosenbrock_grad_bug(p):
    """Planted bug: the inner derivative 2 p of p ** 2 is taken as p."""
    g = np.zeros_like(p)
    g[:-1] = -200.0 * p[:-1] * (p[1:] - p[:-1] ** 2) - 2 * (1 - p[:-1])
    g[1:] += 200.0 * (p[1:] - p[:-1] ** 2)
    return g


def ridge_loss(w, X, y, lam):
    r = X @ w - y
    return float(r @ r / (2 * len(y)) + lam * w @ w)


def ridge_grad(w, X, y, lam):
    return X.T @ (X @ w - y) / len(y) + 2 * lam * w


def ridge_grad_bug(w, X, y, lam):
    """Planted bug: the derivative of lam * w @ w taken as lam * w."""
    return X.T @ (X @ w - y) / len(y) + lam * w


def energy(u, v):
    """Odd: two arrays of one shape, and nothing says which one energy_grad differentiates."""
    return float(np.sum(u ** 2 * v))


def energy_grad(u, v):
    return 2 * u * v


def logistic_inputs(rng):
    X = np.hstack([np.ones((6, 1)), rng.normal(size=(6, 2))])
    return rng.normal(size=3) * 0.5, X, (rng.uniform(size=6) > 0.5).astype(float)


def rosenbrock_inputs(rng):
    return (rng.uniform(-1.2, 1.2, size=4),)


def ridge_inputs(rng):
    return rng.normal(size=3), rng.normal(size=(7, 3)), rng.normal(size=7), 0.3


def energy_inputs(rng):
    return rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
