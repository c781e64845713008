"""Optimizers written as loop functions that ask for their own gradients: w = rule(w, compute_gradient, ...)."""

import numpy as np


def gradient_descent(w, compute_gradient, learning_rate=0.1, num_steps=100):
    for _ in range(num_steps):
        w = w - learning_rate * compute_gradient(w)
    return w


def momentum(w, compute_gradient, lr=0.05, beta=0.9, num_steps=100):
    v = np.zeros_like(w)
    for _ in range(num_steps):
        v = beta * v + compute_gradient(w)
        w = w - lr * v
    return w


def momentum_ema_bug(w, compute_gradient, lr=0.05, beta=0.9, num_steps=100):
    """Velocity as an average, v = beta*v + (1-beta)*g, checked as PyTorch/classic momentum."""
    v = np.zeros_like(w)
    for _ in range(num_steps):
        v = beta * v + (1 - beta) * compute_gradient(w)
        w = w - lr * v
    return w


def adam(w, compute_gradient, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, num_steps + 1):
        g = compute_gradient(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def adam_eps_inside_bug(w, compute_gradient, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, num_steps=100):
    """eps inside the square root."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, num_steps + 1):
        g = compute_gradient(w)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w = w - lr * (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t) + eps)
    return w


def rmsprop_raises_bug(w, compute_gradient, lr=0.01, rho=0.9, eps=1e-8, num_steps=100):
    """Raises at the third step (a typo only reached then)."""
    s = np.zeros_like(w)
    for step in range(num_steps):
        g = compute_gradient(w)
        s = rho * s + (1 - rho) * g * g
        if step == 2:
            s = s + undefined_name  # noqa: F821
        w = w - lr * g / (np.sqrt(s) + eps)
    return w


def descend(w, compute_gradient, num_steps=50):
    """Plain gradient descent with its learning rate hard-coded."""
    for _ in range(num_steps):
        w = w - 0.05 * compute_gradient(w)
    return w
