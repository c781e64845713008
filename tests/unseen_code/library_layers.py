"""Layer classes in the style of small numpy deep-learning libraries: parameters and gradients in dicts,
an optimizer object the layer holds but its backward never calls, inputs kept in a list across calls,
gradients accumulated with +=, and flags after the upstream gradient."""

import numpy as np


class StepOptimizer:
    """The library's optimizer: it keeps per-parameter state in `cache`."""

    def __init__(self, lr=0.01):
        self.lr, self.cache = lr, {}

    def update(self, param, param_grad, param_name):
        self.cache[param_name] = self.cache.get(param_name, 0) + 1
        return param - self.lr * param_grad


class FullyConnected:
    def __init__(self, W, b, optimizer=None):
        self.parameters = {"W": W, "b": b}
        self.gradients = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.optimizer = optimizer or StepOptimizer()
        self.X = []

    def forward(self, X, retain_derived=True):
        Y = np.tanh(X @ self.parameters["W"] + self.parameters["b"])
        if retain_derived:
            self.X.append(X)
        return Y

    def backward(self, dLdy, retain_grads=True):
        dX = []
        for X in self.X:
            dZ = dLdy * (1 - np.tanh(X @ self.parameters["W"] + self.parameters["b"]) ** 2)
            dX.append(dZ @ self.parameters["W"].T)
            if retain_grads:
                self.gradients["W"] += X.T @ dZ
                self.gradients["b"] += dZ.sum(axis=0, keepdims=True)
        return dX[0] if len(self.X) == 1 else dX

    def update(self):
        for k, v in self.gradients.items():
            self.parameters[k] = self.optimizer.update(self.parameters[k], v, k)
        self.flush_gradients()

    def flush_gradients(self):
        self.X = []
        for k, v in self.gradients.items():
            self.gradients[k] = np.zeros_like(v)


class FullyConnectedBug(FullyConnected):
    def backward(self, dLdy, retain_grads=True):
        """Planted bug: the bias gradient is averaged over the batch instead of summed."""
        dX = []
        for X in self.X:
            dZ = dLdy * (1 - np.tanh(X @ self.parameters["W"] + self.parameters["b"]) ** 2)
            dX.append(dZ @ self.parameters["W"].T)
            if retain_grads:
                self.gradients["W"] += X.T @ dZ
                self.gradients["b"] += dZ.mean(axis=0, keepdims=True)
        return dX[0] if len(self.X) == 1 else dX


class Scale:
    """Results on self, an optimizer attribute read (never called) by backward."""

    def __init__(self, gamma):
        self.gamma = gamma
        self.optimizer = StepOptimizer()

    def forward(self, x):
        self.x = x
        return x * self.gamma

    def backward(self, grad):
        self.step_size = self.optimizer.lr  # reads the optimizer, never updates through it
        self.grad_gamma = np.sum(grad * self.x, axis=0)
        return grad * self.gamma


class ScaleBug(Scale):
    def backward(self, grad):
        """Planted bug: gamma's gradient forgets the input."""
        self.step_size = self.optimizer.lr
        self.grad_gamma = np.sum(grad, axis=0)
        return grad * self.gamma


def fc_make(rng, cls):
    return cls(rng.normal(size=(4, 3)) * 0.5, rng.normal(size=(1, 3)) * 0.1), rng.normal(size=(5, 4))


def scale_make(rng, cls):
    return cls(rng.normal(size=3)), rng.normal(size=(4, 3))
