"""Optimizer loops as the course report this project started from writes them: the gradient function and
positional hyperparameters without defaults, and momentum as an exponential average."""

import numpy as np


def sgd(w, compute_gradient, learning_rate, num_steps):
    for _ in range(num_steps):
        w = w - learning_rate * compute_gradient(w)
    return w


def sgd_bug(w, compute_gradient, learning_rate, num_steps):
    """Planted bug: the step climbs the gradient."""
    for _ in range(num_steps):
        w = w + learning_rate * compute_gradient(w)
    return w


def adam(w, compute_gradient, learning_rate, beta1, beta2, num_steps):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, num_steps + 1):
        g = compute_gradient(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        w = w - learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
    return w


def adam_bug(w, compute_gradient, learning_rate, beta1, beta2, num_steps):
    """Planted bug: no bias correction."""
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, num_steps + 1):
        g = compute_gradient(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        w = w - learning_rate * m / (np.sqrt(v) + 1e-8)
    return w


def momentum(w, compute_gradient, learning_rate, beta, num_steps):
    """The exponentially averaged velocity a major course teaches."""
    v = np.zeros_like(w)
    for _ in range(num_steps):
        v = beta * v + (1 - beta) * compute_gradient(w)
        w = w - learning_rate * v
    return w


def momentum_bug(w, compute_gradient, learning_rate, beta, num_steps):
    """Planted bug: the velocity forgets its own past."""
    v = np.zeros_like(w)
    for _ in range(num_steps):
        v = beta * compute_gradient(w) + (1 - beta) * compute_gradient(w)
        w = w - learning_rate * v
    return w


# (correct, bug, the rule, what the bug's report names)
LOOPS = [("sgd", "sgd_bug", "sgd", "wrong sign"), ("adam", "adam_bug", "adam", "bias correction missing"),
         ("momentum", "momentum_bug", "momentum-ema", "")]
