"""The blog layer with planted bugs: the input gradient computed after the update, mse_prime without the 2."""
import numpy as np


class Dense:
    def __init__(self, input_size, output_size):
        rng = np.random.default_rng(7)
        self.weights = rng.standard_normal((output_size, input_size))
        self.bias = rng.standard_normal((output_size, 1))

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return np.dot(self.weights.T, output_gradient)  # uses the already-updated weights


def mse(y_true, y_pred):
    return np.mean(np.power(y_true - y_pred, 2))


def mse_prime(y_true, y_pred):
    return (y_pred - y_true) / np.size(y_true)
