"""Folding big graphs: which nodes are drawn, and which scopes become one summary node.

A graph past `AUTO_COLLAPSE` drawn nodes folds its deepest scopes first, level
by level, until it fits; when scopes alone are not enough it keeps the nodes
closest to the output. The drawing says in its heading what was folded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AUTO_COLLAPSE = 150  # drawn nodes above which the graph folds itself


@dataclass
class Plan:
    """Which nodes are drawn, which are folded into summary nodes, and why."""

    order: list
    index: dict  # id(node) -> position in `order`
    group: dict = field(default_factory=dict)  # position -> summary key, for folded nodes
    notes: list = field(default_factory=list)


def plan_collapse(plan: Plan, collapse, max_nodes: int) -> None:
    if collapse is False:
        return
    if isinstance(collapse, bool) or collapse is None:
        if _drawn_count(plan.order, {}) <= max_nodes:
            return
        depth = max((len(n.scope.split(".")) for n in plan.order if n.scope), default=0)
        for level in range(depth - 1, -1, -1):
            groups = _fold(plan.order, level)
            if _drawn_count(plan.order, groups) <= max_nodes:
                plan.group = groups
                plan.notes.append(f"auto-collapsed: {len(plan.order)} nodes, scopes deeper than level {level} "
                                  f"folded (draw(..., collapse=False) draws everything)")
                return
        # Scopes alone are not enough: keep the nodes closest to the output.
        keep = max_nodes // 2
        plan.group = {i: "earlier nodes" for i in range(len(plan.order) - keep)}
        plan.notes.append(f"auto-collapsed: showing the last {keep} of {len(plan.order)} nodes "
                          "(draw(..., collapse=False) draws everything)")
        return
    plan.group = _fold(plan.order, int(collapse))


def _fold(order: list, level: int) -> dict:
    groups = {}
    for i, node in enumerate(order):
        parts = node.scope.split(".") if node.scope else []
        if len(parts) > level:
            groups[i] = ".".join(parts[: level + 1])
    return groups


def _drawn_count(order: list, groups: dict) -> int:
    singles = sum(2 if n._op is not None else 1 for i, n in enumerate(order) if i not in groups)
    return singles + len(set(groups.values()))


def groups(plan: Plan) -> dict:
    out: dict[str, list] = {}
    for i, key in sorted(plan.group.items()):
        out.setdefault(key, []).append(plan.order[i])
    return out
