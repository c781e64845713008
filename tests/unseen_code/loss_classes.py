"""Loss classes in styles gradviz was not written for (our own code, in the way small libraries write them):
the target before the prediction (`loss(y, y_pred)`, `forward(y_true, y_pred)`), method names of their own
(`compute_loss`/`compute_gradient`, `__call__`/`grad`), integer labels. Each correct; each `...Bug` plants
one mistake."""

import numpy as np


class CrossEntropyLoss:
    """compute_loss(y_true, y_pred) on probabilities; compute_gradient gives d loss / d y_pred."""

    def compute_loss(self, y_true, y_pred):
        return -np.mean(np.sum(y_true * np.log(y_pred), axis=1))

    def compute_gradient(self, y_true, y_pred):
        return -y_true / y_pred / y_true.shape[0]


class CrossEntropyLossBug(CrossEntropyLoss):
    def compute_gradient(self, y_true, y_pred):
        """Planted bug: the mean over the batch is forgotten."""
        return -y_true / y_pred


class SquareLoss:
    """loss(y, y_pred) / gradient(y, y_pred): the target first."""

    def loss(self, y, y_pred):
        return 0.5 * np.mean((y - y_pred) ** 2)

    def gradient(self, y, y_pred):
        return -(y - y_pred) / y.size


class SquareLossBug(SquareLoss):
    def gradient(self, y, y_pred):
        """Planted bug: the sign of the derivative of (y - y_pred) is lost."""
        return (y - y_pred) / y.size


class BinaryCrossEntropy:
    """forward(y_true, y_pred) / backward(y_true, y_pred) with a mean over every element."""

    def forward(self, y_true, y_pred):
        return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))

    def backward(self, y_true, y_pred):
        return (-(y_true / y_pred) + (1 - y_true) / (1 - y_pred)) / y_pred.size


class BinaryCrossEntropyBug(BinaryCrossEntropy):
    def backward(self, y_true, y_pred):
        """Planted bug: 1 + y_pred where 1 - y_pred belongs."""
        return (-(y_true / y_pred) + (1 - y_true) / (1 + y_pred)) / y_pred.size


class SoftmaxCrossEntropy:
    """__call__(scores, labels) with integer labels; grad(scores, labels) gives d loss / d scores."""

    def __call__(self, scores, labels):
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_p[np.arange(len(labels)), labels].mean()

    def grad(self, scores, labels):
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(labels)), labels] -= 1
        return p / len(labels)


class SoftmaxCrossEntropyBug(SoftmaxCrossEntropy):
    def grad(self, scores, labels):
        """Planted bug: the one-hot target is subtracted from the scores' exponentials, not normalised."""
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p[np.arange(len(labels)), labels] -= 1
        return p / len(labels)


class Distance:
    """Odd: forward(u, v) / backward(u, v) returns d loss / d u, and no name says which argument that is."""

    def forward(self, u, v):
        return np.mean((u - v) ** 2)

    def backward(self, u, v):
        return 2 * (u - v) / u.size


def probabilities_inputs(rng):
    p = rng.uniform(0.1, 1.0, size=(5, 4))
    return np.eye(4)[rng.integers(4, size=5)], p / p.sum(axis=1, keepdims=True)


def regression_inputs(rng):
    return rng.normal(size=(6, 2)), rng.normal(size=(6, 2))


def binary_inputs(rng):
    return (rng.uniform(size=(8, 1)) > 0.5).astype(float), rng.uniform(0.1, 0.9, size=(8, 1))


def scores_inputs(rng):
    return rng.normal(size=(5, 3)), rng.integers(3, size=5)


def distance_inputs(rng):
    return rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
