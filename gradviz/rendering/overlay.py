"""The check overlay: what a gv.check Report says about each drawn node.

Leaves take their input's status from the report; an op node takes its
backward rule's; an intermediate gradient is wrong when a rule between it and
the output is wrong, and missing (ERROR) when one of them raised.
"""

from __future__ import annotations

from typing import Any

from ..checking.diagnosis.finding import NO_PATTERN
from ..checking.status import ERROR, FAIL, PASS, worst_status
from ..graph import topological_order
from . import labels as L


class Overlay:
    """What a gv.check Report says about each drawn node."""

    def __init__(self, report, root, order):
        self.report = report
        self.notes: list[str] = []
        self.by_index: dict[int, Any] = {}
        self.first_bad_index: int | None = None
        self.inputs = {}
        self.gradient_status: dict[int, str] = {}
        if report is None:
            return
        same_graph = report.root is root or (report.root is not None
                                             and len(topological_order(report.root)) == len(order))
        if same_graph:
            self.by_index = {n.node_id: n for n in report.nodes}
            bad = report.first_bad_node
            self.first_bad_index = bad.node_id if bad else None
            if self.by_index:
                self.gradient_status = self._gradients_from_rules(order)
        self.inputs = {r.name: r for r in report.results}
        self.notes.append(f"check: {report.status}")

    def _gradients_from_rules(self, order) -> dict[int, str]:
        """An intermediate gradient is wrong exactly when a rule between it and the output is wrong,
        and was never computed (ERROR) when a rule between them raised."""
        index = {id(n): i for i, n in enumerate(order)}
        status = {len(order) - 1: PASS}  # the output's gradient is the seed 1
        for i in range(len(order) - 1, -1, -1):
            node = order[i]
            if node._op is None:
                continue
            rule = self.node_status(i)
            passed_on = worst_status([status.get(i, PASS)] + ([rule] if rule in (FAIL, ERROR) else []))
            for parent in node._parents:
                j = index[id(parent)]
                status[j] = worst_status([status.get(j, PASS), passed_on])
        return {i: s for i, s in status.items() if order[i]._op is not None}

    def diagnosis_of(self, i: int):
        """The most likely named cause of node i's wrong rule (none when no cause fits)."""
        check = self.by_index.get(i)
        named = [d for d in getattr(check, "diagnosis", []) if getattr(d, "cause", "") != NO_PATTERN]
        return named[0] if named else None

    def message_of(self, i: int) -> str:
        check = self.by_index.get(i)
        return check.message if check else ""

    def node_status(self, i: int) -> str | None:
        check = self.by_index.get(i)
        return check.status if check else None

    def status_of(self, node, i) -> str | None:
        if self.report is None:
            return None
        if node._op is None:  # a leaf's gradient was measured against the oracles
            result = self.inputs.get(node.label) if node.label else None
            return result.status if result else None
        return self.gradient_status.get(i)

    def lines_of(self, node, i, precision) -> list[str]:
        if self.report is None or node._op is not None or not node.label or node.label not in self.inputs:
            return []
        result = self.inputs[node.label]
        if len(result.rows) == 1:
            row = result.rows[0]
            yours, finite, symbolic = self.report.columns  # whose answer each holds: yours, finite differences, SymPy
            parts = [f"{yours} {L.number(row.autograd, precision)}"]
            if row.finite is not None:
                parts.append(f"{finite.replace('finite differences', 'finite diff.')} {L.number(row.finite, precision)}")
            if row.symbolic is not None:
                parts.append(f"{symbolic} {L.number(row.symbolic, precision)}")
            return parts + [result.status]
        if result.status == ERROR:  # nothing was compared: the user's code raised before this gradient existed
            return [f"{ERROR}: no gradient (user code raised)"]
        return [f"{result.status}: max abs err {result.max_abs_err:.2g}"]
