"""gv.check_engine: every operation of a student's scalar autograd class, alone and in small graphs.

One InputResult per operation form or case, named by the student's method
(`Value.__mul__ (a * b)`), so the CLI, JSON, Markdown, grading and the
pytest plugin read it like any other Report.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..diagnosis.finding import Finding
from ..report import ERROR, FAIL, NONDIFF, PASS, SKIPPED, InputResult, Report, Row
from ..tolerance import Tolerance
from . import causes, robust, whole
from .battery import FormRun, build, forward_ok, measure
from .cases import CaseRun, Ops, cases_for, run_case
from .discovery import Engine, _defined, discover
from .forms import Form, binary_forms, module_functions, named_functions, unary_forms
from .locate import Fault, assignment, backward_place, methods_called
from .infix import REFLECTED, lent_operators
from .own_ops import check_own, own_operations
from .verdict import verdict


def check_engine(cls: Any, functions: Any = None, *, parents: str | None = None, seed: int = 0, eps: float = 1e-6,
                 atol: float = 1e-5, rtol: float = 1e-3) -> Report:
    """Check a micrograd-style autograd class op by op; `functions` adds module-level ops (F.tanh) it should know.

    `parents` says where a result keeps its operands ("_prev", or a path such as "grad_fn.inputs") when
    discovery cannot find it. Raises GradvizError (CLI exit 2) when `cls` is not an engine, naming what is missing.
    """
    with lent_operators(cls) as lent:  # add(a, b) engines: the battery's a + b calls the student's add
        return _check(cls, functions, lent, parents, seed, Tolerance.of(eps, atol, rtol))


def _check(cls: Any, functions: Any, lent: dict, parents: str | None, seed: int, tol: Tolerance) -> Report:
    engine = discover(cls, parents)
    found = named_functions(functions) or module_functions(engine)
    forms = _as_functions(binary_forms(engine), lent) + unary_forms(engine, found)
    rng = np.random.default_rng(seed)
    results, notes, labels, passed, runs = [], [], {}, {}, []
    for form in forms:
        result, run = _check_form(engine, form, rng, tol, notes)
        results.append(result)
        runs.append(run)
        if run is not None and run.points:
            labels.setdefault(_label(engine, form, run), form.method)
        if result.status in (PASS, NONDIFF):
            passed[form.key] = form
    _inherited(engine, results, runs)
    code = {getattr(f.function, "__code__", None) for f in forms if f.defined}
    own = [r for shown, fn in own_operations(engine, {f.method for f in forms if f.defined} | set(found), found, code)
           if (r := check_own(engine, shown, fn, tol)) is not None]
    results += own
    unary = {f.op: f.method for f in passed.values() if len(f.nodes) == 1 and f.op not in ("powc", "neg")}
    unary_calls = {f.op: f.apply for f in passed.values() if len(f.nodes) == 1 and f.op not in ("powc", "neg")}
    twice_failed: list = []
    flagged: list = []  # overflows at a large input: robustness notes, typed for the verdict
    failed_alone = _failed_alone(results)
    ops = Ops(unary_calls)
    on_input = [method for op, method in unary.items() if _rule_on_input(engine, ops, op)]
    for case in cases_for(engine, unary, set(passed)):
        results.append(_check_case(engine, case, ops, tol, twice_failed, failed_alone, on_input, flagged))
    notes += robust.overflow_notes(flagged)
    results.append(whole.twice(engine, notes))
    results.append(whole.depth(engine, "a + 1.5" in passed))
    settings = {"eps": tol.eps, "atol": tol.atol, "rtol": tol.rtol, "seed": seed, "engine": _reading(engine),
                "op_labels": labels, "checked": sorted({f.method for f in passed.values()}),
                "own_checked": [r.name.split(" (")[0] for r in own if r.status == PASS],
                "own_skipped": [r.name.split(" (")[0] for r in own if r.status == SKIPPED],
                "robustness": [{k: f[k] for k in ("method", "input", "phase")} for f in flagged],
                "summary": f"{engine.construction}; number .{engine.number}, gradient .{engine.grad}, parents "
                           f".{engine.parents}; atol={tol.atol:g} rtol={tol.rtol:g} eps={tol.eps:g}"}
    report = Report(subject=engine.name, results=results, settings=settings, columns=("yours", "finite", "symbolic"))
    report.notes = engine.notes + notes
    report.verdict = verdict(report, engine.name)
    report.root = whole.showcase(engine, passed)
    return report


def _as_functions(forms: list[Form], lent: dict) -> list[Form]:
    """Forms whose operator was lent from a module function: named and located by that function; with a plain
    number operand they are optional (add(a, 1.5) is not a form such an engine must support)."""
    by_dunder = {d: v for dunder, v in lent.items() for d in (dunder, REFLECTED.get(dunder))}
    for form in forms:
        spelled = by_dunder.get(form.method.split(".")[-1])
        if spelled is not None:
            form.method, form.function = spelled
            form.expected = all(form.nodes)
    return forms


def _reading(engine: Engine) -> dict:
    return {"class": engine.name, "construct": engine.construction, "number": engine.number, "grad": engine.grad,
            "parents": engine.parents, "op": engine.op_attr, "backward": engine.backward,
            "node_backward": engine.node_backward}


def _label(engine: Engine, form: Form, run: FormRun | None) -> str:
    if not engine.op_attr or run is None or not run.points:
        return form.symbol
    try:
        node, _ = build(engine, form, run.points[0].values)
        return str(getattr(node, engine.op_attr, form.symbol) or form.symbol)
    except Exception:  # noqa: BLE001
        return form.symbol


# -- one operation alone ------------------------------------------------------------


def _check_form(engine: Engine, form: Form, rng, tol: Tolerance, notes: list) -> tuple[InputResult, FormRun | None]:
    name = f"{form.method} ({form.key})"
    if not form.defined:
        notes.append(f"{engine.name} does not define {form.method.split('.')[-1]}, so {form.key} is not "
                     "supported (not checked; not a failure)")
        return InputResult(name, (), SKIPPED, message=f"not defined: {engine.name} has no "
                                                     f"{form.method.split('.')[-1]}"), None
    run = measure(engine, form, rng, tol.eps)
    if run.fault is not None:
        return _fault_result(engine, form, name, run.fault, run.phase, notes), run
    rows = []
    operands = ["a", "b"] if sum(form.nodes) == 2 else ["a"]
    for k, p in enumerate(run.points):
        for i, operand in enumerate(operands):
            row = _row(operand, k, p.grads[i], p.finite[i], p.symbolic[i] if not p.kink else None, p.ref[i], tol,
                       p.hull[i] if p.kink else None)
            rows.append(row)
    result = InputResult(name, (len(run.points),), PASS, row_source=rows)  # rows are indexed by point
    result.status = _worst([r.status for r in rows])
    findings: list[Finding] = []
    wrong_forward = causes.forward_cause(run)
    where = ""
    if wrong_forward is not None:
        result.status = FAIL
        findings.append(wrong_forward)
        code = getattr(form.function, "__code__", None)
        where = f"forward at {code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno} in {form.method}" if code else ""
    for i, operand in enumerate(operands):
        if any(r.status == FAIL for r in rows if r.input == operand):
            found = causes.gradient_causes(run, i, operand) if wrong_forward is None else []
            if not found and any(p.kink for p in run.points):
                found = [Finding(f"{form.method}: at the kink ({form.key} at 0) yours is outside the subgradients",
                                 cause="kink", evidence="", confidence=0.6)]
            findings += found
            where = where or _where(engine, form, run, i)
    result.diagnosis = findings
    if result.status == FAIL:
        result.message = "; ".join(filter(None, [_first_wrong(run, rows), where]))
    else:
        result.message = f"checked at {len(run.points)} points" + (" (one at the kink: a subgradient)"
                                                                   if any(p.kink for p in run.points) else "")
    return result, run


def _row(operand: str, k: int, yours: float, finite: float, sym: float | None, ref: float, tol: Tolerance,
         hull) -> Row:
    truth = sym if sym is not None and not math.isnan(sym) else ref
    err = abs(yours - truth) if math.isfinite(yours - truth) else math.inf
    rel = err / abs(truth) if truth else math.nan
    if hull is not None:
        inside = hull[0] - tol.atol <= yours <= hull[1] + tol.atol
        return Row(operand, (k,), yours, finite, None, 0.0 if inside else err, math.nan,
                   NONDIFF if inside else FAIL, f"at the kink: a subgradient in [{hull[0]:g}, {hull[1]:g}]")
    status = PASS if tol.agree(yours, truth) else FAIL
    return Row(operand, (k,), yours, finite, sym, err, rel, status)


def _worst(statuses: list[str]) -> str:
    for s in (ERROR, FAIL, NONDIFF, PASS):
        if s in statuses:
            return s
    return PASS


def _first_wrong(run: FormRun, rows: list[Row]) -> str:
    bad_forward = next((p for p in run.points if not forward_ok(p)), None)
    if bad_forward is not None:
        return f"forward at {causes.at(run, bad_forward)}: yours {bad_forward.out:.6g}, true {bad_forward.ref_out:.6g}"
    row = next(r for r in rows if r.status == FAIL)
    point = run.points[row.index[0]]
    at = ", ".join(f"{v:g}" for v in point.values)
    truth = row.symbolic if row.symbolic is not None else point.ref[0]
    return f"d/d{row.input} at ({at}): yours {row.autograd:.6g}, true {truth:.6g}"


def _where(engine: Engine, form: Form, run: FormRun, operand: int) -> str:
    values = run.points[0].values
    place = backward_place(engine, lambda: build(engine, form, values)[0], form.function)
    if place is None:
        return ""
    return "rule at " + place.where(place.line_for(operand, False, engine.grad))


_OPERATOR_METHODS = {"unary -": "__neg__", "+": "__radd__", "-": "__rsub__", "*": "__rmul__", "/": "__rtruediv__",
                     "** or pow()": "__pow__"}


def _fault_result(engine: Engine, form: Form, name: str, fault: Fault, phase: str, notes: list) -> InputResult:
    if not form.expected:
        notes.append(f"{form.key} is unsupported: {form.method} raised {fault.kind} (not a form a scalar engine "
                     "must support)")
        return InputResult(name, (), SKIPPED, message=f"unsupported: {fault.text()}")
    missing = _missing_method(engine, fault) or _none_method(engine, fault)
    if missing:
        finding = Finding(f"{form.method} needs {engine.name}.{missing}, which {engine.name} does not define: "
                          f"{form.key} raised {fault.kind} at {fault.where}", cause="missing_operation",
                          evidence=fault.text(), confidence=0.95)
    else:
        finding = Finding(f"{form.method} raised in {phase} on {form.key}: {fault.text()}",
                          cause="operation_raised", evidence=fault.text(), confidence=0.9)
    return InputResult(name, (), ERROR, diagnosis=[finding], message=f"{phase} raised {fault.text()}")


def _none_method(engine: Engine, fault: Fault) -> str:
    """`__neg__ = None` (Python's "not supported") called by another method: that dunder, when it is the only one."""
    if "'NoneType' object is not callable" not in str(fault.error):
        return ""
    nones = [m for m in set(_OPERATOR_METHODS.values()) | {"__sub__", "__add__", "__mul__", "__truediv__"}
             if any(m in vars(k) and vars(k)[m] is None for k in engine.cls.__mro__)]
    return nones[0] if len(nones) == 1 else ""


def _missing_method(engine: Engine, fault: Fault) -> str:
    text = str(fault.error)
    unary = re.search(r"bad operand type for (unary -)", text)
    binary = re.search(r"unsupported operand type\(s\) for ([^:]+): '(\w+)' and", text)
    key = unary.group(1) if unary else (binary.group(1).strip() if binary else "")
    method = _OPERATOR_METHODS.get(key, "")
    if binary and binary.group(2) in {k.__name__ for k in engine.node_types} and method.startswith("__r"):
        method = "__" + method[3:]  # the engine's node on the left: its own __sub__ is what is missing
    if method and not _defined(engine.cls, method):
        return method
    attr = re.search(rf"'{engine.name}' object has no attribute '(\w+)'", text)
    if attr and not hasattr(engine.cls, attr.group(1)) and attr.group(1) not in (engine.number, engine.grad):
        return attr.group(1)
    return ""


# -- small graphs ------------------------------------------------------------------


def _failed_alone(results: list[InputResult]) -> dict[str, str]:
    """Short method name -> the student's qualified name, for every operation that fails alone."""
    return {r.name.split(" (")[0].split(".")[-1]: r.name.split(" (")[0] for r in results if r.status in (FAIL, ERROR)}


def _built_on(engine: Engine, method: str, key: str, fn, failed: dict[str, str]):
    """built_on_wrong_op when fn() (forward and backward) ran another method that fails alone (a / b as a * b**-1)."""
    called = methods_called(engine, fn)
    inner = sorted(failed[m] for m in called if m in failed and m != method.split(".")[-1])
    return causes.built_on(method, key, inner[0]) if inner else None


def _inherited(engine: Engine, results: list[InputResult], runs: list) -> None:
    failed = _failed_alone(results)
    for result, run in zip(results, runs):
        if result.status != FAIL or run is None or not run.points:
            continue
        values = run.points[0].values
        found = _built_on(engine, run.form.method, run.form.key,
                          lambda: engine.run_backward(build(engine, run.form, values)[0]), failed)
        if found is not None:
            result.diagnosis = [found] + result.diagnosis


def _check_case(engine: Engine, case, ops: Ops, tol: Tolerance, twice_failed: list,
                failed_alone: dict, on_input: list, flagged: list) -> InputResult:
    name = f"{case.method} ({case.key})"
    run: CaseRun = run_case(engine, case, ops, tol.eps)
    if run.fault is not None:
        if case.kind == "large":
            return robust.large_fault(case, run, flagged)
        return InputResult(name, (), ERROR, message=f"{run.phase} raised {run.fault.text()}", diagnosis=[
            Finding(f"{case.method} raised on {case.key}: {run.fault.text()}", cause="operation_raised",
                    evidence=run.fault.text(), confidence=0.9)])
    rows = [_row(n, k, y, fd, ref, ref, tol, None) for k, n, y, fd, ref, _, _ in run.rows]
    result = InputResult(name, (len(case.points),), _worst([r.status for r in rows]), row_source=rows)
    bad_forward = [(out, ref_out) for *_, out, ref_out in run.rows if not whole.same(out, ref_out)]
    if case.kind == "large":
        robust.large_verdict(case, result, run, bad_forward, flagged)
        if result.status != PASS:
            return result
    if result.status == FAIL:
        bad = next(r for r in rows if r.status == FAIL)
        graph = lambda: case.expr(ops, engine.leaf(case.points[0][0]), engine.leaf(case.points[0][1]))  # noqa: E731
        inherited = _built_on(engine, case.method, case.key, lambda: engine.run_backward(graph()), failed_alone)
        found = assignment(engine, graph)
        stored_on_input = case.method in on_input or (case.kind in ("diamond", "chain") and on_input)
        if inherited is not None:
            result.diagnosis = [inherited]
        elif stored_on_input:
            method = case.method if case.method in on_input else on_input[0]
            result.diagnosis = [causes.nested_cause(method, case.key, bad.autograd, bad.symbolic)]
        elif case.kind == "twice" or (found and case.kind in ("diamond", "chain")):
            method, line = found or (case.method, f"in {case.method}")
            result.diagnosis = [causes.twice_cause(method, case.key, bad.autograd, bad.symbolic, line)]
            twice_failed.append(method)
        elif case.kind in ("diamond", "chain") and not twice_failed:
            result.diagnosis = [causes.order_cause(case.method, case.key, bad.autograd, bad.symbolic)]
        elif case.kind == "nested":
            result.diagnosis = [causes.nested_cause(case.method, case.key, bad.autograd, bad.symbolic)]
        result.message = f"d/d{bad.input}: yours {bad.autograd:.6g}, true {bad.symbolic:.6g}"
    else:
        result.message = f"checked at {len(case.points)} points"
    return result


def _rule_on_input(engine: Engine, ops: Ops, op: str) -> bool:
    """Whether applying the op replaces its input's per-node rule (self._backward = ... instead of out's)."""
    if not engine.node_backward:
        return False
    try:
        a = engine.leaf(0.5)
        before = getattr(a, engine.node_backward, None)
        getattr(ops, op)(a)
        return getattr(a, engine.node_backward, None) is not before
    except Exception:  # noqa: BLE001
        return False
