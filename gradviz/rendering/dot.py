"""Building the DOT picture of a recorded graph.

The scalar layout is the one every backprop course draws: value nodes as
records { label | data | grad } with an op node between an op's inputs and
its output. Tensors get an HTML table of their values (small) or statistics
(large). Node names come from the node's position in the graph, never from
id(), so the same program gives byte-identical DOT text.

The pieces live beside this module: styles (colours, fonts), names (DOT ids,
node names), collapse (folding big graphs), formulas (edge derivatives),
overlay (a Report's verdict on each node) and drawing (the Digraph subclass).
"""

from __future__ import annotations

import textwrap
from typing import Any, Sequence

import numpy as np

from ..errors import warn_at_user
from ..checking.status import ERROR
from ..graph import topological_order
from . import foreign
from . import labels as L
from .collapse import AUTO_COLLAPSE, Plan, groups, plan_collapse
from .drawing import Drawing
from .formulas import local_formula
from .names import group_id, hash_stable, node_name, op_id, op_text, value_id  # noqa: F401  (re-exported)
from .overlay import Overlay
from .styles import (CHANGED_COLOR, COLUMN_PT, FONT, FONT_SIZE, LEGEND_STATUSES, ROLE_COLORS, SMALL_FONT_SIZE,
                     STATUS_COLORS)

__all__ = ["Drawing", "ROLE_COLORS", "STATUS_COLORS", "draw", "hash_stable", "local_formula", "node_name", "op_text", "role"]


def role(node: Any, root: Any) -> str:
    """input, parameter (a leaf created inside a scope, as nn modules do), constant, intermediate, output."""
    if node is root:
        return "output"
    if node._op is not None:
        return "intermediate"
    if not node.requires_grad:
        return "constant"
    return "parameter" if node.scope else "input"


def draw(root: Any, *, rankdir: str = "auto", show: Sequence[str] = ("label", "data", "grad"), report: Any = None,
         collapse: int | bool | None = None, precision: int = 4, show_order: bool = False,
         show_formulas: bool = False, edge_weights: bool = False, legend: bool = True,
         max_nodes: int = AUTO_COLLAPSE, title: str | None = None, highlight: Any = None,
         changed: Sequence[Any] = (), warn_no_grad: bool = True) -> Drawing:
    """The graph behind `root` as a Graphviz drawing (see the module docstring).

    rankdir: "auto" (the default) lays the graph left to right or top to
    bottom, whichever is narrower, so it fits a docs column or a notebook cell;
    "LR", "TB", "RL", "BT" force one. collapse: an int k folds every scope
    deeper than k levels into one summary node; None folds automatically above
    `max_nodes` drawn nodes (and says so in the image); False never folds.
    report: a gv.check Report whose verdict is drawn on the nodes. show_order
    labels the op nodes with their step in backward ("step 1" is the first);
    show_formulas writes each edge's local derivative from the op's SymPy
    twin, in the names of the edge's own inputs; highlight outlines one op
    node and `changed` marks value nodes (the current step of an animation).
    """
    root = foreign.adapt_root(root, report)  # a student's own engine's node: drawn through its parents
    report = foreign.adapt_report(root, report)
    order = topological_order(root)
    plan = Plan(order, {id(n): i for i, n in enumerate(order)})
    plan_collapse(plan, collapse, max_nodes)
    # a report's verdict says what happened to the gradients (a backward that raised leaves them all zero)
    if warn_no_grad and report is None and len(order) > 1 and not any(np.any(np.asarray(n.grad) != 0) for n in order):
        warn_at_user("drawing a graph whose gradients are all zero: call backward() first to see them")
    overlay = Overlay(report, root, order)
    g = Drawing(name="gradviz", format="svg")
    rankdir = _choose_rankdir(plan, precision) if rankdir == "auto" else rankdir
    g.attr(rankdir=rankdir, fontname=FONT, nodesep="0.2", ranksep="0.3")
    g.attr("node", fontname=FONT, fontsize=str(FONT_SIZE))
    g.attr("edge", fontname=FONT, fontsize=str(SMALL_FONT_SIZE), arrowsize="0.7")
    heading = [title] if title else []
    heading += plan.notes + overlay.notes
    if heading:
        g.attr(label=f"<{L.html_text(chr(10).join(heading))}>", labelloc="t", fontsize="12")
    backward_rank = {id(n): k for k, n in enumerate(n for n in reversed(order) if n._op is not None)}
    grad_scale = _grad_scale(order) if edge_weights else None
    clusters = _ClusterTree()
    roles_used: set[str] = set()
    changed_ids = {id(n) for n in changed}
    vertical = rankdir in ("LR", "RL")  # record fields stack across the rank direction
    for i, node in enumerate(order):
        if i in plan.group:
            continue
        r = role(node, root)
        roles_used.add(r)
        name, attrs = _value_node(node, i, r, show, precision, overlay, vertical)
        if id(node) in changed_ids:
            attrs.update(penwidth="3", color=CHANGED_COLOR)
        clusters.add(node.scope, (name, attrs))
        if node._op is not None:
            name, attrs = _op_node(node, i, overlay, backward_rank.get(id(node)) if show_order else None)
            if node is highlight:
                attrs.update(penwidth="3", color="#1f5fbf", style="filled", fillcolor="#cfe0ff")
            clusters.add(node.scope, (name, attrs))
    for key, members in groups(plan).items():
        clusters.add(key.rsplit(".", 1)[0] if "." in key else "", _group_node(key, members))
    clusters.emit(g)
    _edges(g, plan, show_formulas, grad_scale, precision)
    if legend:
        _legend(g, roles_used, report, bottom=rankdir in ("TB", "BT"))
    return g


def _choose_rankdir(plan: Plan, precision: int) -> str:
    """LR, the way courses draw graphs, when it fits a page column; else the narrower of LR and TB.

    Each drawn unit (a value node, an op node, a folded scope) gets a rank, its
    longest path from a leaf; the width of a left-to-right layout grows with
    the number of ranks, the width of a top-to-bottom one with the widest rank.
    """
    rank: dict = {}  # unit -> rank; a unit is a node's position, or the key of the scope it is folded into
    width: dict = {}
    for i, node in enumerate(plan.order):
        unit = plan.group.get(i, i)
        inputs = {plan.group.get(plan.index[id(p)], plan.index[id(p)]) for p in node._parents} - {unit}
        base = max((rank[u] for u in inputs if u in rank), default=-1)
        if unit != i:  # a folded scope sits after everything that feeds it
            rank[unit] = max(rank.get(unit, 0), base + 1)
            width[unit] = 6.5 * max(len(unit.rsplit(".", 1)[-1]), 16) + 20.0
            continue
        rank[i] = base + (2 if node._op is not None else 1)  # the op node sits between inputs and value
        width[i] = _estimated_width(node, i, precision)
        if node._op is not None:
            rank[("op", i)], width[("op", i)] = base + 1, 24.0
    per_rank: dict[int, list[float]] = {}
    for unit, r in rank.items():
        per_rank.setdefault(r, []).append(width[unit])
    lr_width = sum(max(w) for w in per_rank.values()) + 22.0 * (len(per_rank) - 1)
    if lr_width <= COLUMN_PT:
        return "LR"
    tb_width = max(sum(w) + 14.0 * (len(w) - 1) for w in per_rank.values())
    return "TB" if tb_width < lr_width else "LR"


def _estimated_width(node: Any, i: int, precision: int) -> float:
    """Points a value node needs across: its longest line at ~6.5 pt a character, plus padding."""
    if np.ndim(node.data) or type(node).__name__ == "Tensor":
        data = L.displayed(node.data)
        if not L.is_small(data):
            return 330.0  # one line of statistics
        columns = data.shape[-1] if data.ndim else 1
        return 2 * (columns * 6.5 * (precision + 3) + 12.0)  # the data grid and the grad grid
    # Numbers are assumed at their widest ("grad -0.1234", "data 1.234e-05"), not measured: every frame
    # of an animation then gets the same layout, and a 10,000-node graph is estimated quickly.
    return 6.5 * max(len(node.label or "#0000"), precision + 10) + 16.0


# --- nodes ----------------------------------------------------------------------------


def _value_node(node, i, r, show, precision, overlay, vertical) -> tuple[str, dict]:
    status = overlay.status_of(node, i)
    fill = STATUS_COLORS[status] if status else ROLE_COLORS[r]
    attrs = {"style": "filled", "fillcolor": fill}
    data = np.asarray(node.data, dtype=np.float64)
    if data.ndim == 0 and type(node).__name__ != "Tensor":
        fields = []
        if "label" in show:
            fields.append(L.record_text(node_name(node, i, r == "output")))
        if "data" in show:
            fields.append(f"data {L.number(data, precision)}")
        if "grad" in show:
            fields.append(f"grad {L.number(node.grad, precision)}")
        fields += [L.record_text(line) for line in overlay.lines_of(node, i, precision)]
        # Fields stack vertically either way: a narrow node keeps the whole graph narrow.
        attrs.update(shape="record", label=" | ".join(fields) if vertical else "{ " + " | ".join(fields) + " }")
        return value_id(i), attrs
    attrs.update(shape="plaintext", label=_tensor_label(node, i, data, show, precision, overlay, fill, r == "output"))
    attrs.pop("style")
    return value_id(i), attrs


def _tensor_label(node, i, data, show, precision, overlay, fill, output: bool = False) -> str:
    head = L.html_text(node_name(node, i, output)) if "label" in show else ""
    shape = "x".join(map(str, data.shape)) or "scalar"
    rows = [f'<TR><TD COLSPAN="2" BGCOLOR="{fill}"><B>{head}</B> <FONT POINT-SIZE="{SMALL_FONT_SIZE}">{shape}</FONT></TD></TR>']
    grad = np.asarray(node.grad, dtype=np.float64)
    if L.is_small(data):
        cells = []
        if "data" in show:
            cells.append(f'<TD><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><I>data</I></TD></TR>'
                         f"{L.grid(data, precision)}</TABLE></TD>")
        if "grad" in show:
            cells.append(f'<TD><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><I>grad</I></TD></TR>'
                         f"{L.grid(grad, precision)}</TABLE></TD>")
        if cells:
            rows.append("<TR>" + "".join(cells) + ("<TD></TD>" if len(cells) == 1 else "") + "</TR>")
    else:
        if "data" in show:
            rows.append(f'<TR><TD COLSPAN="2">data: {L.summary(data, precision)}</TD></TR>')
        if "grad" in show:
            rows.append(f'<TR><TD COLSPAN="2">grad: {L.summary(grad, precision)}</TD></TR>')
    for line in overlay.lines_of(node, i, precision):
        rows.append(f'<TR><TD COLSPAN="2">{L.html_text(line)}</TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


def _op_node(node, i, overlay, rank) -> tuple[str, dict]:
    attrs = {"shape": "ellipse", "label": L.record_text(op_text(node)), "fontsize": str(SMALL_FONT_SIZE),
             "height": "0.3", "margin": "0.04,0.02"}
    status = overlay.node_status(i)
    if status:
        attrs.update(style="filled", fillcolor=STATUS_COLORS[status])
    marks = [f"step {rank + 1}"] if rank is not None else []
    if overlay.first_bad_index == i and status == ERROR:  # the rule did not run: say so, and what it raised
        attrs.update(penwidth="3", color="#c00000")
        marks.append("backward raised")
        attrs["tooltip"] = overlay.message_of(i)
    elif overlay.first_bad_index == i:
        attrs.update(penwidth="3", color="#c00000")
        marks.append("first wrong rule")
        why = overlay.diagnosis_of(i)
        if why:  # the named cause, on the node it is about (the full finding in the tooltip)
            marks.append("\n" + "\n".join(textwrap.wrap(why, 36)))
            attrs["tooltip"] = why + (f" ({why.evidence})" if getattr(why, "evidence", "") else "")
    if marks:
        attrs["xlabel"] = " ".join(marks)
    return op_id(i), attrs


def _group_node(key: str, members: list) -> tuple[str, dict]:
    ops = sum(1 for n in members if n._op is not None)
    # The scope's last name only: the enclosing cluster already says where it is. Short lines keep it narrow.
    text = f"{key.rsplit('.', 1)[-1]}\n{len(members)} nodes, {ops} ops\n(collapsed)"
    return group_id(key), {"shape": "box3d", "style": "filled", "fillcolor": "#f3f3f3",
                            "label": L.record_text(text)}


# --- edges ----------------------------------------------------------------------------


def _edges(g: Drawing, plan: Plan, show_formulas: bool, grad_scale, precision: int) -> None:
    seen = set()
    for i, node in enumerate(plan.order):
        if node._op is None:
            continue
        target_group = plan.group.get(i)
        target = group_id(target_group) if target_group else op_id(i)
        if not target_group:
            g.edge(op_id(i), value_id(i))
        counts: dict[int, int] = {}
        for parent in node._parents:
            j = plan.index[id(parent)]
            counts[j] = counts.get(j, 0) + 1
        for position, (j, count) in enumerate(counts.items()):
            source_group = plan.group.get(j)
            source = group_id(source_group) if source_group else value_id(j)
            if source_group and source_group == target_group:
                continue
            if (source, target) in seen:
                continue
            seen.add((source, target))
            attrs = {}
            if count > 1:
                attrs["label"] = f"x{count}"
            if show_formulas and not source_group and not target_group:
                formula = local_formula(node, position, plan.index, precision)
                if formula:
                    attrs["label"] = (attrs.get("label", "") + " " + L.record_text(formula)).strip()
            if grad_scale and not source_group:
                width = 1 + 4 * float(np.max(np.abs(plan.order[j].grad))) / grad_scale
                attrs["penwidth"] = f"{width:.2f}"
            g.edge(source, target, **attrs)


def _grad_scale(order) -> float:
    return max((float(np.max(np.abs(n.grad))) for n in order if np.size(n.grad)), default=0.0) or 1.0


# --- clusters and legend --------------------------------------------------------------


class _ClusterTree:
    """Nodes grouped by scope path, emitted as nested cluster subgraphs."""

    def __init__(self):
        self.nodes: list = []
        self.children: dict[str, _ClusterTree] = {}

    def add(self, scope: str, node: tuple[str, dict]) -> None:
        tree = self
        for part in scope.split(".") if scope else []:
            tree = tree.children.setdefault(part, _ClusterTree())
        tree.nodes.append(node)

    def emit(self, g, path: str = "") -> None:
        for name, attrs in self.nodes:
            g.node(name, **attrs)
        for part, child in self.children.items():
            full = f"{path}.{part}" if path else part
            with g.subgraph(name="cluster_" + "".join(ch if ch.isalnum() else "_" for ch in full)) as sub:
                sub.attr(label=L.record_text(part), style="rounded,dashed", color="#888888", fontsize="11")
                child.emit(sub, full)


def _legend(g: Drawing, roles_used: set, report: Any, bottom: bool) -> None:
    """What the fills mean: node roles, or with a report, what each status colour is a verdict on.

    Top to bottom, the legend sits on the last rank, beside the output, where a graph is narrowest.
    """
    if report is not None:
        statuses = LEGEND_STATUSES + ((ERROR,) if report.status == ERROR else ())
        cells = "".join(f'<TD BGCOLOR="{STATUS_COLORS[s]}">{s.lower()}</TD>' for s in statuses)
        rows = (f'<TR><TD COLSPAN="{len(statuses)}">box: is its gradient right? '
                f"oval: is its backward rule right?</TD></TR><TR>{cells}</TR>")
    else:
        items = [(r, ROLE_COLORS[r]) for r in ROLE_COLORS if r in roles_used]
        if len(items) < 2:
            return
        rows = "<TR>" + "".join(f'<TD BGCOLOR="{color}">{name}</TD>' for name, color in items) + "</TR>"
    attrs = {"shape": "plaintext", "fontsize": str(SMALL_FONT_SIZE),
             "label": f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="3">{rows}</TABLE>>'}
    if not bottom:
        g.node("legend", **attrs)
        return
    with g.subgraph(name="legend_rank") as last:
        last.attr(rank="sink")
        last.node("legend", **attrs)
