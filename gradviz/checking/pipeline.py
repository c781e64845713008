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

This module is the run order and the state the stages share; each stage's
job lives in its own module: evaluation.py (confirm at the checked point),
scalarized.py (the scalar the probes differentiate), probe.py and settle.py,
input_verdicts.py (judge, directional settling and localizing, diagnosis
again), assembly.py (the Report).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np

from . import probe as probing
from . import served
from .assembly import assemble, backward_failure, everything
from .contexts import Aids, Contexts, aids_for, context_for
from .diagnosis import Context
from .diagnosis.graph import from_first_wrong_node
from .diagnosis.settled import diagnose_settled
from .evaluation import BackwardStopped, Halt, confirm_inputs, evaluate, gradient_entries
from .finite import Differences
from .holes import HoleFinder
from .input_verdicts import judged, rediagnose_parameters, settle_and_localize_directions
from .local import check_nodes
from .numeric_notes import folding_numeric_warnings
from .report import FAIL, InputResult, Report
from .scalarized import restricted_loss
from .settle import settle_graph_kinks, settle_joint_kinks
from .streams import DIRECTIONS, stream
from .subject import PARAMETER, Subject, UserCodeError
from .sweep import Sweep
from .symbolic import evaluated_once
from .tolerance import EPS, Tolerance


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


class _Check:
    """One run of the stages over one Subject (state shared by the stages lives here)."""

    def __init__(self, subject: Subject, options: Options):
        self.subject, self.options, self.tol = subject, options, options.tolerance
        self.arrays = [i.data for i in subject.inputs]
        self.warnings: list[str] = list(subject.warnings)
        self.settings = options.settings(options.mode)
        self.contexts: dict[int, Context] = {}
        self.misshapen: dict[int, np.ndarray] = {}  # wrong-shaped gradients compared anyway (evaluation.py)

    def run(self) -> Report:
        try:
            return self.stages()
        except UserCodeError as exc:
            return everything(self.subject, exc.status, str(exc), self.settings, self.warnings)

    def stages(self) -> Report:
        s = self.subject
        try:
            confirm_inputs(s, self.arrays, self.tol, self.warnings)
            out, cot, raw = evaluate(s, self.arrays, self.options.seed, self.warnings)
        except Halt as halt:
            return everything(s, halt.status, halt.message, self.settings, self.warnings)
        except BackwardStopped:
            return backward_failure(s, self.tol, self.options.seed, self.settings, self.warnings)
        entries, self.misshapen = gradient_entries(s, raw)
        return self.compare(out, cot, entries)

    def compare(self, out: np.ndarray, cot, entries: list) -> Report:
        s, tol, opt = self.subject, self.tol, self.options
        holes = HoleFinder(s, self.arrays, out).find(entries)
        compared = [k for k, e in enumerate(entries) if isinstance(e, np.ndarray) or k in self.misshapen]
        yours = [entries[k] if k not in self.misshapen else np.zeros(self.arrays[k].shape) for k in compared]
        results: dict[int, InputResult] = {}
        finite = sym = None
        nodes, formulas, located = [], {}, []
        if compared:
            arrays = [self.arrays[k] for k in compared]
            mode = probing.pick_mode(opt.mode, sum(a.size for a in arrays))
            batch = s.batch_size(out)
            aids = aids_for(s, compared, out, cot, batch, mode)  # e.g. probe outputs kept for the per-sample split
            loss = restricted_loss(s, self.arrays, cot, compared, aids.probed)
            base = loss(arrays)
            self.settings["mode"] = mode
            scale = [1.0 / batch if opt.per_example_dout and batch and s.inputs[k].role == PARAMETER else 1.0
                     for k in compared]
            if "finite" in opt.methods:
                scaled = [g / sc for g, sc in zip(yours, scale)]
                with aids.probed or nullcontext():
                    finite = probing.probe(loss, arrays, scaled, base, mode, tol, opt.directions,
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
                results[k] = judged(s.inputs[k].name, yours[j], j, k, finite, sym, mode, tol, contexts.later(k))
            rows = [results[k] for k in compared]
            if tol.strict and finite is not None:
                self.settings["tolerance"] = probing.apply_strict(rows, finite)
            if s.root is not None:
                settle_graph_kinks(rows, nodes, finite)
            elif finite is not None and finite.mode == "full" and not opt.per_example_dout:
                settle_joint_kinks(rows, loss, arrays, yours, finite, base, tol, stream(opt.seed, DIRECTIONS))
                diagnose_settled(results, self.contexts)
            if finite is not None and finite.mode == "directional":
                located = settle_and_localize_directions(s, loss, arrays, yours, base, compared, results, contexts,
                                                         finite, tol, opt.seed)
            from_first_wrong_node([results[k] for k in compared], nodes)
            rediagnose_parameters(s, results, self.contexts)
        report = assemble(s, entries, results, self.misshapen, self.contexts, holes, nodes, formulas, finite,
                          self.settings, self.warnings, located, opt.per_example_dout)
        if finite is not None and compared:
            arrays = [self.arrays[k] for k in compared]
            loss = restricted_loss(s, self.arrays, cot, compared)
            report.sweep_fn = lambda steps=None: Sweep.measure(loss, arrays, yours, steps, rng_seed=opt.seed,
                                                               float32=any(i.float32 for i in s.inputs))
            if tol.sweep:
                report.warnings.append("step-size sweep:\n" + str(report.sweep()))
        return report

    def symbolic(self, cot):
        from .symbolic_stage import symbolic_gradients

        grads, note, formulas, strategy = symbolic_gradients(self.subject.root, 1.0 if cot is None else cot,
                                                             self.subject.inputs)
        return grads, note, formulas, strategy

    def context(self, k: int, out: np.ndarray, cot, batch: int | None, aids: Aids | None = None) -> Context:
        """What the diagnosis knows about input k: the same fields whatever the entry point."""
        return context_for(self.subject, self.arrays, k, out, cot, batch, self.tol, aids)


def _scaled(d: Differences, factor: float) -> Differences:
    return Differences(d.central * factor, d.forward * factor, d.backward * factor)
