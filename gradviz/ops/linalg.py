"""Matrix products with numpy's @ semantics (1-D, 2-D and batched), torch's linear: x @ w.T + b, and a scalar
neuron's weighted sum b + w0*x0 + w1*x1 + ... (affine)."""

from __future__ import annotations

import numpy as np

from .registry import Case, OpDef, register


def _matmul_backward(g, a, b, out, needs=(True, True), into=(None, None)):
    """Gradients of a @ b. A 1-D operand is treated as a row (a) or column (b), as @ does.

    Batch dimensions may broadcast; the engine sums each gradient back to its input's shape.
    A gradient whose `needs` flag is False is not computed (None): for `x @ W` on a data
    batch that is a third of a training step's arithmetic. For 2-D operands a gradient
    is written into the array `into` gives for it, if any (OpDef.fills).
    """
    need_a, need_b = needs
    if a.ndim == 2 and b.ndim == 2:
        return (np.matmul(g, b.T, out=into[0]) if need_a else None), \
               (np.matmul(a.T, g, out=into[1]) if need_b else None)
    if a.ndim == 1 and b.ndim == 1:
        return (g * b if need_a else None), (g * a if need_b else None)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.asarray(g, dtype=np.float64)
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    ga = gb = None
    if need_a:
        ga = g2 @ np.swapaxes(b2, -1, -2)
        if a.ndim == 1:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
            ga = ga.reshape(-1, a.shape[0]).sum(axis=0)
    if need_b:
        gb = np.swapaxes(a2, -1, -2) @ g2
        if b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
            gb = gb.reshape(-1, b.shape[0]).sum(axis=0)
    return ga, gb


def _matmul_symbolic(a, b):
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    return np.matmul(a, b) if a.ndim > 1 and b.ndim > 1 else np.asarray(np.dot(a, b), dtype=object)


MATMUL = register(OpDef(
    "matmul", arity=2, symbol="@",
    forward=lambda a, b: a @ b,
    backward=_matmul_backward, skips=True, fills=True,
    symbolic=_matmul_symbolic,
    cases=lambda rng: [
        Case((rng.normal(size=(2, 3)), rng.normal(size=(3, 4)))),
        Case((rng.normal(size=(3,)), rng.normal(size=(3, 2)))),
        Case((rng.normal(size=(2, 3)), rng.normal(size=(3,)))),
        Case((rng.normal(size=(3,)), rng.normal(size=(3,)))),
        Case((rng.normal(size=(2, 2, 3)), rng.normal(size=(3, 2)))),
    ],
))


def _linear_forward(x, w, *b):
    out = x @ w.T
    return out + b[0] if b else out


def _linear_backward(g, x, w, *b_and_out, needs=(True, True, True)):
    """Gradients of x @ w.T + b, with any leading batch axes of x summed into w and b (None where not needed)."""
    g2 = np.reshape(g, (-1, w.shape[0]))
    grads = (g @ w if needs[0] else None,
             g2.T @ np.reshape(x, (-1, w.shape[1])) if needs[1] else None)
    if len(b_and_out) == 2:
        grads += (g2.sum(axis=0) if needs[2] else None,)
    return grads


def _linear_symbolic(x, w, *b):
    out = _matmul_symbolic(x, np.asarray(w, dtype=object).T)
    return out + np.asarray(b[0], dtype=object) if b else out


LINEAR = register(OpDef(
    "linear", arity=None, symbol="linear",  # torch.nn.functional.linear: x @ w.T + b, w of shape (out, in)
    forward=_linear_forward,
    backward=_linear_backward, skips=True,
    symbolic=_linear_symbolic,
    cases=lambda rng: [
        Case((rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2))),
        Case((rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2))),
        Case((rng.normal(size=(3,)), rng.normal(size=(2, 3)))),
    ],
))


def _affine_forward(b, *pairs):
    """b + w0*x0 + w1*x1 + ..., added left to right: exactly what sum(w*x for ..., b) computes."""
    total = b
    it = iter(pairs)
    for w, x in zip(it, it):
        total = total + w * x
    return total


def _affine_backward(g, b, *pairs_and_out):
    """(g, g*x0, g*w0, g*x1, g*w1, ...): the gradients of the mul and add nodes that sum would record."""
    grads = [g]
    it = iter(pairs_and_out[:-1])  # the last argument is out
    for w, x in zip(it, it):
        grads += (g * x, g * w)
    return tuple(grads)


def _affine_symbolic(b, *pairs):
    total = b
    for w, x in zip(pairs[::2], pairs[1::2]):
        total = total + w * x
    return total


def _affine_cases(rng):
    return [Case(tuple(float(v) for v in rng.normal(size=7))),
            Case(tuple(rng.normal(size=(2, 3)) for _ in range(5)))]


# A scalar neuron's weighted sum as one node, inputs (b, w0, x0, w1, x1, ...): gv.nn records it in place
# of the 2n mul and add nodes of sum(w*x, b), with the same numbers (forward and gradients, bit for bit).
AFFINE = register(OpDef(
    "affine", arity=None, symbol="w·x+b",
    forward=_affine_forward,
    backward=_affine_backward,
    symbolic=_affine_symbolic,
    scalar=True,
    cases=_affine_cases,
))
