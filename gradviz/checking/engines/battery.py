"""Each operation alone, built with the student's class, at several points: forward and local derivative.

For every form the student's output and gradients are read from their own
objects and set beside three references: the op table's forward and backward,
the SymPy derivative of the op's twin, and central differences of the
student's own forward. At a kink (relu at 0) a gradient is judged as a
subgradient: anything between the one-sided derivatives is NONDIFF.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..tolerance import Tolerance
from .discovery import Engine
from .forms import CONSTANT, Form
from .locate import Fault, run

FORWARD_TOL = Tolerance(atol=1e-9, rtol=1e-7)  # a forward is exact math: only rounding may differ
POINTS = 5  # stratified over the op's domain, so a mask or a sign shows on both sides of 0


@dataclass
class Point:
    """One evaluation of a form: operand values, the student's answers and the references."""

    values: tuple  # every operand (nodes and plain numbers)
    out: float  # the student's forward
    grads: tuple  # the student's gradient for each node operand
    finite: tuple  # central differences of the student's forward
    symbolic: tuple  # the SymPy derivative of the op's twin
    ref_out: float  # the op table's forward
    ref: tuple  # the op table's backward (seed 1)
    kink: bool = False
    hull: tuple = ()  # (lo, hi) per node operand at a kink: one-sided derivatives


@dataclass
class FormRun:
    """What one form did: its points, or the fault that stopped it."""

    form: Form
    points: list[Point] = field(default_factory=list)
    fault: Fault | None = None
    phase: str = ""  # "forward" or "backward": where the fault happened

    def node_values(self, operand: int) -> np.ndarray:
        return np.array([p.values[i] for p in self.points for i in [self.node_index(operand)]])

    def node_index(self, operand: int) -> int:
        return [i for i, is_node in enumerate(self.form.nodes) if is_node][operand]

    def column(self, what: str, operand: int = 0) -> np.ndarray:
        return np.array([getattr(p, what)[operand] for p in self.points if not p.kink], dtype=np.float64)


def sample_points(form: Form, rng: np.random.Generator) -> list[tuple[tuple, bool]]:
    """(operand values, at a kink) for a form: POINTS away from kinks, then the kinks themselves."""
    op = form.table
    if form.op == "powc":
        e = form.attrs["exponent"]
        lo = 0.2 if e != int(e) or e < 0 else -2.0
        domain = ((lo, 2.0),)
    else:
        domain = op.domain or ((-2.0, 2.0),) * len(form.nodes)
    points = []
    for k in range(POINTS):
        for _ in range(100):
            bins = [(k * (2 * j + 1)) % POINTS for j in range(len(domain))]  # a permutation per operand: a != b
            drawn = [float(np.round(rng.uniform(lo + (hi - lo) * m / POINTS, lo + (hi - lo) * (m + 1) / POINTS), 4))
                     for (lo, hi), m in zip(domain, bins)]
            values = tuple(d if node else CONSTANT for d, node in zip(drawn, form.nodes))
            if op.kinks is None or not np.any(op.kinks(values, form.attrs, 0.05)):
                break
        points.append((values, False))
    if op.kinks is not None and len(form.nodes) == 1:
        points.append(((0.0,), True))
    return points


def reference(form: Form, values: tuple) -> tuple[float, tuple]:
    op = form.table
    out = float(op.forward(*values, **form.attrs))
    grads = op.backward(1.0, *values, out, **form.attrs)
    return out, tuple(float(g) if g is not None else math.nan for g, node in zip(grads, form.nodes) if node)


@lru_cache(maxsize=None)
def _derivatives(op_name: str, nodes: tuple, attrs: tuple):
    """The SymPy derivative of the op's twin by each node operand, lambdified once per form."""
    import sympy

    from ...ops import registry

    op = registry.get(op_name)
    symbols = sympy.symbols(f"x0:{len(nodes)}", real=True)
    operands = [s if node else sympy.nsimplify(CONSTANT) for s, node in zip(symbols, nodes)]
    expr = op.symbolic(*operands, **dict(attrs))
    used = [s for s, node in zip(symbols, nodes) if node]
    heaviside = {"Heaviside": lambda x, h=0.5: 1.0 if x > 0 else (0.0 if x < 0 else h)}
    return [sympy.lambdify(used, sympy.diff(expr, s), modules=[heaviside, "math"]) for s in used]


def symbolic(form: Form, values: tuple) -> tuple:
    fns = _derivatives(form.op, form.nodes, tuple(sorted(form.attrs.items())))
    args = [v for v, node in zip(values, form.nodes) if node]
    out = []
    for fn in fns:
        try:
            out.append(float(fn(*args)))
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            out.append(math.nan)
    return tuple(out)


def build(engine: Engine, form: Form, values: tuple):
    """The student's graph for the form: leaves for the node operands, plain numbers for the others."""
    leaves = [engine.leaf(v) if node else v for v, node in zip(values, form.nodes)]
    return form.apply(*leaves), [x for x, node in zip(leaves, form.nodes) if node]


def measure(engine: Engine, form: Form, rng: np.random.Generator, eps: float) -> FormRun:
    result = FormRun(form)
    for values, kink in sample_points(form, rng):
        made, fault = run(engine, lambda: build(engine, form, values))
        if fault is None and not isinstance(made[0], engine.node_types):
            fault = run(engine, lambda: _not_a_node(engine, made[0]))[1]
        if fault is not None:
            result.fault, result.phase = fault, "forward"
            return result
        out, leaves = made
        _, fault = run(engine, lambda: engine.run_backward(out))
        if fault is not None:
            result.fault, result.phase = fault, "backward"
            return result
        grads = tuple(engine.gradient(leaf) for leaf in leaves)
        finite = tuple(_central(engine, form, values, i, eps) for i, node in enumerate(form.nodes) if node)
        ref_out, ref = reference(form, values)
        sym = symbolic(form, values) if not kink else ref
        point = Point(values, engine.value(out), grads, finite, sym, ref_out, ref, kink)
        if kink:
            point.hull = tuple(_one_sided(form, values, i) for i, node in enumerate(form.nodes) if node)
        result.points.append(point)
    return result


def _not_a_node(engine: Engine, made: Any):
    raise TypeError(f"returned {type(made).__name__}, not a {engine.name}")


def _central(engine: Engine, form: Form, values: tuple, i: int, eps: float) -> float:
    def at(shift: float) -> float:
        moved = tuple(v + shift if j == i else v for j, v in enumerate(values))
        node, _ = build(engine, form, moved)
        return engine.value(node)

    try:
        return (at(eps) - at(-eps)) / (2 * eps)
    except Exception:  # noqa: BLE001 - a forward that raises just off the point: no finite column
        return math.nan


def _one_sided(form: Form, values: tuple, i: int, h: float = 1e-7) -> tuple[float, float]:
    """Left and right derivatives of the op table's forward: the subgradient interval at a kink."""
    f = form.table.forward

    def at(shift: float) -> float:
        return float(f(*(v + shift if j == i else v for j, v in enumerate(values)), **form.attrs))

    left, right = (at(0.0) - at(-h)) / h, (at(h) - at(0.0)) / h
    return (min(left, right), max(left, right))


def forward_ok(point: Point) -> bool:
    return bool(FORWARD_TOL.agree(point.out, point.ref_out)) or (math.isnan(point.out) and math.isnan(point.ref_out))
