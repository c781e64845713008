"""Small graphs beyond one op: a node used twice, a diamond, a chain, an op on its own output, large values.

Each case is one expression written once against an `Ops` namespace, so the
same expression runs on the student's class and on gradviz's own Value (whose
every rule comes from the op table and is checked against SymPy by the
self-test): that run is the reference, and central differences of the
student's own forward are the second answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ...value import Value as Reference
from .discovery import Engine
from .locate import Fault, run


class Ops:
    """Named unary ops for one engine: ops.tanh(x) calls the student's method or function (or gradviz's)."""

    def __init__(self, unary: dict[str, Callable[[Any], Any]]):
        self.unary = unary

    def __getattr__(self, name: str):
        try:
            return self.__dict__["unary"][name]
        except KeyError:
            raise AttributeError(name) from None


REFERENCE_OPS = Ops({name: (lambda x, n=name: getattr(x, n)()) for name in
                     ("tanh", "exp", "log", "relu", "sigmoid", "sqrt", "sin", "cos", "abs")})


@dataclass
class Case:
    """One small graph: what it exercises, the method it is about, and the ops it needs to work alone."""

    key: str  # how the report shows it: "a * a (a node used twice)"
    method: str  # the student's method the case is about ("Value.__mul__", "Value.backward")
    kind: str  # twice, diamond, chain, nested, large
    expr: Callable[[Ops, Any, Any], Any]
    needs: tuple[str, ...]  # forms that must pass alone for a failure here to mean something new
    points: tuple[tuple[float, float], ...] = ((0.7, -1.3), (-0.4, 0.9))
    op: str = ""  # the op the case is about (for unary twice/nested/large cases)


@dataclass
class CaseRun:
    case: Case
    rows: list = field(default_factory=list)  # (point, name, yours, finite, reference, out, ref_out)
    fault: Fault | None = None
    phase: str = ""


def run_case(engine: Engine, case: Case, ops: Ops, eps: float) -> CaseRun:
    result = CaseRun(case)
    for k, (x, y) in enumerate(case.points):
        def student():
            a, b = engine.leaf(x), engine.leaf(y)
            return case.expr(ops, a, b), a, b

        made, fault = run(engine, student)
        if fault is not None:
            result.fault, result.phase = fault, "forward"
            return result
        out, a, b = made
        _, fault = run(engine, lambda: engine.run_backward(out))
        if fault is not None:
            result.fault, result.phase = fault, "backward"
            return result
        A, B = Reference(x, label="a"), Reference(y, label="b")
        ref = case.expr(REFERENCE_OPS, A, B)
        ref.backward()
        for name, leaf, oracle, i in (("a", a, A, 0), ("b", b, B, 1)):
            fd = _central(engine, case, ops, (x, y), i, eps)
            result.rows.append((k, name, engine.gradient(leaf), fd, float(oracle.grad), engine.value(out),
                                float(ref.data)))
    return result


def _central(engine: Engine, case: Case, ops: Ops, point: tuple, i: int, eps: float) -> float:
    def at(shift: float) -> float:
        moved = [v + (shift if j == i else 0.0) for j, v in enumerate(point)]
        return engine.value(case.expr(ops, engine.leaf(moved[0]), engine.leaf(moved[1])))

    try:
        return (at(eps) - at(-eps)) / (2 * eps)
    except Exception:  # noqa: BLE001
        return math.nan


def cases_for(engine: Engine, unary: dict[str, str], binary_ok: set[str]) -> list[Case]:
    """The composite cases this engine can run: `unary` maps op -> the student's method, `binary_ok`
    holds the forms that passed alone ("a + b", "a * 1.5", ...)."""
    name = engine.name
    out: list[Case] = []
    for symbol, dunder in (("*", "mul"), ("+", "add"), ("-", "sub"), ("/", "truediv")):
        if f"a {symbol} b" in binary_ok:
            expr = {"+": lambda o, a, b: a + a, "-": lambda o, a, b: (a * b) - a if "a * b" in binary_ok else a - a,
                    "*": lambda o, a, b: a * a, "/": lambda o, a, b: (a * b) / a if "a * b" in binary_ok else a / a}
            shown = {"+": "a + a", "-": "a * b - a", "*": "a * a", "/": "a * b / a"}[symbol]
            out.append(Case(f"{shown} (a node used twice)", f"{name}.__{dunder}__", "twice", expr[symbol],
                            (f"a {symbol} b",)))
    has = {"+", "*"} <= {k.split()[1] for k in binary_ok if k.endswith(" b") and k.startswith("a ")}
    if has:
        out.append(Case("a * b + a (a node used twice)", f"{name}.backward", "twice", lambda o, a, b: a * b + a,
                        ("a * b", "a + b")))
        out.append(Case("c = a * b; (c + a) * c (a diamond)", f"{name}.backward", "diamond",
                        lambda o, a, b: _diamond(a, b), ("a * b", "a + b")))
        out.append(Case("c = a * b; c + (c * b + a) * c (a short and a long path)", f"{name}.backward", "diamond",
                        lambda o, a, b: _paths(a, b), ("a * b", "a + b")))
    for op, method in unary.items():
        if "a + b" in binary_ok:
            out.append(Case(f"{op}(a) + a (a node used twice)", method, "twice",
                            lambda o, a, b, op=op: getattr(o, op)(a) + a, ("a + b",), _positive(op), op))
            out.append(Case(f"{op}(a) + {op}(a) (a node feeding two ops)", method, "twice",
                            lambda o, a, b, op=op: getattr(o, op)(a) + getattr(o, op)(a), ("a + b",), _positive(op),
                            op))
        out.append(Case(f"{op}({op}(a)) (an op on its own output)", method, "nested",
                        lambda o, a, b, op=op: getattr(o, op)(getattr(o, op)(a)), (), _nested_points(op), op))
        for big in _large(op):
            out.append(Case(f"{op}({big:g}) (a large input)", method, "large",
                            lambda o, a, b, op=op: getattr(o, op)(a), (), ((big, 1.0),), op))
    if has and "a * 1.5" in binary_ok and "a + 1.5" in binary_ok:
        unary_op = next((op for op in ("tanh", "sigmoid") if op in unary), None)
        out.append(Case("a chain of 30 ops (deeper graph)", f"{name}.backward", "chain",
                        lambda o, a, b, u=unary_op: _chain(o, a, b, u), ("a * b", "a + b", "a * 1.5", "a + 1.5")))
    return out


def _diamond(a, b):
    c = a * b
    return (c + a) * c


def _paths(a, b):
    """c reaches the output directly and through two more ops: an order that is not topological runs c's rule
    before the long path has added to c's gradient (breadth-first order does, whatever the set order)."""
    c = a * b
    return c + (c * b + a) * c


def _chain(ops: Ops, a, b, unary: str | None):
    x = a
    for i in range(10):
        x = x * 0.9 + b
        x = getattr(ops, unary)(x) if unary else x * 0.5
        x = x + a * 0.1 if i % 3 == 0 else x + 0.25
    return x


def _positive(op: str) -> tuple:
    return ((0.7, 0.4), (1.6, -0.2)) if op in ("log", "sqrt") else ((0.7, -1.3), (-0.4, 0.9))


def _nested_points(op: str) -> tuple:
    if op == "log":
        return ((2.5, 0.0), (4.0, 0.0))  # log(log(a)) needs a > 1
    if op == "exp":
        return ((0.3, 0.0), (-0.5, 0.0))
    return _positive(op)


def _large(op: str) -> tuple:
    return {"tanh": (800.0, -800.0), "sigmoid": (800.0, -800.0)}.get(op, ())
