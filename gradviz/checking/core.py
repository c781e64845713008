"""gv.check: autograd against finite differences and SymPy, one verdict.

    report = gv.check(fn, *inputs)      # fn builds a graph from Values/Tensors

A fresh graph is recorded for every evaluation. A non-scalar output is
checked through a random cotangent R (seeded): the checked quantity is
sum(fn(...) * R), whose gradient is the vector-Jacobian product with R.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradvizError, GradvizTypeError, PrecisionWarning, describe
from ..graph import topological_order
from ..tensor import Tensor, as_array, unbroadcast
from ..value import Value
from . import finite as fd
from .verdict import INFINITE, judge
from .local import KINK_ORACLE, TWIN_BUG, check_nodes
from .report import ERROR, FAIL, NONDIFF, PASS, SKIPPED, InputResult, Report
from .streams import COTANGENT, stream
from .streams import DIRECTIONS as DIRECTION_STREAM
from .sweep import Sweep
from .symbolic import SymbolicUnavailable, symbolic, symbolic_vjp

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
FULL_MODE_LIMIT = 2000  # mode="auto": perturb every element up to this many, else directional
DIRECTIONS = 8  # random directions in directional mode
MAX_NUMERIC_WARNINGS = 5  # distinct numeric warnings listed in a report
WHOLE_EXPRESSION_LIMIT = 300  # scalar elements in a graph that SymPy differentiates as one expression


@dataclass
class _Input:
    name: str
    scalar: bool  # a Value (float) rather than a Tensor
    data: np.ndarray  # float64 working copy
    node: Any = None  # for params: the user's own node, perturbed in place and restored
    float32: bool = False


def _normalize(inputs: Sequence, params: Sequence | None) -> list[_Input]:
    specs = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            specs.append(_Input(x.label or f"x{i}", True, np.array(x.data, dtype=np.float64)))
        elif isinstance(x, Tensor):
            specs.append(_Input(x.label or f"x{i}", False, np.array(x.data, dtype=np.float64),
                                float32=x.data.dtype == np.float32))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            specs.append(_Input(f"x{i}", True, np.array(float(x))))
        else:
            array = as_array(x, f"input {i} of check()")
            specs.append(_Input(f"x{i}", False, np.array(array, dtype=np.float64),
                                float32=array.dtype == np.float32))
    for j, p in enumerate(params or ()):
        if not isinstance(p, (Value, Tensor)):
            raise GradvizTypeError(f"params must be Values or Tensors, got {describe(p)}")
        specs.append(_Input(p.label or f"param{j}", isinstance(p, Value), np.array(p.data, dtype=np.float64),
                            node=p, float32=getattr(p.data, "dtype", None) == np.float32))
    _unique_names(specs)
    return specs


def _unique_names(specs: list[_Input]) -> None:
    seen: dict[str, int] = {}
    for s in specs:
        if s.name in seen:
            seen[s.name] += 1
            s.name = f"{s.name}#{seen[s.name]}"
        else:
            seen[s.name] = 0


class UserCodeRaised(GradvizError):
    """The checked function raised: a finding (an ERROR report), not a crash of the check."""


class _Subject:
    """Evaluates the user's function on given input arrays, recording a fresh graph each time."""

    def __init__(self, fn: Callable, specs: list[_Input], n_inputs: int):
        self.fn, self.specs, self.n_inputs = fn, specs, n_inputs
        self.cotangent: np.ndarray | float = 1.0

    def record(self, arrays: list[np.ndarray]):
        leaves = []
        for spec, a in zip(self.specs, arrays):
            if spec.node is not None:
                spec.node.data = float(a) if spec.scalar else a
                leaves.append(spec.node)
            elif spec.scalar:
                leaves.append(Value(float(a), label=spec.name))
            else:
                leaves.append(Tensor(a, label=spec.name))
        try:
            out = self.fn(*leaves[: self.n_inputs])
        except GradvizError:
            raise
        except Exception as exc:
            raise UserCodeRaised(f"the checked function raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, (Value, Tensor)):
            raise GradvizTypeError(
                f"the checked function must return a gradviz Value or Tensor, got {describe(out)}; "
                "build the result from the inputs it receives"
            )
        return out, leaves

    def loss(self, arrays: list[np.ndarray]) -> float:
        out, _ = self.record(arrays)
        return float((np.asarray(out.data, dtype=np.float64) * self.cotangent).sum())

    def autograd(self, out, leaves: list, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Gradients of sum(out * R) w.r.t. each input, backpropagated through a recorded graph.

        Parameters' own gradients are saved and restored: a check leaves the user's model as it was.
        """
        saved = [(s.node, s.node.grad) for s in self.specs if s.node is not None]
        for node, _ in saved:
            node.zero_grad()
        try:
            if isinstance(out, Tensor):
                out.backward(None if out.size == 1 and np.ndim(self.cotangent) == 0 else
                             np.broadcast_to(self.cotangent, out.shape) * np.ones(out.shape))
            else:
                out.backward()
            return [np.array(leaf.grad, dtype=np.float64).reshape(np.shape(a)) for leaf, a in zip(leaves, arrays)]
        finally:
            for node, grad in saved:
                node.grad = grad


def check(
    fn: Callable,
    *inputs: Any,
    eps: float | str = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    methods: Sequence[str] = ("finite", "symbolic"),
    mode: str = "auto",
    seed: int = 0,
    params: Sequence | None = None,
    directions: int = DIRECTIONS,
    name: str | None = None,
) -> Report:
    """Check the gradients of `fn(*inputs)` with autograd, finite differences and SymPy.

    `inputs` may be Values, Tensors, floats or arrays; `params` are Values or
    Tensors that `fn` uses from outside (a model's weights): they are checked
    too, perturbed in place and always restored. `mode` is "full" (perturb every
    element), "directional" (compare along `directions` random unit directions:
    O(1) evaluations whatever the size) or "auto" (full up to FULL_MODE_LIMIT
    elements). `eps="sweep"` also tabulates the error against the step size.

    Numeric warnings raised while the check probes the function (overflow,
    log(0), division by zero) are part of the verdict: they are listed in the
    report's warnings instead of being printed with gradviz's source lines.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = _check(fn, *inputs, eps=eps, atol=atol, rtol=rtol, methods=methods, mode=mode, seed=seed,
                        params=params, directions=directions, name=name)
    numeric = []
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            text = f"numeric: {w.message}"
            if text not in numeric:
                numeric.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    report.warnings.extend(numeric[:MAX_NUMERIC_WARNINGS])
    if len(numeric) > MAX_NUMERIC_WARNINGS:
        report.warnings.append(f"numeric: {len(numeric) - MAX_NUMERIC_WARNINGS} more numeric warnings")
    return report


def _check(
    fn: Callable,
    *inputs: Any,
    eps: float | str = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    methods: Sequence[str] = ("finite", "symbolic"),
    mode: str = "auto",
    seed: int = 0,
    params: Sequence | None = None,
    directions: int = DIRECTIONS,
    name: str | None = None,
) -> Report:
    """check() without the warning capture: see check() for the arguments."""
    methods = tuple(methods)
    unknown = set(methods) - {"finite", "symbolic"}
    if unknown or not methods:
        raise GradvizError(f"methods must be among 'finite' and 'symbolic', got {methods}")
    if mode not in ("auto", "full", "directional"):
        raise GradvizError(f"mode must be 'auto', 'full' or 'directional', got {mode!r}")
    want_sweep = eps == "sweep"
    validate_tolerances(EPS if want_sweep else eps, atol, rtol)
    eps, atol, rtol = (EPS if want_sweep else float(eps)), float(atol), float(rtol)
    specs = _normalize(inputs, params)
    if not specs:
        raise GradvizError("check() needs at least one input to differentiate with respect to")
    # A front end with its own forward and backward (gv.torch: torch's autograd) supplies its subject.
    make_subject = getattr(fn, "gradviz_subject", None)
    subject = make_subject(specs) if make_subject is not None else _Subject(fn, specs, len(inputs))
    arrays = [s.data for s in specs]
    report_warnings = []
    for s in specs:
        if s.float32:
            message = (f"{s.name} is float32; it was upcast to float64 for the check. Finite differences in "
                       "float32 are dominated by round-off (try report.sweep() to see why)")
            warnings.warn(message, PrecisionWarning, stacklevel=3)
            report_warnings.append(message)
    total = sum(a.size for a in arrays)
    if mode == "auto":
        mode = "full" if total <= FULL_MODE_LIMIT else "directional"
    settings = {"eps": eps, "atol": atol, "rtol": rtol, "mode": mode, "methods": methods, "seed": seed}
    label = name or getattr(fn, "__name__", "function")

    originals = [(s.node, s.node.data) for s in specs if s.node is not None]
    try:
        bad_inputs = [s.name for s in specs if not np.all(np.isfinite(s.data))]
        if bad_inputs:
            return _nonfinite_report(label, specs, settings, f"input {', '.join(bad_inputs)} contains nan or inf; "
                                     "gradients can only be checked at finite points")
        root, leaves = subject.record(arrays)  # one recording: probed, then backpropagated
        if not np.all(np.isfinite(np.asarray(root.data, dtype=np.float64))):
            return _nonfinite_report(label, specs, settings, "the output is nan or inf at this point; "
                                     "no gradient can be checked (look for overflow, log of <= 0, division by 0)")
        if np.size(root.data) != 1:
            subject.cotangent = stream(seed, COTANGENT).normal(size=np.shape(root.data))
            report_warnings.append("the output is not a scalar: its gradient is checked as the vector-Jacobian "
                                   "product with a random cotangent R (seeded), i.e. the gradient of sum(out * R)")
        try:
            auto = subject.autograd(root, leaves, arrays)
        except Exception:  # a user op's backward raised or returned unusable gradients
            nodes = check_nodes(root, eps=eps, atol=atol, rtol=rtol, seed=seed, use_symbolic=False)
            return _backward_failure_report(label, specs, settings, nodes, root, report_warnings)
        base = float(np.sum(np.asarray(root.data, dtype=np.float64) * subject.cotangent))  # = subject.loss(arrays)

        finite_result = None
        if "finite" in methods:
            finite_result = _finite(subject, arrays, auto, base, mode, eps, atol, rtol, directions,
                                    stream(seed, DIRECTION_STREAM))
        sym_grads, sym_note, formulas = (None, "", {})
        if "symbolic" in methods:
            sym_grads, sym_note, formulas = _symbolic(root, subject, specs, arrays)
        nodes = check_nodes(root, eps=eps, atol=atol, rtol=rtol, seed=seed, use_symbolic="symbolic" in methods)
    except UserCodeRaised as exc:
        message = f"{exc}; no gradient could be compared"
        results = [InputResult(s.name, tuple(s.data.shape), ERROR, message=message) for s in specs]
        return Report(subject=label, results=results, settings=settings, verdict=f"ERROR: {message}.",
                      warnings=report_warnings)
    finally:
        for node, data in originals:
            node.data = data

    results = [_judge(spec, a, finite_result, sym_grads, i, atol, rtol, mode)
               for i, (spec, a) in enumerate(zip(specs, auto))]
    _settle_kinks(results, nodes, finite_result)
    if sym_note:
        report_warnings.append(sym_note)
    report = Report(subject=label, results=results, settings=settings, nodes=nodes,
                    warnings=report_warnings, formulas_=formulas, root=root)
    report.verdict = _verdict(report, finite_result)
    if "finite" in methods:
        report.sweep_fn = lambda steps=None: Sweep.measure(subject, arrays, auto, steps, rng_seed=seed,
                                                           float32=any(s.float32 for s in specs))
    if want_sweep:
        report.warnings.append("step-size sweep:\n" + str(report.sweep()))
    return report


def validate_tolerances(eps: float, atol: float, rtol: float) -> None:
    """One clear error for a step or tolerance that cannot work (eps=0 divides by zero)."""
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise GradvizError(f"{name} must be a number, got {describe(value)}") from None
        if not np.isfinite(number) or number < 0 or (positive and number == 0):
            need = "a positive step such as 1e-6" if positive else "a number >= 0 such as 1e-5"
            raise GradvizError(f"{name}={value!r} cannot be used: {name} must be {need}")


# --- finite differences -----------------------------------------------------------------


@dataclass
class _FiniteResult:
    mode: str
    per_element: list[fd.Differences] | None
    kinked: list[np.ndarray] | None
    directional: list[tuple[float, float, float, float, str]]  # analytic, central, fwd, bwd, status


def _finite(subject, arrays, auto, base, mode, eps, atol, rtol, k, rng) -> _FiniteResult:
    if mode == "full":
        diffs = fd.full_differences(subject.loss, arrays, eps, base)
        return _FiniteResult(mode, diffs, [d.kinked(atol, rtol) for d in diffs], [])
    rows = []
    for direction in fd.random_directions([a.shape for a in arrays], k, rng):
        central, fwd, bwd = fd.directional_difference(subject.loss, arrays, direction, eps, base)
        analytic = sum(float((g * d).sum()) for g, d in zip(auto, direction))
        tol = atol + rtol * max(abs(fwd), abs(bwd))
        if abs(analytic - central) <= atol + rtol * abs(central):
            status = PASS
        elif abs(fwd - bwd) > 10 * tol or (abs(fwd - bwd) > tol and min(fwd, bwd) - tol <= analytic
                                            <= max(fwd, bwd) + tol):
            # The direction crosses a kink: its one-sided slopes cannot judge a subgradient
            # (mixed-sign upstreams make a valid one look wrong); the kinked nodes are judged locally.
            status = NONDIFF
        else:
            status = FAIL
        rows.append((analytic, central, fwd, bwd, status))
    return _FiniteResult(mode, None, None, rows)


# --- SymPy ------------------------------------------------------------------------------


def _symbolic(root, subject: _Subject, specs, arrays):
    """Gradients from SymPy: one whole expression for small graphs, per-op derivatives otherwise."""
    order = topological_order(root)
    size = sum(np.size(n.data) for n in order)
    leaves = _leaves_in_graph(order, specs)
    if size <= WHOLE_EXPRESSION_LIMIT:
        try:
            grads, formulas = _whole_expression(root, subject, specs, leaves)
            return grads, "", formulas
        except SymbolicUnavailable:
            pass  # per-op derivatives may still work (and say precisely which node cannot)
    try:
        grads = _per_op_backprop(root, order, subject.cotangent, specs, leaves)
    except SymbolicUnavailable as why:
        return None, f"SymPy oracle SKIPPED: {why}", {}
    note = ("" if size <= WHOLE_EXPRESSION_LIMIT else
            f"the graph has {size} scalar elements (> {WHOLE_EXPRESSION_LIMIT}): the SymPy column composes "
            "per-op derivatives of the symbolic twins instead of differentiating one whole expression")
    return grads, note, {}


def _leaves_in_graph(order, specs) -> list:
    """For each checked input, its leaf node in the recorded graph (None if fn never used it).

    Inputs the check built are found by label; parameters by identity. One pass over the graph.
    """
    leaves = [n for n in order if n._op is None]
    present = {id(n) for n in leaves}
    by_label: dict = {}
    for node in leaves:
        if node.label is not None and node.requires_grad:
            by_label.setdefault(node.label, node)
    return [(spec.node if id(spec.node) in present else None) if spec.node is not None
            else by_label.get(spec.name) for spec in specs]


def _whole_expression(root, subject, specs, leaves):
    import sympy

    names: dict[int, Any] = {}
    expr = symbolic(root, names)
    if isinstance(expr, np.ndarray):
        cot = np.broadcast_to(subject.cotangent, expr.shape)
        loss = sympy.Add(*[e * float(c) for e, c in zip(expr.ravel(), cot.ravel())])
    else:
        loss = expr * float(np.sum(subject.cotangent)) if np.ndim(subject.cotangent) == 0 else expr
    # Every symbol in the expression gets its recorded value; we differentiate w.r.t. the inputs'.
    order = topological_order(root)
    values = {}
    for node in order:
        if node.id in names:
            sym = names[node.id]
            if isinstance(sym, np.ndarray):
                for s, v in zip(sym.ravel(), np.ravel(node.data)):
                    values[s] = float(v)
            else:
                values[sym] = float(node.data)
    all_syms = list(values)
    fn_args = [values[s] for s in all_syms]
    grads, formulas = [], {}
    for spec, leaf in zip(specs, leaves):
        if leaf is None:
            grads.append(np.zeros(spec.data.shape))
            continue
        sym = names[leaf.id]
        syms = list(sym.ravel()) if isinstance(sym, np.ndarray) else [sym]
        derivs = [sympy.diff(loss, s) for s in syms]
        evaluate = sympy.lambdify(all_syms, derivs, modules="numpy")
        with np.errstate(all="ignore"):
            values_out = np.array(evaluate(*fn_args), dtype=np.float64).reshape(spec.data.shape)
        if not np.all(np.isfinite(values_out)):
            values_out = _precise_values(all_syms, derivs, fn_args).reshape(spec.data.shape)
        grads.append(values_out)
        if len(syms) == 1:
            formulas[spec.name] = derivs[0]
        elif len(syms) <= 16:
            for s, d in zip(syms, derivs):
                formulas[str(s)] = d
    return grads, formulas


def _precise_values(symbols, exprs, values) -> np.ndarray:
    """Evaluate derivatives in arbitrary precision where float64 overflowed (exp(1000) and the like)."""
    import mpmath
    import sympy

    evaluate = sympy.lambdify(symbols, exprs, modules="mpmath")
    with mpmath.workdps(30):
        try:
            return np.array([float(v) for v in evaluate(*[mpmath.mpf(v) for v in values])], dtype=np.float64)
        except ZeroDivisionError:  # a derivative that is infinite here (sqrt at 0): float64's inf stands
            return np.array(sympy.lambdify(symbols, exprs, modules="numpy")(*values), dtype=np.float64)


def _per_op_backprop(root, order, cotangent, specs, leaves):
    """Reverse mode where every local derivative comes from SymPy (the twins), not from backward()."""
    seed = np.broadcast_to(np.asarray(cotangent, dtype=np.float64), np.shape(root.data))
    grads: dict[int, np.ndarray] = {root.id: np.array(seed)}
    for node in reversed(order):
        if node._op is None or node.id not in grads:
            continue
        inputs = [np.asarray(p.data, dtype=np.float64) for p in node._parents]
        g = grads[node.id]
        try:
            local = symbolic_vjp(node._op, inputs, node._attrs, g)
        except SymbolicUnavailable as why:
            raise SymbolicUnavailable(f"{node._op.display} node: {why}") from None
        for parent, v in zip(node._parents, local):
            v = unbroadcast(v, np.shape(parent.data))
            grads[parent.id] = grads[parent.id] + v if parent.id in grads else v
    return [grads.get(leaf.id, np.zeros(spec.data.shape)).reshape(spec.data.shape) if leaf is not None
            else np.zeros(spec.data.shape) for spec, leaf in zip(specs, leaves)]


# --- the verdict ------------------------------------------------------------------------


def _judge(spec, auto, finite_result, sym_grads, i, atol, rtol, mode) -> InputResult:
    diffs = finite_result.per_element[i] if finite_result and finite_result.per_element else None
    sym = sym_grads[i] if sym_grads is not None else None
    result = judge(spec.name, auto, diffs, sym, atol, rtol)
    if mode == "directional" and finite_result is not None and result.status != FAIL:
        # No per-element finite values here: the random directions judge all inputs jointly.
        verdicts = [d[4] for d in finite_result.directional]
        if FAIL in verdicts:
            result.status = FAIL
        elif result.status == SKIPPED:
            result.status = NONDIFF if NONDIFF in verdicts else PASS
            result.message = (f"checked jointly along {len(verdicts)} random directions "
                              "(directional mode has no per-element finite differences)")
    return result


def _settle_kinks(results: list[InputResult], nodes: list, finite_result: _FiniteResult | None) -> None:
    """Kinks and ties are judged where they are: at their nodes (local.py's piece enumeration).

    An invalid subgradient at a kinked node fails the end-to-end elements that sit
    on a kink, with the node named. When every kinked node gives a valid
    subgradient and no other rule is wrong, an end-to-end disagreement is the
    kink's, not a bug: a chain of valid subgradients need not equal SymPy's
    twin (Heaviside(0) = 1/2) or the composite's own one-sided slopes.
    """
    kinked = [n for n in nodes if n.oracle == KINK_ORACLE]
    if not kinked:
        return
    wrong = [n for n in kinked if n.status == FAIL]
    if wrong:
        note = f"kink/tie: not a valid subgradient at {wrong[0].where}"
        for r, mask in zip(results, finite_result.kinked if finite_result and finite_result.kinked else
                           [None] * len(results)):
            statuses = np.asarray(r.statuses)
            hit = statuses == NONDIFF if mask is None else (mask.reshape(-1) & (statuses.reshape(-1) == NONDIFF))
            if np.any(hit):
                r.mark(hit, FAIL, note)
            if np.any(hit) or (finite_result is not None and finite_result.mode == "directional"):
                r.status = FAIL
                r.diagnosis = [f"{wrong[0].where}: {wrong[0].message}"] + list(r.diagnosis)
        return
    if any(n.status in (FAIL, ERROR) for n in nodes):
        return
    for r in results:
        if r.statuses is not None and np.any(np.asarray(r.statuses) == FAIL):
            r.mark(np.asarray(r.statuses) == FAIL, NONDIFF,
                   f"kink/tie: a valid subgradient chain through {kinked[0].where}; the other answer takes "
                   "another one-sided value")


def _verdict(report: Report, finite_result: _FiniteResult | None) -> str:
    statuses = [st for r in report.results for st in r.status_list()]
    notes_all = [nt for r in report.results for nt in r.note_list()]
    n = len(statuses)
    bad = report.first_bad_node
    fails = [nt for st, nt in zip(statuses, notes_all) if st == FAIL]
    if finite_result is not None and finite_result.mode == "directional":
        dir_fail = [d for d in finite_result.directional if d[4] == FAIL]
        if dir_fail and not fails:
            analytic, central = dir_fail[0][0], dir_fail[0][1]
            fails_text = (f"FAIL: along {len(dir_fail)} of {len(finite_result.directional)} random directions the "
                          f"autograd directional derivative ({analytic:.6g}) disagrees with finite differences "
                          f"({central:.6g})")
            return fails_text + (f"; first wrong backward rule: {bad.where}" if bad else "")
    if fails:
        odd = [nt for nt in fails if nt == "autograd is the odd one out"]
        text = f"FAIL: {len(fails)} of {n} gradient elements are wrong"
        if odd:
            text += "; finite differences and SymPy agree with each other, so autograd is the odd one out"
        if bad:
            text += f"; the first wrong backward rule in backward order is {bad.where}"
        return text + "."
    if bad and bad.oracle == KINK_ORACLE:
        return f"FAIL: {bad.where} sits at a kink or tie: {bad.message}."
    if bad:
        return (f"FAIL: the end-to-end gradients agree, but {bad.where} has a wrong backward rule "
                f"({bad.message}); its error does not reach the inputs at this point.")
    if statuses and all(st == SKIPPED for st in statuses) and INFINITE in notes_all:
        return f"SKIPPED: {INFINITE}; check at a point inside the function's domain."
    notes = {nt for nt in notes_all if nt.endswith("disagree with the other two")}
    text = f"PASS: autograd agrees with {_oracles(report)} on all {n} elements"
    nondiff = statuses.count(NONDIFF)
    if nondiff:
        text = (f"PASS with {nondiff} non-differentiable element(s): autograd gives a valid subgradient at "
                "each kink or tie")
    reasons = [f"{n.where}: {n.message.split(';')[0]}" for n in report.nodes if n.status == NONDIFF]
    if reasons and not nondiff:
        text = "PASS at a kink or tie: autograd agrees with the oracles and gives a valid subgradient at each kinked node"
    if reasons:
        text += " (" + "; ".join(reasons[:3]) + ")"
    twin_bugs = [n for n in report.nodes if n.message.startswith(TWIN_BUG)]
    if twin_bugs and not any(note.startswith("SymPy") for note in notes):
        notes.add("SymPy disagree with the other two")
    for note in sorted(notes):
        if note.startswith("finite"):
            text += ("; finite differences are the odd one out somewhere (autograd and SymPy agree): "
                     "step size or precision, see report.sweep()")
        else:
            text += "; SymPy is the odd one out somewhere (autograd and finite differences agree): a twin bug"
            if twin_bugs:
                text += f" in {twin_bugs[0].where}"
    return text + "."


def _oracles(report: Report) -> str:
    names = []
    if "finite" in report.settings["methods"]:
        names.append("finite differences")
    if "symbolic" in report.settings["methods"] and not any("SymPy oracle SKIPPED" in w for w in report.warnings):
        names.append("SymPy")
    return " and ".join(names) or "no oracle"


def _nonfinite_report(label, specs, settings, message) -> Report:
    results = [InputResult(s.name, tuple(s.data.shape), FAIL, message=message) for s in specs]
    return Report(subject=label, results=results, settings=settings, verdict=f"FAIL: {message}.")


def _backward_failure_report(label, specs, settings, nodes, root, report_warnings) -> Report:
    """Backpropagation stopped in user code: the report names the node, the op, the input and the shapes."""
    bad = next((n for n in nodes if n.status in (ERROR, FAIL)), None)
    status = bad.status if bad is not None else ERROR
    what = f"{bad.where}: {bad.message}" if bad is not None else "a node whose backward could not be replayed"
    message = f"backpropagation stopped at {what}"
    results = [InputResult(s.name, tuple(s.data.shape), status, message=message) for s in specs]
    return Report(subject=label, results=results, settings=settings, nodes=nodes, root=root,
                  verdict=f"{status}: {message}.", warnings=report_warnings)
