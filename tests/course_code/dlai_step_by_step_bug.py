"""The step-by-step assignment with a planted bug: db summed over the wrong axis."""
import numpy as np

from dlai_step_by_step import linear_forward  # noqa: F401


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1. / m * np.dot(dZ, A_prev.T)
    db = 1. / m * np.sum(dZ, axis=0, keepdims=True)  # should be axis=1
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db
