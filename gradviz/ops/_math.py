"""Elementwise primitives that work on Python floats and on numpy arrays alike.

The op table writes each formula once; these helpers let the same formula run
on the scalar engine (fast ``math`` calls, no numpy scalar overhead) and on the
array engine (vectorized numpy). Scalar versions never raise for a value
outside the domain: like numpy they return inf or nan and emit a
``NumericWarning`` that says what happened.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import NumericWarning, warn_at_user

_INF = math.inf
_NAN = math.nan


def _warn(message: str) -> None:
    warn_at_user(message, NumericWarning)


def exp(x):
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            _warn(f"exp({x:g}) overflows float64; the result is inf")
            return _INF
    return np.exp(x)


def log(x):
    if type(x) is float:
        if x > 0.0:
            return math.log(x)
        if x == 0.0:
            _warn("log(0) is -inf")
            return -_INF
        if x != x:
            return _NAN
        _warn(f"log({x:g}) of a negative number is nan")
        return _NAN
    return np.log(x)


def sqrt(x):
    if type(x) is float:
        if x >= 0.0:
            return math.sqrt(x)
        if x != x:
            return _NAN
        _warn(f"sqrt({x:g}) of a negative number is nan")
        return _NAN
    return np.sqrt(x)


def tanh(x):
    if type(x) is float:
        return math.tanh(x)
    return np.tanh(x)


def sigmoid(x):
    """Logistic function, evaluated so that no exp ever overflows."""
    if type(x) is float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        z = math.exp(x)
        return z / (1.0 + z)
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def relu(x):
    if type(x) is float:
        return x if x > 0.0 else 0.0
    return np.maximum(x, 0.0)


def step(x):
    """Derivative of relu: 1 where x > 0, else 0 (the subgradient 0 at x == 0).

    On arrays, a boolean mask: multiplying a float64 gradient by it gives the same
    numbers as multiplying by 1.0 and 0.0, without a float64 copy of the mask.
    """
    if type(x) is float:
        return 1.0 if x > 0.0 else 0.0
    return np.greater(x, 0)


def sign(x):
    if type(x) is float:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    return np.sign(x)


def fabs(x):
    if type(x) is float:
        return abs(x)
    return np.abs(x)


def power(a, b):
    """a ** b with numpy's conventions: nan (with a warning) instead of complex or OverflowError."""
    if type(a) is float and type(b) is float:
        if a < 0.0 and not b.is_integer():
            _warn(f"({a:g}) ** {b:g}: a negative base with a non-integer exponent is nan")
            return _NAN
        if a == 0.0 and b < 0.0:
            _warn(f"0 ** {b:g} divides by zero; the result is inf")
            return _INF
        try:
            return a**b
        except OverflowError:
            _warn(f"{a:g} ** {b:g} overflows float64; the result is inf")
            return _INF if a > 0 or b % 2 == 0 else -_INF
    return np.power(a, b)


def sin(x):
    if type(x) is float:
        return math.sin(x)
    return np.sin(x)


def cos(x):
    if type(x) is float:
        return math.cos(x)
    return np.cos(x)


def maximum(a, b):
    if type(a) is float and type(b) is float:
        return a if a >= b else b
    return np.maximum(a, b)


def minimum(a, b):
    if type(a) is float and type(b) is float:
        return a if a <= b else b
    return np.minimum(a, b)


def first_wins(a, b):
    """1 where a is chosen by max(a, b) (a >= b: on a tie the first argument wins), else 0."""
    if type(a) is float and type(b) is float:
        return 1.0 if a >= b else 0.0
    return (np.asarray(a) >= np.asarray(b)).astype(np.float64)
