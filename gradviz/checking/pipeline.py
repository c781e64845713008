"""The one check: every entry point's Subject goes through the same stages.

    read      an adapter or a recorder built the Subject (before this module)
    confirm   finite inputs, a usable step, a repeatable forward, gradients the size of their inputs
    probe     finite differences (full / directional / auto, strict, sweep); SymPy where a graph has twins
    settle    kinks and ties judged as subgradients
    judge     one Tolerance, one rule
    localize  the first wrong node (graphs), the wrong input and its worst elements (directional)
    diagnose  the hypotheses, with one Context whatever the entry point
    report    a Report

gv.check, check_layer, check_pair, check_loss, check_grad_fn, check_function
and gv.torch.check all end here, so a mode, a rule or a diagnosis added here
reaches every one of them.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import PrecisionWarning, warn_at_user
from .adapters.reading import as_array
from . import probe as probing
from . import served
from .diagnosis import Context, diagnose
from .diagnosis.graph import from_first_wrong_node
from .diagnosis.settled import diagnose_settled
from .finite import Differences
from .contexts import Aids, Contexts, aids_for, context_for
from .holes import HoleFinder
from .local import check_nodes
from .localize import localize_failures
from .numeric_notes import folding_numeric_warnings
from .report import ERROR, FAIL, NONDIFF, PASS, SKIPPED, InputResult, Report
from .sentences import black_box_verdict, graph_verdict
from .settle import settle_directional_kinks, settle_graph_kinks, settle_joint_kinks
from .streams import COTANGENT, DIRECTIONS, stream
from .subject import INPUT, PARAMETER, BackwardFailed, Problem, Subject, UserCodeError
from .sweep import Sweep
from .symbolic import evaluated_once
from .tolerance import EPS, Tolerance
from .verdict import judge

@dataclass(frozen=True)
class Options:
    """How to check: the tolerance, the mode, the oracles, the random streams' seed."""

    tolerance: Tolerance = Tolerance()
    mode: str = "auto"  # "full" | "directional" | "auto"
    methods: tuple = ("finite", "symbolic")
    seed: int = 0
    directions: int = probing.DIRECTIONS
    per_example_dout: bool = False  # parameter gradients carry 1/m while dx does not (deeplearning.ai)

    def settings(self, mode: str) -> dict:
        return {**self.tolerance.settings(), "mode": mode, "methods": tuple(self.methods), "seed": self.seed}


@folding_numeric_warnings
def run(subject: Subject, options: Options) -> Report:
    """Check a Subject (or, in a grader's worker, hand it to the grader: served.py); side effects are undone."""
    if served.current() is not None:
        return served.current()(subject, options)
    check = _Check(subject, options)
    try:
        report = check.run()
    finally:
        changed = subject.finish()
    for name in changed:
        report.warnings.append(f"{subject.answer} changed {name}, which gradviz did not account for; it was restored")
    return report


class _Stop(Exception):
    """A stage ended the check early with a finished report."""

    def __init__(self, report: Report):
        self.report = report


class _Check:
    """One run of the stages over one Subject (state shared by the stages lives here)."""

    def __init__(self, subject: Subject, options: Options):
        self.subject, self.options, self.tol = subject, options, options.tolerance
        self.arrays = [i.data for i in subject.inputs]
        self.warnings: list[str] = list(subject.warnings)
        self.settings = options.settings(options.mode)
        self.contexts: dict[int, Context] = {}
        self.located: list[str] = []  # how a failing directional check was localized, for the report's notes

    # -- the stages ------------------------------------------------------------------
    def run(self) -> Report:
        try:
            self.confirm_inputs()
            out, cot, entries = self.evaluate()
            return self.compare(out, cot, entries)
        except _Stop as stop:
            return stop.report
        except UserCodeError as exc:
            return self.everything(exc.status, str(exc))

    def confirm_inputs(self) -> None:
        s = self.subject
        for spec in s.inputs:
            if spec.float32:
                message = (f"{spec.name} is float32; it was upcast to float64 for the check. Finite differences in "
                           "float32 are dominated by round-off (try report.sweep() to see why)")
                warn_at_user(message, PrecisionWarning)
                self.warnings.append(message)
        bad = [i.name for i in s.inputs if not np.all(np.isfinite(i.data))]
        if bad:
            raise _Stop(self.everything(FAIL, f"input {', '.join(bad)} contains nan or inf; gradients can only be "
                                              "checked at finite points"))
        self.tol.check_step(self.arrays, s.names)

    def evaluate(self):
        """One forward and one backward at the checked point, each confirmed before it is judged."""
        s = self.subject
        copies = [a.copy() for a in self.arrays]
        out = np.array(s.first(copies), dtype=np.float64)  # a copy: the user may reuse their output buffer
        for spec, before, after in zip(s.inputs, self.arrays, copies):
            if spec.role == INPUT and not np.array_equal(before, after, equal_nan=True):
                raise UserCodeError(f"{s.name} modified its input array {spec.name} in place")
        if not np.all(np.isfinite(out)):
            raise _Stop(self.everything(FAIL, "the output is nan or inf at this point; no gradient can be checked "
                                              "(look for overflow, log of <= 0, division by 0)"))
        if s.loss and out.size != 1:
            raise UserCodeError(f"{s.name} returned shape {out.shape}; a loss must be one number")
        cot = None
        if not s.loss and (out.size != 1 or not s.graph):
            cot = stream(self.options.seed, COTANGENT).normal(size=out.shape)
            if s.graph:
                self.warnings.append("the output is not a scalar: its gradient is checked as the vector-Jacobian "
                                     "product with a random cotangent R (seeded), i.e. the gradient of sum(out * R)")
        dout = None if cot is None else cot.copy()
        try:
            raw = s.gradients(dout)
        except BackwardFailed:
            raise _Stop(self.backward_failure())
        if dout is not None and not np.array_equal(dout, cot):
            self.warnings.append(f"{s.answer} wrote into its dout argument in place (the caller's upstream gradient "
                                 "is destroyed); gradviz passed a copy, so the check itself is unaffected")
        for spec, saved in zip(s.inputs, copies):  # backward must leave the inputs and parameters as it found them
            if not np.array_equal(spec.data, saved):
                self.warnings.append(f"{s.answer} changed {spec.name} in place, which gradviz did not account for; "
                                     "it was restored")
                np.copyto(spec.data, saved)
        again = np.array(s.output([a.copy() for a in self.arrays]), dtype=np.float64)
        if again.shape != out.shape:  # not randomness: the output's shape itself moved (e.g. a 0-d made 1-d)
            raise UserCodeError(f"{s.name}: its forward returned shape {out.shape} when recorded but "
                                f"{again.shape} when run again on the same inputs; return the same shape every "
                                "call", ERROR)
        if not np.allclose(again, out, rtol=1e-9, atol=1e-12, equal_nan=True):
            raise UserCodeError(f"{s.name}: its forward gives different outputs for the same inputs (randomness "
                                "without a fixed seed, or state carried between calls), so finite differences of "
                                "it mean nothing; make it repeatable (e.g. a seed in its settings) and check "
                                "again", ERROR)
        return out, cot, self.entries(raw)

    def entries(self, raw: list) -> list:
        """Each gradient as an array, a Problem, or None (none given); wrong shapes are Problems."""
        s = self.subject
        self.misshapen: dict[int, np.ndarray] = {}
        out = []
        for k, (spec, value) in enumerate(zip(s.inputs, raw)):
            if value is None or isinstance(value, Problem):
                out.append(value)
                continue
            try:
                g = as_array(f"{s.answer} ({s.grad_name(spec.name)})", value)
            except UserCodeError as exc:
                out.append(Problem(exc.status, str(exc)))
                continue
            if g.shape != spec.data.shape:
                out.append(Problem(FAIL, f"{s.answer} returned {s.grad_name(spec.name)} of shape {g.shape}; "
                                         f"{spec.name} has shape {spec.data.shape}"))
                if spec.data.size and (g.size % spec.data.size == 0 or g.ndim == spec.data.ndim):
                    # compared anyway, so the diagnosis can name a transpose or a broadcast dimension kept
                    self.misshapen[k] = g
            else:
                out.append(g)
        return out

    def compare(self, out: np.ndarray, cot, entries: list) -> Report:
        s, tol, opt = self.subject, self.tol, self.options
        holes = HoleFinder(s, self.arrays, out).find(entries)
        compared = [k for k, e in enumerate(entries) if isinstance(e, np.ndarray) or k in self.misshapen]
        yours = [entries[k] if k not in self.misshapen else np.zeros(self.arrays[k].shape) for k in compared]
        results: dict[int, InputResult] = {}
        finite = sym = None
        nodes, formulas = [], {}
        if compared:
            arrays = [self.arrays[k] for k in compared]
            mode = probing.pick_mode(opt.mode, sum(a.size for a in arrays))
            batch = s.batch_size(out)
            aids = aids_for(s, compared, out, cot, batch, mode)  # e.g. probe outputs kept for the per-sample split
            loss = self.restricted_loss(cot, compared, aids.probed)
            base = loss(arrays)
            self.settings["mode"] = mode
            scale = [1.0 / batch if opt.per_example_dout and batch and s.inputs[k].role == PARAMETER else 1.0
                     for k in compared]
            if "finite" in opt.methods:
                scaled = [g / sc for g, sc in zip(yours, scale)]
                with aids.probed or nullcontext():
                    finite = self.finite = probing.probe(loss, arrays, scaled, base, mode, tol, opt.directions,
                                                         stream(opt.seed, DIRECTIONS))
                if finite.per_element is not None and any(sc != 1.0 for sc in scale):
                    finite.per_element = [_scaled(d, sc) for d, sc in zip(finite.per_element, scale)]
                curved = probing.curvature_warning(loss, arrays, tol, base, stream(opt.seed, DIRECTIONS))
                if curved:  # one-sided slopes that differ are curvature here, not kinks
                    self.warnings.append(curved)
                    if finite.per_element is not None:
                        finite.per_element = [Differences(d.central, d.central, d.central) for d in finite.per_element]
                        finite.kinked = [np.zeros(d.central.shape, dtype=bool) for d in finite.per_element]
            with evaluated_once():  # the SymPy stage and the node checks share each node's partials
                if s.root is not None and "symbolic" in opt.methods:
                    sym, note, formulas, self.settings["sympy"] = self.symbolic(cot)
                    if note:
                        self.warnings.append(note)
                if s.root is not None:  # each node's own probes: at the default step when the user's curves
                    node_eps = EPS if any("visibly curves" in w for w in self.warnings) else tol.eps
                    nodes = check_nodes(s.root, eps=node_eps, atol=tol.atol, rtol=tol.rtol, seed=opt.seed,
                                        use_symbolic="symbolic" in opt.methods)
            self.contexts = contexts = Contexts(lambda k: self.context(k, out, cot, batch, aids), compared)
            for j, k in enumerate(compared):
                results[k] = self.judged(j, k, yours[j], finite, sym, mode, contexts.later(k))
            judged = [results[k] for k in compared]
            if tol.strict and finite is not None:
                self.settings["tolerance"] = probing.apply_strict(judged, finite)
            if s.root is not None:
                settle_graph_kinks(judged, nodes, finite)
            elif finite is not None and finite.mode == "full" and not opt.per_example_dout:
                settle_joint_kinks(judged, loss, arrays, yours, finite, base, tol, stream(opt.seed, DIRECTIONS))
                diagnose_settled(results, self.contexts)
            if finite is not None and finite.mode == "directional":
                if s.root is None and any(r[4] != PASS for r in finite.directional):
                    settle_directional_kinks(judged, loss, arrays, yours, finite, base, tol,
                                             stream(opt.seed, DIRECTIONS))
                    if any(r[4] == FAIL for r in finite.directional):
                        for r in judged:
                            r.status = FAIL if r.status == NONDIFF else r.status
                if any(r[4] == FAIL for r in finite.directional):
                    self.localize(loss, arrays, yours, base, compared, results, contexts)
            from_first_wrong_node([results[k] for k in compared], nodes)
            self.rediagnose_parameters(results)
        report = self.assemble(out, entries, results, holes, nodes, formulas, finite, compared)
        if finite is not None and compared:
            arrays = [self.arrays[k] for k in compared]
            loss = self.restricted_loss(cot, compared)
            report.sweep_fn = lambda steps=None: Sweep.measure(loss, arrays, yours, steps, rng_seed=opt.seed,
                                                               float32=any(i.float32 for i in s.inputs))
            if tol.sweep:
                report.warnings.append("step-size sweep:\n" + str(report.sweep()))
        return report

    # -- helpers of the stages ----------------------------------------------------------
    def loss_of(self, cot, probed=None) -> Callable[[list], float]:
        """sum(forward(arrays) * R): the scalar whose gradient is the VJP with R (the output itself for a loss)."""
        output = self.subject.output if probed is None else probed.recording(self.subject.output)

        def loss(arrays: list) -> float:  # on the hot path of full mode: no temporaries beyond the dot product
            out = np.asarray(output(arrays), dtype=np.float64)
            if cot is None:
                return float(out.sum())
            return float(np.vdot(out, cot)) if out.shape == cot.shape else float((out * cot).sum())

        return loss

    def restricted_loss(self, cot, compared: list[int], probed=None) -> Callable[[list], float]:
        """The loss as a function of the compared inputs only; the others stay at their values."""
        loss = self.loss_of(cot, probed)
        if len(compared) == len(self.arrays):
            return loss

        def restricted(values: list) -> float:
            merged = list(self.arrays)
            for k, v in zip(compared, values):
                merged[k] = v
            return loss(merged)

        return restricted

    def symbolic(self, cot):
        from .symbolic_stage import symbolic_gradients

        grads, note, formulas, strategy = symbolic_gradients(self.subject.root, 1.0 if cot is None else cot,
                                                             self.subject.inputs)
        return grads, note, formulas, strategy

    def context(self, k: int, out: np.ndarray, cot, batch: int | None, aids: Aids | None = None) -> Context:
        """What the diagnosis knows about input k: the same fields whatever the entry point."""
        return context_for(self.subject, self.arrays, k, out, cot, batch, self.tol, aids)

    def judged(self, j, k, yours, finite, sym, mode, context) -> InputResult:
        spec = self.subject.inputs[k]
        diffs = finite.per_element[j] if finite is not None and finite.per_element else None
        result = judge(spec.name, yours, diffs, None if sym is None else sym[k], self.tol.atol, self.tol.rtol,
                       context=context)
        if mode == "directional" and finite is not None and result.status != FAIL:
            # No per-element finite values here: the random directions judge all inputs jointly.
            verdicts = [d[4] for d in finite.directional]
            if FAIL in verdicts:
                result.status = FAIL
            elif result.status == SKIPPED:
                result.status = NONDIFF if NONDIFF in verdicts else PASS
                result.message = (f"checked jointly along {len(verdicts)} random directions "
                                  "(directional mode has no per-element finite differences)")
        return result

    def localize(self, loss, arrays, yours, base, compared, results, contexts) -> None:
        """A failing directional check names the wrong input(s) and their worst (sampled) elements."""
        finite = self.finite
        failing = next((d for d, row in zip(finite.directions, finite.directional) if row[4] == FAIL), None)
        located = localize_failures(loss, arrays, yours, base, [results[k] for k in compared],
                                    [contexts[k] for k in compared], self.tol,
                                    stream(self.options.seed, DIRECTIONS), failing)
        for k, (result, note) in zip(compared, located):
            results[k] = result
            if note:
                self.located.append(note)

    def rediagnose_parameters(self, results: dict[int, InputResult]) -> None:
        """Parameter gradients wrong while the input gradient is right: diagnose again, knowing that."""
        s = self.subject
        inputs = [r for k, r in results.items() if s.inputs[k].role == INPUT]
        if s.graph or not inputs or any(r.status != PASS for r in inputs):
            return
        parameters = [(r.autograd, r.finite) for k, r in results.items() if s.inputs[k].role == PARAMETER
                      and r.finite is not None and not r.sampled]
        for k, r in results.items():
            if s.inputs[k].role == INPUT or r.status != FAIL or r.finite is None or r.sampled:
                continue
            context = self.contexts[k]
            context.attrs.update(input_gradient_ok=True, parameters=parameters)
            r.diagnosis = diagnose(r.autograd, r.finite, context)

    def assemble(self, out, entries, results, holes, nodes, formulas, finite, compared) -> Report:
        s = self.subject
        rows: list[InputResult] = []
        for k, spec in enumerate(s.inputs):
            entry = entries[k]
            if k in self.misshapen:
                judged = results.pop(k)
                if judged.finite is not None:
                    entry.diagnosis = diagnose(self.misshapen[k], judged.finite, self.contexts[k])
            if k in results:
                rows.append(results[k])
            elif isinstance(entry, Problem):
                rows.append(InputResult(spec.name, spec.data.shape, entry.status, message=entry.message,
                                        diagnosis=list(entry.diagnosis)))
            elif k in holes.missing:
                rows.append(InputResult(spec.name, spec.data.shape, FAIL, message=str(holes.missing[k]),
                                        diagnosis=[holes.missing[k]]))
        report = Report(subject=s.name, results=rows, settings=self.settings, nodes=nodes, warnings=self.warnings,
                        formulas_=formulas, root=s.root)
        report.notes = list(s.notes) + holes.notes(rows) + self.located
        if s.graph:
            report.verdict = graph_verdict(report, finite)
        else:
            report.verdict = black_box_verdict(rows, s.answer, finite)
        if finite is not None and finite.mode == "directional":
            report.directional = list(finite.directional)
        if self.options.per_example_dout:
            report.notes.append("per-example dout: parameter gradients are expected to carry 1/m (m examples)")
        return report

    def everything(self, status: str, message: str) -> Report:
        """A report where one reason stops every input (user code raised, a non-finite point)."""
        s = self.subject
        text = f"{message}; no gradient could be compared" if s.graph and status == ERROR else message
        results = [InputResult(i.name, tuple(i.data.shape), status, message=text) for i in s.inputs]
        report = Report(subject=s.name, results=results, settings=self.settings, verdict=f"{status}: {text}.",
                        warnings=self.warnings)
        report.notes = list(s.notes)
        return report

    def backward_failure(self) -> Report:
        """Backpropagation stopped in user code: the report names the node, the op, the input and the shapes."""
        s = self.subject
        nodes = check_nodes(s.root, eps=self.tol.eps, atol=self.tol.atol, rtol=self.tol.rtol, seed=self.options.seed,
                            use_symbolic=False)
        bad = next((n for n in nodes if n.status in (ERROR, FAIL)), None)
        status = bad.status if bad is not None else ERROR
        what = f"{bad.where}: {bad.message}" if bad is not None else "a node whose backward could not be replayed"
        message = f"backpropagation stopped at {what}"
        results = [InputResult(i.name, tuple(i.data.shape), status, message=message) for i in s.inputs]
        from_first_wrong_node(results, nodes)
        return Report(subject=s.name, results=results, settings=self.settings, nodes=nodes, root=s.root,
                      verdict=f"{status}: {message}.", warnings=self.warnings)


def _scaled(d: Differences, factor: float) -> Differences:
    return Differences(d.central * factor, d.forward * factor, d.backward * factor)


