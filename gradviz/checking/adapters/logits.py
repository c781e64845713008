"""A loss whose gradient is documented with respect to the logits of the probabilities it takes.

    loss = cross_entropy(y, softmax(z));   grad = cross_entropy_grad(y, softmax(z))   # = p - y: d loss / d z

The gradient returned is d loss / d z although the functions receive p = softmax(z). Checked against
d loss / d p it fails although it is right. `wrt_logits=True` (--wrt-logits) checks it as documented:
the probabilities are written as softmax(z) with z = log(p), and the loss is differentiated in z.
"""

from __future__ import annotations

import numpy as np

from ...errors import GradvizError
from .reading import Reading


def probability_axis(p: np.ndarray) -> int | None:
    """The axis along which p holds probabilities (positive, summing to 1), or None."""
    if p.ndim == 0 or not np.all(p > 0):
        return None
    for axis in (-1, 0):
        if np.allclose(p.sum(axis=axis), 1.0, atol=1e-3):  # typed ones are rounded: softmax(log p) renormalizes
            return axis % p.ndim
    return None


def softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def logits_reading(reading: Reading, name: str | None = None) -> Reading:
    """The same loss read as a function of the logits z of its probability input (p = softmax(z))."""
    name = name or next(iter(reading.arrays))
    if name not in reading.arrays:
        raise GradvizError(f"wrt_logits: {reading.name} has no differentiated argument {name}")
    p_buffer = reading.arrays[name]
    axis = probability_axis(p_buffer)
    if axis is None:
        raise GradvizError(f"wrt_logits: {name} is not a probability array (positive, summing to 1 along an "
                           "axis), so it has no logits to differentiate in; pass probabilities such as softmax(z)")
    z = np.log(p_buffer)
    label = f"logits of {name}"
    original = p_buffer.copy()

    def forward(current):
        np.copyto(p_buffer, softmax(current[label], axis))
        try:
            return reading.forward({**reading.arrays, name: p_buffer})
        finally:
            np.copyto(p_buffer, original)

    def vjp(dout):
        np.copyto(p_buffer, softmax(z, axis))
        try:
            grads = reading.vjp(dout)
        finally:
            np.copyto(p_buffer, original)
        return {label: grads[name]} if name in grads else {}

    others = {n: a for n, a in reading.arrays.items() if n != name}
    return Reading(name=reading.name, convention=f"{reading.convention}, its gradient taken as d loss / d z for "
                   f"{name} = softmax(z) (wrt_logits)", override=reading.override, arrays={label: z, **others},
                   forward=forward, vjp=vjp, backward_name=reading.backward_name,
                   grad_names={label: reading.grad_name(name)}, inputs=(label,), loss=reading.loss,
                   notes=list(reading.notes), warnings=list(reading.warnings), constants=dict(reading.constants),
                   restore=reading.restore)
