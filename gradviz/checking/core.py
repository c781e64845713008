"""gv.check: autograd against finite differences and SymPy, one verdict.

    report = gv.check(fn, *inputs)      # fn builds a graph from Values/Tensors

A fresh graph is recorded for every evaluation. A non-scalar output is
checked through a random cotangent R (seeded): the checked quantity is
sum(fn(...) * R), whose gradient is the vector-Jacobian product with R.
"""

from __future__ import annotations

import functools
import time
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
WHOLE_EXPRESSION_LIMIT = 40  # scalar elements in a graph that SymPy may differentiate as one expression
WHOLE_EXPRESSION_BUDGET = 1.0  # CPU seconds; past it, per-op derivatives take over


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


NUMPY_FUNCTION_HINT = (
    "gv.check needs a function that builds its result with gradviz operations (x.tanh(), x @ W, gv.F.relu(x)). "
    "To check numpy code, give its gradient too: gv.check_grad_fn(f, grad_f, x), "
    "gv.check_pair(forward, backward, *args) or gv.check_layer(layer, x)")


class _Subject:
    """Evaluates the user's function on given input arrays, recording a fresh graph each time."""

    def __init__(self, fn: Callable, specs: list[_Input], n_inputs: int):
        self.fn, self.specs, self.n_inputs = fn, specs, n_inputs
        self.name = getattr(fn, "__name__", "the checked function")
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
        except TypeError as exc:
            if "does not support ufuncs" in str(exc):  # numpy called on gradviz Tensors: a usage mistake
                raise GradvizTypeError(f"{self.name} calls numpy functions on the Tensors it receives; "
                                       f"{NUMPY_FUNCTION_HINT}") from None
            raise UserCodeRaised(f"the checked function raised {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise UserCodeRaised(f"the checked function raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, (Value, Tensor)):
            raise GradvizTypeError(
                f"{self.name} must return a gradviz Value or Tensor, got {describe(out)}; {NUMPY_FUNCTION_HINT}"
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


def _folding_numeric_warnings(run: Callable[..., Report]) -> Callable[..., Report]:
    """Numeric warnings raised while a check probes the function (overflow, log(0), division by zero)
    become lines of the report's warnings instead of being printed with gradviz's source lines."""

    @functools.wraps(run)
    def checked(*args: Any, **kwargs: Any) -> Report:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = run(*args, **kwargs)
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

    return checked


@_folding_numeric_warnings
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
    strict: bool = False,
) -> Report:
    """Check the gradients of `fn(*inputs)` with autograd, finite differences and SymPy.

    `inputs` may be Values, Tensors, floats or arrays; `params` are Values or
    Tensors that `fn` uses from outside (a model's weights): they are checked
    too, perturbed in place and always restored. `mode` is "full" (perturb every
    element), "directional" (compare along `directions` random unit directions:
    O(1) evaluations whatever the size) or "auto" (full up to FULL_MODE_LIMIT
    elements). `eps="sweep"` also tabulates the error against the step size.

    `strict=True` also fails any element whose discrepancy exceeds 10x the
    measured error of the finite differences themselves (Richardson across
    h, 2h and h/2), even under `rtol`: it catches bugs of 1e-5 relative size
    (a layer norm that drops eps) that the default tolerances let through.

    Numeric warnings raised while the check probes the function (overflow,
    log(0), division by zero) are part of the verdict: they are listed in the
    report's warnings instead of being printed with gradviz's source lines.
    """
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
    settings = {"eps": eps, "atol": atol, "rtol": rtol, "mode": mode, "methods": methods, "seed": seed,
                "strict": bool(strict), "tolerance": f"atol={atol:g} + rtol={rtol:g} * |reference|"}
    if strict and "finite" not in methods:
        raise GradvizError("strict=True measures the finite differences' own error: include 'finite' in methods")
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
                                    stream(seed, DIRECTION_STREAM), strict)
        sym_grads, sym_note, formulas = (None, "", {})
        if "symbolic" in methods:
            sym_grads, sym_note, formulas, settings["sympy"] = _symbolic(root, subject, specs, arrays)
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
    if strict:
        settings["tolerance"] = _apply_strict(results, finite_result)
    _settle_kinks(results, nodes, finite_result)
    if sym_note:
        report_warnings.append(sym_note)
    report = Report(subject=label, results=results, settings=settings, nodes=nodes,
                    warnings=report_warnings, formulas_=formulas, root=root)
    report.verdict = _verdict(report, finite_result)
    if finite_result is not None and finite_result.mode == "directional":
        report.directional = list(finite_result.directional)
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
    strict: list[fd.Richardson] | None = None  # per input (full) or per direction (directional)


def _finite(subject, arrays, auto, base, mode, eps, atol, rtol, k, rng, strict=False) -> _FiniteResult:
    if mode == "full":
        diffs = fd.full_differences(subject.loss, arrays, eps, base)
        extra = fd.richardson(subject.loss, arrays, eps, diffs, base) if strict else None
        return _FiniteResult(mode, diffs, [d.kinked(atol, rtol) for d in diffs], [], extra)
    rows, extra = [], []
    for direction in fd.random_directions([a.shape for a in arrays], k, rng):
        central, fwd, bwd = fd.directional_difference(subject.loss, arrays, direction, eps, base)
        analytic = sum(float((g * d).sum()) for g, d in zip(auto, direction))
        if strict:
            extra.append(fd.directional_richardson(subject.loss, arrays, direction, eps, central, base))
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
    return _FiniteResult(mode, None, None, rows, extra if strict else None)


def _apply_strict(results: list[InputResult], finite_result: _FiniteResult) -> str:
    """Fail what exceeds 10x the measured finite-difference error; say which tolerance that was."""
    if finite_result.mode == "full":
        tolerances = []
        for r, rich, mask in zip(results, finite_result.strict, finite_result.kinked):
            tol = rich.tolerance()
            tolerances.append(tol[~mask])
            over = (np.abs(np.asarray(r.autograd) - rich.value) > tol) & ~mask
            over &= np.asarray(r.statuses).reshape(tol.shape) == PASS
            if over.any():
                worst = np.unravel_index(int(np.argmax(np.where(over, np.abs(r.autograd - rich.value), -1))), tol.shape)
                r.mark(over.reshape(-1), FAIL, "strict: off by more than 10x the measured finite-difference error")
                r.diagnosis = [f"strict mode: at {list(map(int, worst))} autograd is {float(r.autograd[worst]):.10g}, "
                               f"the extrapolated finite difference {float(rich.value[worst]):.10g} (error "
                               f"{abs(float(r.autograd[worst] - rich.value[worst])):.3g}, tolerance "
                               f"{float(tol[worst]):.3g})"] + list(r.diagnosis)
        flat = np.concatenate([t.ravel() for t in tolerances]) if tolerances else np.zeros(0)
        spread = f"median {np.median(flat):.2g}, max {flat.max():.2g}" if flat.size else "no smooth elements"
        return (f"strict: per element, {fd.STRICT_FACTOR}x the measured finite-difference error (Richardson across "
                f"h, 2h, h/2) + {fd.STRICT_FLOOR:g} relative ({spread}), besides atol/rtol")
    failed = 0
    for k, (row, rich) in enumerate(zip(finite_result.directional, finite_result.strict)):
        analytic, central, fwd, bwd, status = row
        if status == PASS and abs(analytic - float(rich.value)) > float(rich.tolerance()):
            finite_result.directional[k] = (analytic, central, fwd, bwd, FAIL)
            failed += 1
    if failed:
        for r in results:
            r.status = FAIL
            r.message = (f"strict: along {failed} random direction(s) autograd is off by more than "
                         f"{fd.STRICT_FACTOR}x the measured finite-difference error")
    tols = [float(r.tolerance()) for r in finite_result.strict]
    return (f"strict: per direction, {fd.STRICT_FACTOR}x the measured finite-difference error (Richardson across "
            f"h, 2h, h/2) + {fd.STRICT_FLOOR:g} relative (max {max(tols):.2g}), besides atol/rtol")


# --- SymPy ------------------------------------------------------------------------------


def _symbolic(root, subject: _Subject, specs, arrays):
    """Gradients from SymPy, and which strategy gave them and why.

    One whole expression is differentiated only while it is cheap: a small graph
    of Values (<= WHOLE_EXPRESSION_LIMIT nodes) finished within
    WHOLE_EXPRESSION_BUDGET CPU seconds; it also gives report.formulas(). Otherwise the per-op derivatives of the
    symbolic twins are composed in reverse mode, each compiled once per op
    (symbolic.py caches them), which costs a handful of SymPy calls whatever
    the graph's size. Returns (grads, note, formulas, strategy).
    """
    order = topological_order(root)
    size = sum(np.size(n.data) for n in order)
    leaves = _leaves_in_graph(order, specs)
    arrays = any(isinstance(n, Tensor) for n in order)
    why = (f"the graph has {size} scalar elements (> {WHOLE_EXPRESSION_LIMIT})" if size > WHOLE_EXPRESSION_LIMIT
           else "the graph holds arrays, whose twins (max, pooling, convolution) are cheaper to differentiate alone")
    if size <= WHOLE_EXPRESSION_LIMIT and not arrays:
        import sympy  # noqa: F401 - imported before the clock starts: the budget is for differentiating

        start = time.process_time()  # CPU time: the budget does not shrink when the machine is busy
        try:
            grads, formulas = _whole_expression(root, subject, specs, leaves, start + WHOLE_EXPRESSION_BUDGET)
            return grads, "", formulas, (f"whole expression: the graph has {size} scalar elements, "
                                         f"differentiated in {time.process_time() - start:.2f} s of CPU")
        except _OverBudget:
            why = f"differentiating the whole expression took more than its {WHOLE_EXPRESSION_BUDGET:g} s CPU budget"
        except SymbolicUnavailable as reason:
            why = f"the whole expression is unavailable ({reason})"
    try:
        grads = _per_op_backprop(root, order, subject.cotangent, specs, leaves)
    except SymbolicUnavailable as reason:
        return None, f"SymPy oracle SKIPPED: {reason}", {}, f"skipped: {reason}"
    strategy = f"per-op derivatives of the symbolic twins, compiled once per op: {why}"
    return grads, f"the SymPy column composes {strategy}", {}, strategy


class _OverBudget(Exception):
    """Whole-expression differentiation ran past its time budget."""


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


def _whole_expression(root, subject, specs, leaves, deadline: float):
    """Differentiate sum(out * R) as one SymPy expression; evaluate by substitution (no code generation).

    Substituting the recorded values and evaluating with SymPy's own floats
    needs no lambdify (whose printing of Piecewise derivatives dominated the
    cost) and cannot overflow where float64 would (exp(1000) in a twin).
    """
    import sympy

    names: dict[int, Any] = {}
    expr = symbolic(root, names)
    if isinstance(expr, np.ndarray):
        cot = np.broadcast_to(subject.cotangent, expr.shape)
        loss = sympy.Add(*[e * float(c) for e, c in zip(expr.ravel(), cot.ravel())])
    else:
        loss = expr * float(np.sum(subject.cotangent)) if np.ndim(subject.cotangent) == 0 else expr
    # Every symbol in the expression gets its recorded value; we differentiate w.r.t. the inputs'.
    values = {}
    for node in topological_order(root):
        if node.id in names:
            sym = names[node.id]
            for s, v in zip(np.ravel(sym) if isinstance(sym, np.ndarray) else [sym], np.ravel(node.data)):
                values[s] = sympy.Float(float(v), 30)
    grads, formulas = [], {}
    for spec, leaf in zip(specs, leaves):
        if leaf is None:
            grads.append(np.zeros(spec.data.shape))
            continue
        sym = names[leaf.id]
        syms = list(sym.ravel()) if isinstance(sym, np.ndarray) else [sym]
        derivs = []
        for s in syms:
            derivs.append(sympy.diff(loss, s))
            if time.process_time() > deadline:
                raise _OverBudget()
        grads.append(np.array([_evaluate(d, values) for d in derivs], dtype=np.float64).reshape(spec.data.shape))
        if len(syms) == 1:
            formulas[spec.name] = derivs[0]
        elif len(syms) <= 16:
            for s, d in zip(syms, derivs):
                formulas[str(s)] = d
    return grads, formulas


def _evaluate(derivative, values: dict) -> float:
    """A derivative's value at the recorded point: nan where SymPy cannot say, inf where it is infinite."""
    number = derivative.xreplace(values)
    try:
        number = number.evalf(30)
        return float(number)
    except (TypeError, ValueError):
        import sympy

        if number in (sympy.zoo, sympy.oo):
            return np.inf
        if number == -sympy.oo:
            return -np.inf
        return np.nan


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
    subgradient and no other rule is wrong, a disagreement with SymPy alone (no
    per-element finite differences: directional mode) is the kink's, not a bug:
    a chain of valid subgradients need not equal the twin's Heaviside(0) = 1/2.
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
    if any(n.status in (FAIL, ERROR) for n in nodes) or (finite_result is not None and finite_result.mode == "full"):
        return  # with per-element finite differences, an element that disagrees with both oracles stays FAIL
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
    if finite_result is not None and finite_result.mode == "directional":
        # Finite differences were taken along random directions, not per element: say what was compared.
        k = len(finite_result.directional)
        sympy_too = "SymPy" in _oracles(report)
        text = (f"PASS: autograd agrees with finite differences along {k} random directions through all {n} "
                "elements" + (" and with SymPy on every element" if sympy_too else ""))
    else:
        text = f"PASS: autograd agrees with {_oracles(report)} on all {n} elements"
    nondiff = statuses.count(NONDIFF)
    if nondiff:
        text = (f"PASS with {nondiff} non-differentiable element(s): autograd gives a valid subgradient at "
                "each kink or tie")
    kinked = [n for n in report.nodes if n.status == NONDIFF]
    reasons = [f"{n.where}: {n.message.split(';')[0]}" for n in kinked]
    tested = kinked[0].message.rpartition("(tested: ")[2][:-1] if kinked else ""  # drop its closing ")"
    if reasons and not nondiff:
        text = "PASS at a kink or tie: autograd agrees with the oracles and gives a valid subgradient at each kinked node"
    if reasons:
        text += " (" + "; ".join(reasons[:3]) + ")"
        if tested:
            text += f"; tested: {tested}"
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
