"""What a check found: per-element rows, per-input verdicts, per-node localization.

A report is a table of the worst elements (input, index, autograd, finite,
symbolic, abs err, rel err, status), never a Jacobian dump and never a bare
False. It states the tolerances it used, names the odd one out when the
three answers disagree, and says in words what a failing gradient looks like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import html, text
from .diagnosis.finding import as_finding
from .status import ERROR, FAIL, NONDIFF, PASS, SHOULD_BE_ZERO, SKIPPED, worst_status  # noqa: F401
from .status import RANK as _RANK
from .text import fmt_index, fmt_number


# Checking never imports rendering (rendering draws reports, so that would be a cycle):
# gradviz.rendering registers the function that draws a report's graph.
from ..hooks import DRAWER as _DRAWER  # filled by gradviz.rendering (or a stand-in that imports it)


def register_drawer(draw) -> None:
    """Called by gradviz.rendering: `draw(root, report=..., **options)` backs Report.draw()."""
    _DRAWER["draw"] = draw


@dataclass
class Row:
    """One element of one input: the three answers and the verdict."""

    input: str
    index: tuple
    autograd: float
    finite: float | None
    symbolic: float | None
    abs_err: float
    rel_err: float
    status: str
    note: str = ""

    @property
    def shown_rel_err(self) -> float | None:
        """The relative error, or None where the true gradient is 0 (only the absolute error means something)."""
        return None if math.isnan(self.rel_err) and not math.isnan(self.abs_err) else self.rel_err

    def to_dict(self) -> dict:
        return {
            "input": self.input,
            "index": list(self.index),
            "autograd": _num(self.autograd),
            "finite": _num(self.finite),
            "symbolic": _num(self.symbolic),
            "abs_err": _num(self.abs_err),
            "rel_err": _num(self.shown_rel_err),
            "status": self.status,
            "note": self.note,
        }


@dataclass
class InputResult:
    """The verdict for one input (or parameter): its status, rows, and diagnosis.

    Rows are built on first use: a report usually shows only its worst ten,
    and building an object per element of a big input is most of a quick
    check's cost. `statuses` and `notes` (flat, one per element) answer the
    questions a verdict needs without them.
    """

    name: str
    shape: tuple
    status: str
    row_source: Any = None  # a callable building the rows, or a list of rows
    diagnosis: list[str] = field(default_factory=list)
    message: str = ""  # why the input could not be checked, or what went wrong in user code
    autograd: np.ndarray | None = None
    finite: np.ndarray | None = None
    symbolic: np.ndarray | None = None
    statuses: np.ndarray | None = None
    notes: np.ndarray | None = None
    sampled: bool = False  # rows are a random sample of the elements (a localized directional failure)

    @property
    def rows(self) -> list[Row]:
        if callable(self.row_source):
            self.row_source = self.row_source()
        return self.row_source or []

    def mark(self, mask: np.ndarray, status: str, note: str) -> None:
        """Give the elements in `mask` a new status and note, and recompute the input's status."""
        flat = np.asarray(mask).reshape(-1)
        if self.statuses is not None:
            self.statuses[flat] = status
            self.notes[flat] = note
        if not callable(self.row_source):
            for row, hit in zip(self.rows, flat):
                if hit:
                    row.status, row.note = status, note
        self.status = worst_status(self.status_list())

    def status_list(self) -> list[str]:
        return self.statuses.tolist() if self.statuses is not None else [r.status for r in self.rows]

    def note_list(self) -> list[str]:
        return self.notes.tolist() if self.notes is not None else [r.note for r in self.rows]

    @property
    def max_abs_err(self) -> float:
        return max((r.abs_err for r in self.rows if not math.isnan(r.abs_err)), default=0.0)

    @property
    def max_rel_err(self) -> float:
        return max((r.rel_err for r in self.rows if not math.isnan(r.rel_err)), default=0.0)

    def counts(self) -> dict:
        out: dict[str, int] = {}
        for status in self.status_list():
            out[status] = out.get(status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "shape": list(self.shape),
            "status": self.status,
            "max_abs_err": _num(self.max_abs_err),
            "max_rel_err": _num(self.max_rel_err),
            "counts": self.counts(),
            "diagnosis": [as_finding(d).to_dict() for d in self.diagnosis],
            "message": self.message,
            "worst": [r.to_dict() for r in _worst(self.rows, 10)],
        }


@dataclass
class NodeCheck:
    """One node's backward rule checked locally, at the inputs it actually saw."""

    node_id: int  # the node's number within its graph (recording order, from 0)
    position: int  # 0 = first in backward order
    op: str
    label: str | None
    scope: str
    status: str
    oracle: str  # "symbolic", "finite (local, directional)", or ""
    abs_err: float = 0.0
    message: str = ""
    diagnosis: list = field(default_factory=list)  # Findings about this node's wrong backward rule

    @property
    def where(self) -> str:
        parts = [f"node #{self.node_id} ({self.op}"]
        if self.label:
            parts.append(f", label {self.label!r}")
        if self.scope:
            parts.append(f", scope {self.scope!r}")
        return "".join(parts) + ")"

    def to_dict(self) -> dict:
        return {
            "node_id": self.node_id,
            "backward_position": self.position,
            "op": self.op,
            "label": self.label,
            "scope": self.scope,
            "status": self.status,
            "oracle": self.oracle,
            "abs_err": _num(self.abs_err),
            "message": self.message,
            "diagnosis": [as_finding(d).to_dict() for d in self.diagnosis],
        }


@dataclass
class Report:
    """The result of gv.check / check_layer / check_loss / check_grad_fn."""

    subject: str
    results: list[InputResult]
    settings: dict
    nodes: list[NodeCheck] = field(default_factory=list)
    verdict: str = ""  # one sentence: what is wrong and which answer is the odd one out
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was assumed: the convention picked, what was not checked
    formulas_: dict = field(default_factory=dict)
    root: Any = None  # the recorded graph of the checked evaluation (for draw())
    sweep_fn: Any = None
    # directional mode: (autograd g.v, central difference along v, forward, backward, status) per direction v
    directional: list = field(default_factory=list)
    columns: tuple = ("yours", "finite differences", "SymPy")  # what the three value columns hold (an optimizer
    # check shows "yours", "reference")
    stopped_by: str | None = None  # a typed cause when the user's code stopped the check before any comparison

    @property
    def ok(self) -> bool:
        """True when no gradient FAILs and no user code raised (NONDIFF and SKIPPED are not failures)."""
        return (all(r.status not in (FAIL, ERROR) for r in self.results)
                and all(n.status not in (FAIL, ERROR) for n in self.nodes))

    @property
    def status(self) -> str:
        return worst_status([r.status for r in self.results] + [n.status for n in self.nodes if n.status in (FAIL, ERROR)])

    @property
    def first_bad_node(self) -> NodeCheck | None:
        """The first node in backward order whose local rule is wrong (or whose backward raised)."""
        return next((n for n in self.nodes if n.status in (FAIL, ERROR)), None)

    def rows(self) -> list[Row]:
        return [row for r in self.results for row in r.rows]

    def worst(self, n: int = 10) -> list[Row]:
        return _worst(self.rows(), n)

    def formulas(self, latex: bool = False) -> dict[str, Any]:
        """The SymPy derivative formulas behind the symbolic column (LaTeX strings with latex=True)."""
        if not latex:
            return dict(self.formulas_)
        import sympy

        return {k: sympy.latex(v) for k, v in self.formulas_.items()}

    def sweep(self, steps=None):
        """Error against step size h, from 1e-1 down to 1e-12: the truncation / round-off valley."""
        if self.sweep_fn is None:
            raise ValueError("this report has no step-size sweep (no finite-difference oracle was run)")
        return self.sweep_fn(steps)

    def draw(self, **kwargs):
        """The checked graph with the verdict drawn on it (by the drawer gradviz.rendering registers)."""
        if self.root is None:
            raise ValueError("this report has no recorded graph to draw (hand-written code is checked as a black box)")
        if _DRAWER.get("draw") is None:
            raise RuntimeError("no drawer is registered: import gradviz (gradviz.rendering registers it)")
        return _DRAWER["draw"](self.root, report=self, **kwargs)

    def _repr_html_(self) -> str:
        return html.format_html(self)

    # -- output --------------------------------------------------------------------
    def to_dict(self) -> dict:
        bad = self.first_bad_node
        return {
            "subject": self.subject,
            "ok": self.ok,
            "status": self.status,
            "verdict": self.verdict,
            "settings": dict(self.settings),
            "inputs": [r.to_dict() for r in self.results],
            "first_bad_node": None if bad is None else bad.to_dict(),
            "nodes_checked": len(self.nodes),
            "node_failures": [n.to_dict() for n in self.nodes if n.status == FAIL],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "columns": dict(zip(("autograd", "finite", "symbolic"), self.columns)),  # what each row key holds
        }

    def _settings_line(self) -> str:
        return text.settings_line(self)

    def __str__(self) -> str:
        return text.format_report(self)

    def __repr__(self) -> str:
        return text.one_line(self)

    def to_markdown(self) -> str:
        mark = {PASS: "✅ PASS", FAIL: "❌ FAIL", NONDIFF: "⚠️ NONDIFF", SKIPPED: "⏭️ SKIPPED", ERROR: "💥 ERROR"}
        out = [f"### gradviz check of `{self.subject}`: {mark[self.status]}", ""]
        out.append(f"Settings: `{self._settings_line()}`")
        out.append("")
        if self.verdict:
            out += [self.verdict, ""]
        out.append("| input | shape | status | max abs err | max rel err | diagnosis |")
        out.append("|---|---|---|---|---|---|")
        for r in self.results:
            diag = "; ".join(r.diagnosis or ([r.message] if r.message else []))
            # a FAIL or ERROR with no element compared (a missing or misshapen gradient) shows no error of 0
            compared = r.status not in (FAIL, ERROR) or not r.max_abs_err == 0
            errors = (fmt_number(r.max_abs_err, 2), fmt_number(r.max_rel_err, 2)) if compared else ("-", "-")
            out.append(f"| `{r.name}` | {tuple(r.shape)} | {mark[r.status]} | {errors[0]} | {errors[1]} | {_md(diag)} |")
        worst = [row for row in self.worst() if row.status != PASS] or self.worst(5)
        scalars = all(not row.index for row in worst)  # scalars have no index column
        keep = text.filled_columns(worst)  # no column of dashes for an oracle that did not run
        out += ["", "| input | " + ("" if scalars else "index | ") + " | ".join(self.columns[k] for k in keep)
                + " | abs err | rel err | status |", "|" + "---|" * (len(keep) + (4 if scalars else 5))]
        for row in worst:
            index = "" if scalars else f" {fmt_index(row.index)} |"
            values = (row.autograd, row.finite, row.symbolic)
            out.append(f"| `{row.input}` |{index} " + " | ".join(fmt_number(values[k]) for k in keep)
                       + f" | {fmt_number(row.abs_err, 2)} | {fmt_number(row.shown_rel_err, 2)} | {row.status} "
                         f"{row.note if row.note == SHOULD_BE_ZERO else ''} |")
        bad = self.first_bad_node
        if bad is not None:
            out += ["", f"First wrong backward rule: {_md(bad.where)}: {_md(bad.message)}"]
        for w in self.warnings:
            out += ["", f"> warning: {_md(w)}"]
        for note in self.notes:
            out += ["", f"> note: {_md(note)}"]
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _worst(rows: list[Row], n: int) -> list[Row]:
    def key(r: Row):
        rel = r.rel_err if not math.isnan(r.rel_err) else (math.inf if r.status == FAIL else 0.0)
        return (_RANK[r.status], rel, r.abs_err if not math.isnan(r.abs_err) else math.inf)

    return sorted(rows, key=key, reverse=True)[:n]


def _num(x):
    if x is None:
        return None
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)  # JSON has no nan/inf: keep them visible as strings
    return x


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
