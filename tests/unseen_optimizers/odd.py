"""Correct optimizers in conventions no structure reveals: gradviz must refuse them, never fail them, and the roles
said resolve them (written for these tests)."""


def sgd_decayed(theta, g, lr):
    """Correct SGD with L2 weight decay 1e-4 written into the step: a zero gradient still moves theta."""
    theta -= lr * (g + 1e-4 * theta)
    return theta


class ScaledInPlace:
    """Correct SGD that scales the gradient array in place before subtracting it (the caller's gradient is spent)."""

    def __init__(self, learning_rate=0.05):
        self.learning_rate = learning_rate

    def update(self, value, delta):
        delta *= self.learning_rate
        value -= delta
        return value


class KernelSGD:
    """Correct SGD over a layer whose arrays are spelled kernel / grad_kernel: no spelling gradviz tries."""

    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate

    def update_params(self, layer):
        layer.kernel -= self.learning_rate * layer.grad_kernel
