"""Results about backward() as a whole: called twice then after zeroing, a deep chain, and the showcase graph."""

from __future__ import annotations

import math
from typing import Any

from ..diagnosis.finding import Finding
from ..report import ERROR, FAIL, PASS, SKIPPED, InputResult, Row
from . import behaviour
from .discovery import Engine, _defined


def twice(engine: Engine, notes: list) -> InputResult:
    name = f"{engine.name}.{engine.backward} (called twice, then after zeroing)"
    t = behaviour.backward_twice(engine)
    if t.fault is not None:
        return InputResult(name, (), ERROR, message=f"raised {t.fault.text()}", diagnosis=[
            Finding(f"{engine.name}.{engine.backward} raised when called again: {t.fault.text()}",
                    cause="operation_raised", evidence=t.fault.text())])
    factor = t.factor
    if not math.isnan(factor) and abs(factor - 1.0) > 1e-9:
        how = "doubles the leaves' gradients, as PyTorch does" if abs(factor - 2.0) < 1e-9 else \
            f"multiplies a.grad by {factor:.4g}, not 2: the interior nodes' stale gradients are added again " \
            "(micrograd does the same)"
        notes.append(Finding(f"calling {engine.backward}() a second time without zeroing {how}; zero every "
                             "node's grad before each backward()", cause="stale_gradients",
                             evidence=f"a.grad {t.first[0]:.6g} after one call, {t.second[0]:.6g} after two"))
    ok = all(same(x, y) for x, y in zip(t.zeroed, t.first))
    rows = [Row(n, (0,), z, None, f, abs(z - f), abs(z - f) / abs(f) if f else math.nan, PASS if ok else FAIL)
            for n, z, f in zip("ab", t.zeroed, t.first)]
    message = "after zeroing, a second backward() gives the first call's gradients" if ok else \
        f"after zeroing every grad, backward() gives a.grad {t.zeroed[0]:.6g}; the first call gave {t.first[0]:.6g}"
    return InputResult(name, (1,), PASS if ok else FAIL, row_source=rows, message=message)


def depth(engine: Engine, add_number: bool) -> InputResult:
    name = f"{engine.name}.{engine.backward} (a chain of {behaviour.DEEP} nodes)"
    d = behaviour.deep_chain(engine, add_number)
    if d.ok:
        return InputResult(name, (), PASS, message=f"backpropagates through {behaviour.DEEP} nodes")
    if d.fault is not None and isinstance(d.fault.error, RecursionError):
        finding = Finding(f"{engine.name}.{engine.backward} recurses once per node: it stops with RecursionError on "
                          f"a chain of {d.fails_at} nodes (Python's recursion limit is {d.limit}); build the "
                          "topological order with an explicit stack", cause="recursive_topological_order",
                          evidence=f"fine at {d.fails_at - 8} nodes or fewer, RecursionError at {d.fails_at} "
                                   f"({d.fault.where})", confidence=0.95)
        return InputResult(name, (), SKIPPED, diagnosis=[finding],
                           message=f"not checked past {d.fails_at} nodes: {finding}")
    return InputResult(name, (), ERROR, message=f"raised {d.fault.text()}", diagnosis=[
        Finding(f"{engine.name}.{engine.backward} raised on a deep chain: {d.fault.text()}",
                cause="operation_raised", evidence=d.fault.text())])


def showcase(engine: Engine, passed: dict) -> Any:
    """A small graph of the student's own objects for Report.draw(): every op that exists, once."""
    try:
        a, b = engine.leaf(0.8), engine.leaf(-0.6)
        _set_label(a, "a"), _set_label(b, "b")
        out = a * b if "a * b" in passed or _defined(engine.cls, "__mul__") else a + b
        if _defined(engine.cls, "__add__"):
            out = out + a
        for method in ("tanh", "sigmoid", "relu", "exp"):
            fn = getattr(out, method, None)
            if callable(fn):
                out = fn()
                break
        engine.run_backward(out)
        return out
    except Exception:  # noqa: BLE001 - the drawing is a convenience; the results say what raised
        return None


def _set_label(node: Any, text: str) -> None:
    if hasattr(node, "label"):
        try:
            node.label = text
        except Exception:  # noqa: BLE001
            pass


def same(a: float, b: float) -> bool:
    """Equal up to rounding (a forward or gradient recomputed the same way)."""
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 + 1e-7 * abs(b)
