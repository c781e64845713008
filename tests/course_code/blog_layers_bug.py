"""The blog layer with planted bugs: the input gradient computed after the update, mse_prime without the 2."""
import numpy as np

from blog_layers import Dense as _Dense
from blog_layers import mse  # noqa: F401


class Dense(_Dense):
    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return np.dot(self.weights.T, output_gradient)  # uses the already-updated weights


def mse_prime(y_true, y_pred):
    return (y_pred - y_true) / np.size(y_true)
