"""Drawing a student's own autograd objects: their graph walked into gradviz's drawable form.

A node of a micrograd-style class (whatever it calls its number, gradient
and parents: gradviz.checking.engines finds out) becomes a plain stand-in
with the fields the drawing reads. The walk is iterative, so a deep chain
draws. With a check_engine Report, each op node carries the verdict of the
student's method that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..checking.engines import discover, walk
from ..checking.report import FAIL, ERROR, NodeCheck, Report, worst_status
from ..errors import GradvizError


@dataclass(eq=False)
class ForeignOp:
    name: str
    display: str


@dataclass(eq=False)
class ForeignNode:
    """A student's node as the drawing sees it (`original` is the student's object)."""

    id: int
    _op: Any
    _parents: list
    data: float
    grad: float
    label: str | None
    original: Any = None
    engine: Any = None
    scope: str = ""
    requires_grad: bool = True
    _attrs: dict = field(default_factory=dict)
    foreign: bool = True


def is_native(root: Any) -> bool:
    return hasattr(root, "_parents") and hasattr(root, "_op") and hasattr(root, "id")


def adapt_root(root: Any, report: Any = None) -> Any:
    """gradviz's own nodes pass through; a student's node becomes a ForeignNode graph.

    A check_engine report says where the parents were read (`--parents node.fn.inputs`): drawn the same way.
    """
    if is_native(root):
        return root
    reading = (getattr(report, "settings", None) or {}).get("engine") or {}
    try:
        engine = discover(type(root), reading.get("parents") if reading.get("class") == type(root).__name__ else None)
    except GradvizError as exc:
        raise GradvizError(f"cannot draw a {type(root).__name__}: it is neither a gradviz Value/Tensor nor a node "
                           f"of an autograd engine gradviz can read ({exc})") from None
    return _stand_ins(engine, root)


def _stand_ins(engine, root: Any) -> ForeignNode:
    nodes = walk(engine, root)  # root first; reversed, every node comes after the nodes that use it
    order = _parents_first(engine, nodes)
    proxies: dict[int, ForeignNode] = {}
    for i, node in enumerate(order):
        parents = engine.parents_of(node)
        op = None
        if parents:
            label = str(getattr(node, engine.op_attr, "") or "") if engine.op_attr else ""
            op = ForeignOp(label or "op", label or "op")
        label = getattr(node, "label", None) or getattr(node, "name", None)
        proxies[id(node)] = ForeignNode(i, op, [proxies[id(p)] for p in parents], engine.value(node),
                                        engine.gradient(node), label if isinstance(label, str) and label else None,
                                        original=node, engine=engine)
    return proxies[id(root)]


def _parents_first(engine, nodes: list) -> list:
    """A topological order, parents before children, without recursion."""
    done, order = set(), []
    for start in reversed(nodes):
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            stack.extend((p, False) for p in engine.parents_of(node) if id(p) not in done)
    return order


def adapt_report(root: ForeignNode, report: Report | None) -> Report | None:
    """The report with one NodeCheck per op node: the verdict of the student's method that made it."""
    if report is None or not getattr(root, "foreign", False):
        return report
    labels = report.settings.get("op_labels", {})
    by_method: dict[str, list[str]] = {}
    findings: dict[str, list] = {}
    for r in report.results:
        method = r.name.split(" (")[0]
        by_method.setdefault(method, []).append(r.status)
        if r.status in (FAIL, ERROR) and r.diagnosis:
            findings.setdefault(method, list(r.diagnosis))
    order = sorted(_all(root), key=lambda n: n.id)
    checks = []
    for position, node in enumerate(n for n in reversed(order) if n._op is not None):
        method = labels.get(node._op.name)
        if method is None:
            continue
        status = worst_status([s for s in by_method.get(method, []) if s != "SKIPPED"]) or "PASS"
        checks.append(NodeCheck(node.id, position, node._op.name, node.label, "", status, "check_engine",
                                message=f"{method}: {status}", diagnosis=findings.get(method, [])))
    return Report(subject=report.subject, results=report.results, settings=report.settings, nodes=checks,
                  verdict=report.verdict, warnings=report.warnings, notes=report.notes, root=root,
                  columns=report.columns)


def _all(root: ForeignNode) -> list:
    seen, stack, out = {id(root)}, [root], [root]
    while stack:
        for p in stack.pop()._parents:
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
                stack.append(p)
    return out


def _apply_rule(engine, node: ForeignNode) -> None:
    """Run one node's rule: a closure that adds to its parents' grads (micrograd), or one that takes the
    upstream gradient and returns one gradient per parent, which backward() would add."""
    rule = getattr(node.original, engine.node_backward)
    parents = [p.original for p in node._parents]
    before = [engine.gradient(p) for p in parents]
    try:
        returned = rule()
    except TypeError:
        returned = rule(engine.gradient(node.original))
    unchanged = [engine.gradient(p) for p in parents] == before
    if unchanged and isinstance(returned, (tuple, list)) and len(returned) == len(parents):
        for parent, g in zip(parents, returned):
            setattr(parent, engine.grad, engine.gradient(parent) + float(g))


def backward_steps(root: ForeignNode):
    """The student's own backward, one op node at a time: each node's rule (its _backward) called in turn."""
    engine = root.engine
    if not engine.node_backward:
        raise GradvizError(f"stepping through backward() needs a per-node rule on each {engine.name} (micrograd's "
                           "_backward); this engine runs its rules inside backward() only")
    order = sorted(_all(root), key=lambda n: n.id)
    saved = [getattr(n.original, engine.grad) for n in order]
    try:
        for n in order:
            setattr(n.original, engine.grad, 0.0)
        setattr(root.original, engine.grad, 1.0)
        snapshots = [(None, {id(n): engine.gradient(n.original) for n in order})]
        for node in reversed(order):
            if node._op is None:
                continue
            _apply_rule(engine, node)
            snapshots.append((node, {id(n): engine.gradient(n.original) for n in order}))
    finally:
        for n, g in zip(order, saved):
            setattr(n.original, engine.grad, g)
    return snapshots
