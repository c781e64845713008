"""Each edge's local derivative, from the op's SymPy twin, in the names the picture uses (show_formulas)."""

from __future__ import annotations

from typing import Any

from . import labels as L
from .names import node_name

_formula_cache: dict = {}


def local_formula(node: Any, position: int, index: dict, precision: int = 4) -> str | None:
    """d(op)/d(input `position`) from the op's SymPy twin, written in the inputs' drawn names.

    Each input is called what its node is called in the picture: its label
    (`d/dw1: x1`), or `#i` for an unlabelled node (`d/d(#4): 1`); a constant
    appears as its value. An input used twice is one symbol, so the edge's
    formula is the derivative along that edge (`x*x` gives `d/dx: 2*x`).
    Not simplified on purpose: the raw derivative of tanh is 1 - tanh(x)^2,
    the form a course writes; simplify() would turn it into cosh(x)^(-2).
    """
    op = node._op
    if op.symbolic is None or not op.elementwise:
        return None
    names: dict[int, str] = {}  # id(parent) -> the name it is drawn with, or its value for a constant
    for parent in node._parents:
        if id(parent) in names:
            continue
        if parent._op is None and not parent.requires_grad and not parent.label:
            names[id(parent)] = L.number(parent.data, precision)
            continue
        name = node_name(parent, index[id(parent)])
        names[id(parent)] = name if name not in names.values() else f"{name}'"
    key = (op.name, position, tuple(names[id(p)] for p in node._parents), repr(sorted((node._attrs or {}).items())))
    if key not in _formula_cache:
        _formula_cache[key] = _derivative_text(node, position, names)
    return _formula_cache[key]


def _derivative_text(node: Any, position: int, names: dict) -> str | None:
    import sympy

    symbols = {}
    for parent in node._parents:
        text = names[id(parent)]
        symbols[id(parent)] = sympy.Symbol(text, real=True)  # a constant is a "symbol" spelled as its value
    target = node._parents[position]
    if not target.requires_grad:
        return None
    try:
        expression = node._op.symbolic(*[symbols[id(p)] for p in node._parents], **(node._attrs or {}))
        derivative = sympy.diff(expression, symbols[id(target)])
    except Exception:
        return None
    name = names[id(target)]
    shown = f"({name})" if name.startswith("#") else name
    return f"d/d{shown}: " + _tidy(str(derivative))


def _tidy(text: str) -> str:
    """SymPy's text as a course writes it: ^ for powers, 3.0 as 3."""
    import re

    text = text.replace("**", "^")
    return re.sub(r"(?<![\w.])(\d+)\.0(?![\d])", r"\1", text)
