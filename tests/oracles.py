"""Independent gradient oracles and deliberately broken ops shared by the tests."""

from __future__ import annotations

import numpy as np


def central_gradient(f, arrays, h=1e-6):
    """d f(*arrays) / d arrays[i] by central differences, one element at a time.

    `f` takes float64 arrays (or floats for 0-d inputs) and returns a float.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for i, a in enumerate(arrays):
        grad = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            saved = a[index]
            a[index] = saved + h
            up = f(*[x if x.shape else float(x) for x in arrays])
            a[index] = saved - h
            down = f(*[x if x.shape else float(x) for x in arrays])
            a[index] = saved
            grad[index] = (up - down) / (2 * h)
        grads.append(grad)
    return grads


def wrong_tanh():
    """A gv.Function whose backward is wrong and whose SymPy twin is right (for localization tests)."""
    import sympy

    import gradviz as gv

    class WrongTanh(gv.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return np.tanh(x)

        @staticmethod
        def backward(grad, x, out):
            return (grad * (1 - out),)

        @staticmethod
        def symbolic(x):
            return sympy.tanh(x)

    return WrongTanh
