"""One variable at a time, hyperparameters first and the state handed back, as a school's numpy curriculum writes
its optimization tasks (written for these tests)."""

import numpy as np


def update_variables_momentum(alpha, beta1, var, grad, v):
    """Returns the updated variable and the new moment."""
    v = beta1 * v + (1 - beta1) * grad
    return var - alpha * v, v


def update_variables_momentum_bug(alpha, beta1, var, grad, v):
    """Planted bug: the new moment weighs the old one by (1 - beta1)."""
    v = (1 - beta1) * v + beta1 * grad
    return var - alpha * v, v


def update_variables_RMSProp(alpha, beta2, epsilon, var, grad, s):
    s = beta2 * s + (1 - beta2) * grad ** 2
    var = var - alpha * grad / (np.sqrt(s) + epsilon)
    return var, s


def update_variables_RMSProp_bug(alpha, beta2, epsilon, var, grad, s):
    """Planted bug: the gradient is not squared."""
    s = beta2 * s + (1 - beta2) * np.abs(grad)
    var = var - alpha * grad / (np.sqrt(s) + epsilon)
    return var, s


def update_variables_Adam(alpha, beta1, beta2, epsilon, var, grad, v, s, t):
    v = beta1 * v + (1 - beta1) * grad
    s = beta2 * s + (1 - beta2) * grad ** 2
    v_hat = v / (1 - beta1 ** t)
    s_hat = s / (1 - beta2 ** t)
    var = var - alpha * v_hat / (np.sqrt(s_hat) + epsilon)
    return var, v, s


def update_variables_Adam_bug(alpha, beta1, beta2, epsilon, var, grad, v, s, t):
    """Planted bug: epsilon inside the square root."""
    v = beta1 * v + (1 - beta1) * grad
    s = beta2 * s + (1 - beta2) * grad ** 2
    v_hat = v / (1 - beta1 ** t)
    s_hat = s / (1 - beta2 ** t)
    var = var - alpha * v_hat / np.sqrt(s_hat + epsilon)
    return var, v, s
