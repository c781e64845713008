"""Elementwise ops: arithmetic and activations, shared by Value and Tensor.

Each op is written once: ``forward`` and ``backward`` run unchanged on floats
(scalar engine) and on float64 arrays (array engine), and ``symbolic`` builds
the SymPy twin of one element. Binary ops return gradients in the output's
(broadcast) shape; the array engine sums them back to each input's shape.
"""

from __future__ import annotations

import numpy as np

from . import _math as m
from .registry import OpDef, register


def _sympy():
    import sympy

    return sympy


def _near_zero(inputs, attrs, tol):
    return np.abs(np.asarray(inputs[0], dtype=np.float64)) <= tol


def _elementwise(name, symbol, forward, backward, symbolic, domain, arity=1, **extra):
    return register(
        OpDef(
            name=name,
            symbol=symbol,
            forward=forward,
            backward=backward,
            symbolic=symbolic,
            arity=arity,
            domain=domain,
            elementwise=True,
            scalar=True,
            **extra,
        )
    )


# --- arithmetic --------------------------------------------------------------

ADD = _elementwise(
    "add", "+",
    forward=lambda a, b: a + b,
    backward=lambda g, a, b, out: (g, g),
    symbolic=lambda a, b: a + b,
    domain=((-2, 2), (-2, 2)), arity=2,
)

SUB = _elementwise(
    "sub", "-",
    forward=lambda a, b: a - b,
    backward=lambda g, a, b, out: (g, -g),
    symbolic=lambda a, b: a - b,
    domain=((-2, 2), (-2, 2)), arity=2,
)

MUL = _elementwise(
    "mul", "*",
    forward=lambda a, b: a * b,
    backward=lambda g, a, b, out: (g * b, g * a),
    symbolic=lambda a, b: a * b,
    domain=((-2, 2), (-2, 2)), arity=2,
)

DIV = _elementwise(
    "div", "/",
    forward=lambda a, b: a / b,
    backward=lambda g, a, b, out: (g / b, -g * a / (b * b)),
    symbolic=lambda a, b: a / b,
    domain=((-2, 2), (0.5, 2)), arity=2,
)

POW = _elementwise(
    "pow", "**",
    forward=m.power,
    # d(a**b)/da = b a**(b-1); d(a**b)/db = a**b log a (nan for a < 0, as in PyTorch)
    backward=lambda g, a, b, out: (g * b * m.power(a, b - 1.0), g * out * m.log(a)),
    symbolic=lambda a, b: a**b,
    domain=((0.2, 2), (-2, 2)), arity=2,
)


def _powc_cases(rng):
    from .registry import Case

    cases = []
    for exponent in (2.0, 3.0, -1.0, 0.5):
        lo = 0.2 if exponent != int(exponent) or exponent < 0 else -2.0
        for shape in ((), (2, 3)):
            x = rng.uniform(lo, 2.0, size=shape)
            cases.append(Case((float(x) if shape == () else x,), {"exponent": exponent}))
    return cases


POWC = _elementwise(
    "powc", "**c",
    forward=lambda a, exponent: m.power(a, exponent),
    backward=lambda g, a, out, exponent: (g * exponent * m.power(a, exponent - 1.0),),
    symbolic=lambda a, exponent: a ** _sympy().nsimplify(exponent),
    domain=None, cases=_powc_cases,
)

NEG = _elementwise(
    "neg", "neg",
    forward=lambda a: -a,
    backward=lambda g, a, out: (-g,),
    symbolic=lambda a: -a,
    domain=((-2, 2),),
)

# --- functions and activations ---------------------------------------------

EXP = _elementwise(
    "exp", "exp",
    forward=m.exp,
    backward=lambda g, a, out: (g * out,),
    symbolic=lambda a: _sympy().exp(a),
    domain=((-2, 2),),
)

LOG = _elementwise(
    "log", "log",
    forward=m.log,
    backward=lambda g, a, out: (g / a,),
    symbolic=lambda a: _sympy().log(a),
    domain=((0.1, 3),),
)

SQRT = _elementwise(
    "sqrt", "sqrt",
    forward=m.sqrt,
    backward=lambda g, a, out: (g * 0.5 / out,),
    symbolic=lambda a: _sympy().sqrt(a),
    domain=((0.1, 3),),
)

TANH = _elementwise(
    "tanh", "tanh",
    forward=m.tanh,
    backward=lambda g, a, out: (g * (1.0 - out * out),),
    symbolic=lambda a: _sympy().tanh(a),
    domain=((-2, 2),),
)

SIGMOID = _elementwise(
    "sigmoid", "sigmoid",
    forward=m.sigmoid,
    backward=lambda g, a, out: (g * out * (1.0 - out),),
    symbolic=lambda a: 1 / (1 + _sympy().exp(-a)),
    domain=((-3, 3),),
)

RELU = _elementwise(
    "relu", "relu",
    forward=m.relu,
    backward=lambda g, a, out: (g * m.step(a),),
    symbolic=lambda a: _sympy().Max(0, a),
    domain=((-2, 2),),
    kinks=_near_zero,
    kink_reason="relu has a kink at 0 (its derivative jumps from 0 to 1)",
)

ABS = _elementwise(
    "abs", "abs",
    forward=m.fabs,
    backward=lambda g, a, out: (g * m.sign(a),),
    symbolic=lambda a: _sympy().Abs(a),
    domain=((-2, 2),),
    kinks=_near_zero,
    kink_reason="abs has a kink at 0 (its derivative jumps from -1 to 1)",
)


def _clip_forward(a, lo, hi):
    return min(max(a, lo), hi) if type(a) is float else np.clip(a, lo, hi)


def _clip_backward(g, a, out, lo, hi):
    inside = (a >= lo) & (a <= hi)
    return (g * (float(inside) if type(a) is float else inside),)


def _clip_symbolic(a, lo, hi):
    sp = _sympy()
    return sp.Min(sp.Max(a, sp.Float(lo)), sp.Float(hi))


def _clip_kinks(inputs, attrs, tol):
    a = np.asarray(inputs[0], dtype=np.float64)
    return (np.abs(a - attrs["lo"]) <= tol) | (np.abs(a - attrs["hi"]) <= tol)


def _clip_cases(rng):
    from .registry import Case

    out = []
    for shape in ((), (3, 4)):
        x = rng.uniform(-2, 2, size=shape)
        x = np.where(np.abs(np.abs(x) - 1.0) < 0.05, 0.3, x)
        out.append(Case((float(x) if shape == () else x,), {"lo": -1.0, "hi": 1.0}))
    return out


CLIP = _elementwise(
    "clip", "clip",
    forward=_clip_forward,
    backward=_clip_backward,
    symbolic=_clip_symbolic,
    domain=None, cases=_clip_cases,
    kinks=_clip_kinks,
    kink_reason="clip has kinks at its bounds",
)


SIN = _elementwise(
    "sin", "sin",
    forward=m.sin,
    backward=lambda g, a, out: (g * m.cos(a),),
    symbolic=lambda a: _sympy().sin(a),
    domain=((-3, 3),),
)

COS = _elementwise(
    "cos", "cos",
    forward=m.cos,
    backward=lambda g, a, out: (-g * m.sin(a),),
    symbolic=lambda a: _sympy().cos(a),
    domain=((-3, 3),),
)


def _tie(inputs, attrs, tol):
    return np.abs(np.asarray(inputs[0], dtype=np.float64) - np.asarray(inputs[1], dtype=np.float64)) <= tol


MAXIMUM = _elementwise(
    "maximum", "max",
    forward=m.maximum,
    # The whole gradient goes to the larger input; on a tie, to the first.
    backward=lambda g, a, b, out: (g * m.first_wins(a, b), g * (1.0 - m.first_wins(a, b))),
    symbolic=lambda a, b: _sympy().Max(a, b),
    domain=((-2, 2), (-2, 2)), arity=2,
    kinks=_tie,
    kink_reason="max(a, b) is not differentiable where a == b",
)

MINIMUM = _elementwise(
    "minimum", "min",
    forward=m.minimum,
    backward=lambda g, a, b, out: (g * m.first_wins(b, a), g * (1.0 - m.first_wins(b, a))),
    symbolic=lambda a, b: _sympy().Min(a, b),
    domain=((-2, 2), (-2, 2)), arity=2,
    kinks=_tie,
    kink_reason="min(a, b) is not differentiable where a == b",
)
