"""Operations of the student's engine that gradviz's op table has no entry for: checked by their own forward.

A student's class defines more than `+ * ** tanh`: `leaky_relu`, `softplus`, `__rpow__`, `__matmul__`,
`sum`. Leaving them out would let a verdict say "every operation it defines agrees" about a class whose
`leaky_relu` drops its slope. Each such method (or op-like function of the class's module) is found by
what it does: applied to one node (`a.m()`), two (`a.m(b)`) or a node and a number (`a.__rpow__(1.5)`),
it returns a new node made from them. An array engine's ops that need matrices (`a @ b`, `a.sum()`)
get 2x3 and 3x2 arrays, and backward() from their output is the gradient of its sum, as such engines
seed it. The local derivative is compared with central differences of the student's own forward, alone
and with an input used twice (`m(a) + a`, which shows `=` where `+=` belongs); the forward has no
reference, so only the gradient is judged, and the report says so.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..diagnosis import Context, diagnose
from ..diagnosis.finding import Finding
from ..report import ERROR, FAIL, PASS, SKIPPED, InputResult, Row
from ..tolerance import Tolerance
from .discovery import Engine, module_of, walk
from .locate import backward_place, run

POINTS = ((-1.3, 0.6), (-0.45, 1.7), (0.35, -0.8), (0.9, 1.2), (1.6, -1.9))
POSITIVE = ((0.3, 0.6), (0.75, 1.7), (1.2, 0.8), (1.6, 1.2), (2.1, 1.9))
CONSTANT = 1.5
# matrices for an array engine's ops: (3, 2) @ (2, 2) first, so a @ b + a shows `=` where `+=` belongs and a
# stray 1/batch (1/3) is not a factor 1/2; then elementwise shapes, then the other product
SHAPES = (((3, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 3), (3, 2)))
# methods that are not operations: graph walks, gradient resets, printing, conversion
NOT_OPS = {"backward", "backprop", "backward_pass", "backpropagate", "zero_grad", "zero", "topo", "topological_sort",
           "build_topo", "deepwalk", "walk", "item", "numpy", "tolist", "detach", "copy", "clone", "parameters",
           "draw", "show", "plot", "wrap", "lift", "const", "to_value", "ensure"}
OWN_DUNDERS = ("__matmul__", "__rmatmul__", "__rpow__", "__abs__", "__pos__")
# what a function that is not an op is called: it is never called with gradviz's nodes (it may train or draw)
NOT_OP_PREFIXES = ("test", "train", "draw", "plot", "show", "print", "build", "main", "demo", "run", "make", "load",
                   "save", "trace", "render", "visual", "check", "fit", "eval", "predict", "zero", "backward", "topo")


class _Method:
    """a.m(*rest): a method of the student's class called on its first operand; `function` is its code."""

    def __init__(self, name: str, function: Callable):
        self.name, self.function = name, function

    def __call__(self, *xs):
        return getattr(xs[0], self.name)(*xs[1:])


@dataclass
class Way:
    """How an operation is applied: how many nodes, a trailing plain number, and how each operand is made."""

    nodes: int
    constant: bool
    make: Callable[[int, Any], Any]  # make(operand index, value) -> leaf
    values: Callable[[tuple], list]  # a point -> one value per node operand (numbers or arrays)
    key: str


def own_operations(engine: Engine, covered: set[str], functions: dict[str, Callable],
                   covered_code: set) -> list[tuple[str, Callable]]:
    """(shown name, callable taking nodes) for every method or module function the op table does not cover."""
    found: dict[str, Callable] = {}
    short = {c.split(".")[-1] for c in covered}
    for klass in engine.node_types:
        for name, attr in vars(klass).items():
            public = not name.startswith("_") or name in OWN_DUNDERS
            if (public and name not in NOT_OPS and name not in short and inspect.isfunction(attr)
                    and _required(attr) in (1, 2)  # self, and at most one operand
                    and not name.lower().startswith(NOT_OP_PREFIXES)):
                found.setdefault(f"{engine.name}.{name}", _Method(name, attr))
    module = module_of(engine.cls)
    for name, obj in (vars(module).items() if module is not None else ()):
        if (inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
                and name not in NOT_OPS and name not in functions and name not in short
                and _required(obj) in (1, 2) and not name.lower().startswith(NOT_OP_PREFIXES)
                and obj.__code__ not in covered_code):  # Num.__add__ = add: already checked as a + b
            found.setdefault(name, obj)
    return list(found.items())


def _random(name: str) -> InputResult:
    return InputResult(name, (), SKIPPED, message="not checked: its forward gives another value each call "
                                                  "(random, like dropout), so finite differences mean nothing")


def _required(fn: Callable) -> int:
    """How many positional arguments a function requires (a method counts self); -1 when it cannot be read."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return -1
    if any(p.kind == p.KEYWORD_ONLY and p.default is inspect.Parameter.empty for p in params):
        return -1
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               and p.default is inspect.Parameter.empty)


def check_own(engine: Engine, shown: str, fn: Callable, tol: Tolerance) -> InputResult | None:
    """The result for one unlisted operation, or None when it is not an operation on nodes."""
    way = _way(engine, fn)
    if way is None:
        return None
    name = f"{shown} ({way.key.replace('m(', shown.split('.')[-1] + '(')})"
    if not _deterministic(engine, fn, way):
        return _random(name)
    rows, faults = [], []
    for points in (POINTS, POSITIVE):
        rows, faults, random = _measure(engine, fn, way, points, tol)
        if random:
            return _random(name)
        if not faults and all(math.isfinite(r.finite) for r in rows):
            break
    if not rows and not faults:
        return InputResult(name, (), SKIPPED, message=f"not checked: backward() did not run from {way.key}'s "
                                                      "array output (gradviz guessed the shapes)")
    if faults and not rows:
        return InputResult(name, (), ERROR, message=f"raised {faults[0].text()}", diagnosis=[
            Finding(f"{shown} raised on {way.key}: {faults[0].text()}", cause="operation_raised",
                    evidence=faults[0].text(), confidence=0.9)])
    if rows and not any(math.isfinite(r.finite) for r in rows):
        return InputResult(name, (), SKIPPED, message="not checked: its forward has no derivative gradviz could "
                                                      "take by finite differences at any point tried")
    status = FAIL if any(r.status == FAIL for r in rows) else PASS
    result = InputResult(name, (len(rows),), status, row_source=rows)
    if status == PASS:
        result.message = ("checked against central differences of your own forward, alone and with an input "
                          f"used twice (gradviz has no rule of its own for {shown.split('.')[-1]})")
        return result
    bad = next(r for r in rows if r.status == FAIL)
    result.message = f"{bad.note or 'alone'}: d/d{bad.input}: yours {bad.autograd:.6g}, true {bad.finite:.6g}"
    alone = [r for r in rows if not r.note and r.input == bad.input]
    if bad.note:
        found = [Finding(f"{shown} is right alone but wrong when its input is used twice ({bad.note}): it sets "
                         "a gradient with = where += belongs, so what reached the input first is lost",
                         cause="assignment_not_accumulation",
                         evidence=f"d/d{bad.input}: yours {bad.autograd:.6g}, true {bad.finite:.6g}", confidence=0.8)]
    else:
        yours, true = np.array([r.autograd for r in alone]), np.array([r.finite for r in alone])
        shape = np.shape(way.values(POINTS[0])[0])  # matrices: the first operand's rows are the batch
        ctx = Context(name=f"{bad.input}.grad", kind="", wrt=np.ones_like(yours), output=np.ones_like(yours),
                      cotangent=np.ones_like(yours), inputs={}, eps=tol.eps, atol=tol.atol, rtol=tol.rtol,
                      batch=shape[0] if len(shape) == 2 else None)
        found = [Finding(f"{shown}: {f}", cause=f.cause, evidence=f.evidence, confidence=f.confidence)
                 for f in diagnose(yours, true, ctx)]
    where = _rule_at(engine, fn, way, bad)
    if where:
        result.message += f"; rule at {where}"
    result.diagnosis = found or [Finding(f"{shown}'s gradient differs from central differences of its own "
                                         f"forward: d/d{bad.input} yours {bad.autograd:.6g}, true {bad.finite:.6g}",
                                         cause="no_pattern", evidence=result.message, confidence=0.7)]
    return result


def _rule_at(engine: Engine, fn: Callable, way: Way, bad: Row) -> str:
    """`file:line in function: text` of the rule that wrote the failing operand's gradient, or ''."""
    function = getattr(fn, "function", fn)
    values = way.values(POINTS[bad.index[0]] if bad.index[0] < len(POINTS) else POINTS[0])
    try:
        place = backward_place(engine, lambda: _apply(fn, way, [way.make(i, v) for i, v in enumerate(values)]),
                               function)
        return "" if place is None else place.where(place.line_for("ab".index(bad.input), bool(bad.note), engine.grad))
    except Exception:  # noqa: BLE001 - placing the line is a courtesy; the verdict stands without it
        return ""


def _ways(engine: Engine) -> list[Way]:
    number = lambda i, v: engine.leaf(v)  # noqa: E731
    array = lambda i, v: engine.make_leaf(np.array(v, dtype=np.float64))  # noqa: E731
    ways = [Way(1, False, number, lambda p: [p[0]], "m(a)"), Way(2, False, number, lambda p: list(p), "m(a, b)"),
            Way(1, True, number, lambda p: [p[0]], f"m(a, {CONSTANT:g})")]
    for shapes in SHAPES:
        for n in (1, 2):
            ways.append(Way(n, False, array, lambda p, s=shapes[:n]: _arrays(p, s),
                            "m(" + ", ".join(f"{x}{'x'.join(map(str, s))}" for x, s in zip("ab", shapes[:n])) + ")"))
    return ways


def _arrays(point: tuple, shapes) -> list:
    """Deterministic arrays of the given shapes around the point's numbers, every element different."""
    return [np.round(point[i] + 0.37 * np.arange(int(np.prod(s))).reshape(s) / max(1, int(np.prod(s)) - 1)
                     * np.sign(point[i] or 1.0), 4) for i, s in enumerate(shapes)]


def _apply(fn: Callable, way: Way, xs: list):
    return fn(*xs, CONSTANT) if way.constant else fn(*xs)


def _way(engine: Engine, fn: Callable) -> Way | None:
    for way in _ways(engine):
        try:
            xs = [way.make(i, v) for i, v in enumerate(way.values(POSITIVE[1]))]
            out = _apply(fn, way, xs)
            if isinstance(out, engine.node_types) and all(out is not x for x in xs) \
                    and np.all(np.isfinite(np.asarray(getattr(out, engine.number), dtype=np.float64))) \
                    and {id(x) for x in xs} <= {id(p) for p in walk(engine, out)}:
                return way
        except Exception:  # noqa: BLE001 - user code: "not this way"
            continue
    return None


def _deterministic(engine: Engine, fn: Callable, way: Way) -> bool:
    def once() -> float:
        return _total(engine, _apply(fn, way, [way.make(i, v) for i, v in enumerate(way.values(POSITIVE[2]))]))
    try:
        values = [once() for _ in range(8)]
    except Exception:  # noqa: BLE001 - a raising forward is reported by the measurement
        return True
    return all(v == values[0] for v in values) or all(math.isnan(v) for v in values)


def _total(engine: Engine, node: Any) -> float:
    return float(np.sum(np.asarray(getattr(node, engine.number), dtype=np.float64)))


def _measure(engine: Engine, fn: Callable, way: Way, points, tol: Tolerance):
    rows, faults = [], []
    graphs = [("", lambda xs: _apply(fn, way, xs))]
    graphs += [(f"{'ab'[i]} used twice", lambda xs, i=i: _apply(fn, way, xs) + xs[i]) for i in range(way.nodes)]
    arrays = any(np.ndim(v) for v in way.values(points[0]))
    for k, point in enumerate(points):
        values = way.values(point)
        for note, graph in graphs:
            def student(values=values, graph=graph):
                xs = [way.make(i, v) for i, v in enumerate(values)]
                out = graph(xs)
                engine.run_backward(out)
                return xs, _total(engine, out)
            made, fault = run(engine, student)
            if fault is not None:  # arrays: m(a) + a may not broadcast, or backward() wants one number
                if not arrays:
                    faults.append(fault)
                continue
            xs, value = made
            for i in range(way.nodes):
                grad = getattr(xs[i], engine.grad, None)
                yours = np.broadcast_to(np.asarray(0.0 if grad is None else grad, dtype=np.float64),
                                        np.shape(values[i]))
                for index in np.ndindex(np.shape(values[i])):
                    fd = _central(engine, way, graph, values, i, index, tol.eps, value)
                    if fd is None:  # the forward drew again: a random op, judged by nothing
                        return [], [], True
                    y = float(yours[index])
                    ok = not math.isfinite(fd) or bool(tol.agree(y, fd))
                    err = abs(y - fd) if math.isfinite(fd) else math.nan
                    rows.append(Row("ab"[i], (k,) + index, y, fd, None, err, err / abs(fd) if fd else math.nan,
                                    PASS if ok else FAIL, note))
    return rows, faults, False


def _central(engine: Engine, way: Way, graph, values: list, i: int, index: tuple, eps: float,
             value: float) -> float | None:
    """Central differences of the student's forward; nan at a kink, or where the forward is not the one
    backward() ran on (a random op drawing again: the gradient and the differences then describe two
    different functions, and neither may judge the other)."""
    def at(shift: float) -> float:
        moved = [np.array(v, dtype=np.float64) for v in values]
        moved[i][index] += shift
        return _total(engine, graph([way.make(j, m if np.ndim(values[j]) else float(m))
                                     for j, m in enumerate(moved)]))
    try:
        plus, here, minus = at(eps), at(0.0), at(-eps)
    except Exception:  # noqa: BLE001
        return math.nan
    if not (here == value or abs(here - value) <= 1e-12 * (1.0 + abs(value))):
        return None
    right, left = (plus - here) / eps, (here - minus) / eps
    if abs(right - left) > 1e-3 * (1.0 + abs(right) + abs(left)):
        return math.nan  # a kink, or a forward that is not the same function twice: no finite answer to judge by
    return (plus - minus) / (2 * eps)
