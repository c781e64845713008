"""The report stage of the one pipeline: per-input rows, notes and the verdict, assembled into a Report.

Also the two reports where one reason stops every input: the user's code
raised (or the point is not finite), and a recorded backward that stopped in
a user op (named by the node checks).
"""

from __future__ import annotations

import numpy as np

from .diagnosis import diagnose
from .diagnosis.graph import from_first_wrong_node
from .holes import HoleFinder
from .local import check_nodes
from .report import ERROR, FAIL, InputResult, Report
from .sentences import black_box_verdict, graph_verdict
from .subject import Problem, Subject
from .tolerance import Tolerance


def assemble(s: Subject, entries: list, results: dict[int, InputResult], misshapen: dict[int, np.ndarray],
             contexts, holes: HoleFinder, nodes: list, formulas: dict, finite, settings: dict, warnings: list[str],
             located: list[str], per_example_dout: bool) -> Report:
    """One row per input (judged, a Problem, or a missing gradient), then the notes and the verdict."""
    rows: list[InputResult] = []
    for k, spec in enumerate(s.inputs):
        entry = entries[k]
        if k in misshapen:
            judged = results.pop(k)
            if judged.finite is not None:
                entry.diagnosis = diagnose(misshapen[k], judged.finite, contexts[k])
        if k in results:
            rows.append(results[k])
        elif isinstance(entry, Problem):
            rows.append(InputResult(spec.name, spec.data.shape, entry.status, message=entry.message,
                                    diagnosis=list(entry.diagnosis)))
        elif k in holes.missing:
            rows.append(InputResult(spec.name, spec.data.shape, FAIL, message=str(holes.missing[k]),
                                    diagnosis=[holes.missing[k]]))
    report = Report(subject=s.name, results=rows, settings=settings, nodes=nodes, warnings=warnings,
                    formulas_=formulas, root=s.root)
    report.notes = list(s.notes) + holes.notes(rows) + located
    if s.graph:
        report.verdict = graph_verdict(report, finite)
    else:
        report.verdict = black_box_verdict(rows, s.answer, finite)
    if finite is not None and finite.mode == "directional":
        report.directional = list(finite.directional)
    if per_example_dout:
        report.notes.append("per-example dout: parameter gradients are expected to carry 1/m (m examples)")
    return report


def everything(s: Subject, status: str, message: str, settings: dict, warnings: list[str]) -> Report:
    """A report where one reason stops every input (user code raised, a non-finite point)."""
    text = f"{message}; no gradient could be compared" if s.graph and status == ERROR else message
    results = [InputResult(i.name, tuple(i.data.shape), status, message=text) for i in s.inputs]
    report = Report(subject=s.name, results=results, settings=settings, verdict=f"{status}: {text}.",
                    warnings=warnings)
    report.notes = list(s.notes)
    return report


def backward_failure(s: Subject, tol: Tolerance, seed: int, settings: dict, warnings: list[str]) -> Report:
    """Backpropagation stopped in user code: the report names the node, the op, the input and the shapes."""
    nodes = check_nodes(s.root, eps=tol.eps, atol=tol.atol, rtol=tol.rtol, seed=seed, use_symbolic=False)
    bad = next((n for n in nodes if n.status in (ERROR, FAIL)), None)
    status = bad.status if bad is not None else ERROR
    what = f"{bad.where}: {bad.message}" if bad is not None else "a node whose backward could not be replayed"
    message = f"backpropagation stopped at {what}"
    results = [InputResult(i.name, tuple(i.data.shape), status, message=message) for i in s.inputs]
    from_first_wrong_node(results, nodes)
    return Report(subject=s.name, results=results, settings=settings, nodes=nodes, root=s.root,
                  verdict=f"{status}: {message}.", warnings=warnings)

