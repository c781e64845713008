"""Activations paired with their derivatives, as course notebooks write them: both return arrays.

Each correct pair has a buggy twin with a slip students make. `softmax` with an elementwise "derivative"
is the odd one: its outputs mix its inputs, so the pair has no single meaning and must be refused.
"""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(x):
    s = sigmoid(x)
    return s * (1 - s)


def sigmoid_derivative_bug(x):
    return sigmoid(x) * (1 - x)  # the derivative taken in the wrong variable


def tanh(z):
    return np.tanh(z)


def tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


def tanh_prime_bug(z):
    return 1.0 - np.tanh(z)  # 1 - y instead of 1 - y**2


def leaky_relu(Z, alpha=0.01):
    return np.where(Z > 0, Z, alpha * Z)


def leaky_relu_backward_grad(Z, alpha=0.01):
    dZ = np.ones_like(Z)
    dZ[Z < 0] = alpha
    return dZ


def leaky_relu_backward_grad_bug(Z, alpha=0.01):
    dZ = np.ones_like(Z)
    dZ[Z < 0] = 0  # the leak forgotten: plain ReLU's derivative
    return dZ


def squared_error(y_hat, y):
    return 0.5 * (y_hat - y) ** 2


def squared_error_prime(y_hat, y):
    return y_hat - y


def squared_error_prime_bug(y_hat, y):
    return y - y_hat  # the sign flipped


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def softmax_derivative(x):
    s = softmax(x)
    return s * (1 - s)  # the Jacobian's diagonal only: undefined as "the" gradient of an array
