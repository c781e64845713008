"""Deliberately odd conventions: code whose calling convention cannot be confirmed from the code alone.
gradviz must refuse these (exit 2) and never fail them; each is correct code."""

import numpy as np


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward_reversed(dout, cache):
    """The gradients come back in reverse order, in an unnamed list."""
    x, w = cache
    grads = []
    for g in (dout.sum(axis=0), x.T @ dout, dout @ w.T):
        grads.append(g)
    return grads


def affine_backward_keys(dout, cache):
    """Gradients under keys that name nothing."""
    x, w = cache
    return {"g0": dout @ w.T, "g1": x.T @ dout, "g2": dout.sum(axis=0)}


def twin_forward(x):
    """Two outputs of the same shape and one unnamed upstream gradient: which output is it for?"""
    aux = np.sin(x)
    out = np.tanh(x)
    return aux, out, x


def twin_backward(g, x):
    return g * (1 - np.tanh(x) ** 2)


def clipped_backward(dout, cache):
    """Clips the upstream gradient inside backward: not a vector-Jacobian product at all."""
    x, w = cache
    dout = np.clip(dout, -0.5, 0.5)
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def boxed_backward(box, cache):
    """Expects the upstream gradient boxed in a dict keyed by the output's role."""
    x, w = cache
    dout = box["out"]
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_inputs(rng):
    return (rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)), {}


def twin_inputs(rng):
    return (rng.normal(size=(3, 4)),), {}


# (forward, backward, inputs, the flags that resolve it or None, the same in Python)
ODD = [
    ("affine_forward", "affine_backward_reversed", "affine_inputs", ["--grad", "x=3", "--grad", "w=2", "--grad", "b=1"],
     {"grads": {"x": "3", "w": "2", "b": "1"}}),
    ("affine_forward", "affine_backward_keys", "affine_inputs", ["--grad", "x=g0", "--grad", "w=g1", "--grad", "b=g2"],
     {"grads": {"x": "g0", "w": "g1", "b": "g2"}}),
    ("twin_forward", "twin_backward", "twin_inputs", ["--outputs", "out"], {"outputs": "out"}),
    ("affine_forward", "clipped_backward", "affine_inputs", None, None),
    ("affine_forward", "boxed_backward", "affine_inputs", None, None),
]
