"""Optimizers that update the layer handed to them and keep their state on it, in the style of a popular
from-scratch neural-network book (written for these tests)."""

import numpy as np


class Optimizer_SGD:
    def __init__(self, learning_rate=1.0, momentum=0.5):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.iterations = 0

    def pre_update_params(self):
        pass

    def update_params(self, layer):
        if self.momentum:
            if not hasattr(layer, "weight_momentums"):
                layer.weight_momentums = np.zeros_like(layer.weights)
                layer.bias_momentums = np.zeros_like(layer.biases)
            weight_updates = self.momentum * layer.weight_momentums - self.learning_rate * layer.dweights
            layer.weight_momentums = weight_updates
            bias_updates = self.momentum * layer.bias_momentums - self.learning_rate * layer.dbiases
            layer.bias_momentums = bias_updates
        else:
            weight_updates = -self.learning_rate * layer.dweights
            bias_updates = -self.learning_rate * layer.dbiases
        layer.weights += weight_updates
        layer.biases += bias_updates

    def post_update_params(self):
        self.iterations += 1


class Optimizer_SGD_bug(Optimizer_SGD):
    """Planted bug: the biases take the plain gradient step, without their momentum."""

    def update_params(self, layer):
        if not hasattr(layer, "weight_momentums"):
            layer.weight_momentums = np.zeros_like(layer.weights)
        weight_updates = self.momentum * layer.weight_momentums - self.learning_rate * layer.dweights
        layer.weight_momentums = weight_updates
        layer.weights += weight_updates
        layer.biases += -self.learning_rate * layer.dbiases


class Optimizer_Adam:
    def __init__(self, learning_rate=0.001, epsilon=1e-7, beta_1=0.9, beta_2=0.999):
        self.learning_rate = learning_rate
        self.iterations = 0
        self.epsilon = epsilon
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def pre_update_params(self):
        pass

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_momentums = np.zeros_like(layer.weights)
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_momentums = np.zeros_like(layer.biases)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_momentums = self.beta_1 * layer.weight_momentums + (1 - self.beta_1) * layer.dweights
        layer.bias_momentums = self.beta_1 * layer.bias_momentums + (1 - self.beta_1) * layer.dbiases
        weight_momentums_corrected = layer.weight_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        bias_momentums_corrected = layer.bias_momentums / (1 - self.beta_1 ** (self.iterations + 1))
        layer.weight_cache = self.beta_2 * layer.weight_cache + (1 - self.beta_2) * layer.dweights ** 2
        layer.bias_cache = self.beta_2 * layer.bias_cache + (1 - self.beta_2) * layer.dbiases ** 2
        weight_cache_corrected = layer.weight_cache / (1 - self.beta_2 ** (self.iterations + 1))
        bias_cache_corrected = layer.bias_cache / (1 - self.beta_2 ** (self.iterations + 1))
        layer.weights += -self.learning_rate * weight_momentums_corrected / (np.sqrt(weight_cache_corrected)
                                                                             + self.epsilon)
        layer.biases += -self.learning_rate * bias_momentums_corrected / (np.sqrt(bias_cache_corrected)
                                                                          + self.epsilon)

    def post_update_params(self):
        self.iterations += 1


class Optimizer_Adam_bug(Optimizer_Adam):
    """Planted bug: post_update_params forgets to count, so every correction uses iterations + 1 = 1."""

    def post_update_params(self):
        pass


class Optimizer_RMSprop:
    def __init__(self, learning_rate=0.001, epsilon=1e-7, rho=0.9):
        self.learning_rate, self.epsilon, self.rho = learning_rate, epsilon, rho
        self.iterations = 0

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * layer.dweights ** 2
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * layer.dbiases ** 2
        layer.weights += -self.learning_rate * layer.dweights / (np.sqrt(layer.weight_cache) + self.epsilon)
        layer.biases += -self.learning_rate * layer.dbiases / (np.sqrt(layer.bias_cache) + self.epsilon)


class Optimizer_RMSprop_bug(Optimizer_RMSprop):
    """Planted bug: the caches average |g|, not g squared (epsilon inside the square root, TensorFlow 1's way,
    is not the bug: the cause is found from that convention)."""

    def update_params(self, layer):
        if not hasattr(layer, "weight_cache"):
            layer.weight_cache = np.zeros_like(layer.weights)
            layer.bias_cache = np.zeros_like(layer.biases)
        layer.weight_cache = self.rho * layer.weight_cache + (1 - self.rho) * np.abs(layer.dweights)
        layer.bias_cache = self.rho * layer.bias_cache + (1 - self.rho) * np.abs(layer.dbiases)
        layer.weights += -self.learning_rate * layer.dweights / np.sqrt(layer.weight_cache + self.epsilon)
        layer.biases += -self.learning_rate * layer.dbiases / np.sqrt(layer.bias_cache + self.epsilon)
