"""The recorded graph: node ids, scopes, topological order, backward, networkx export.

A node is any object with ``id``, ``_op``, ``_parents``, ``_attrs``, ``data``,
``label`` and ``scope`` (``Value`` and ``Tensor``). Nodes point at their
parents and never at their children or at closures over themselves, so a
dropped graph is freed by reference counting alone, without waiting for the
cycle collector. Nothing here recurses: graphs of millions of nodes are fine.
"""

from __future__ import annotations

import gc
import itertools
import json
import weakref
from contextlib import contextmanager
from operator import attrgetter
from typing import Any, Iterator

import numpy as np

# Ids come from recording order, so the same program records the same graph
# (and draws the same picture). A parent is always recorded before its child,
# which makes "sort by id" a topological order.
_ids = itertools.count()
next_id = _ids.__next__

_scope_stack: list[str] = [""]

# Op results the user gave a name (`n = x * w + b; n.label = "n"`), held weakly. gv.check records the
# function again from fresh inputs; it looks here so that its drawing and report keep the user's names.
_labelled: dict[int, Any] = {}


def remember_label(node: Any) -> None:
    """Called when an op result is labelled: keep a weak reference for gv.check to find it."""
    key = id(node)
    _labelled[key] = weakref.ref(node, lambda _, key=key: _labelled.pop(key, None))


def _get_label(node: Any) -> str | None:
    return node._label


def _set_label(node: Any, name: str | None) -> None:
    node._label = name
    if name and node._op is not None:
        remember_label(node)


# Value.label and Tensor.label: a name set on an op result is remembered, so gv.check keeps the user's names.
LABEL = property(_get_label, _set_label, doc="What a person calls this node (`w1`, `layer2.W`); drawings and "
                                              "reports use it.")


def labelled_results() -> list:
    """The op results with a user label that are still alive."""
    return [n for n in (ref() for ref in list(_labelled.values())) if n is not None and n._label]


def current_scope() -> str:
    return _scope_stack[-1]


@contextmanager
def scope(name: str) -> Iterator[str]:
    """Nodes created inside carry this scope path; nested scopes join with '.'.

    >>> with scope("layer1"):
    ...     with scope("neuron0"):
    ...         current_scope()
    'layer1.neuron0'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"scope names are non-empty strings, got {name!r}")
    parent = _scope_stack[-1]
    path = f"{parent}.{name}" if parent else name
    _scope_stack.append(path)
    try:
        yield path
    finally:
        _scope_stack.pop()


def topological_order(root: Any) -> list:
    """Every node that `root` depends on, parents before children (root last).

    Iterative: a visited set and an explicit stack, then a sort by recording id.
    """
    seen = {root}
    nodes = [root]
    stack = [root]
    pop, push, add, append = stack.pop, stack.append, seen.add, nodes.append
    while stack:
        for parent in pop()._parents:
            if parent not in seen:
                add(parent)
                append(parent)
                push(parent)
    nodes.sort(key=_by_id)
    return nodes


_by_id = attrgetter("id")


class _CollectorPaused:
    """Pause Python's cycle collector: backward allocates many objects but never a cycle.

    A plain class rather than @contextmanager: entering a generator-based
    context costs microseconds, which shows on tiny graphs.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()


def collector_paused() -> _CollectorPaused:
    return _CollectorPaused()


def leaves(root: Any) -> list:
    """The nodes with no op (inputs, parameters, constants), in recording order."""
    return [n for n in topological_order(root) if n._op is None]


def to_networkx(root: Any):
    """The graph behind `root` as a ``networkx.DiGraph`` that GraphML and JSON can hold as it is.

    Nodes are keyed by recording id. Every attribute is a plain str, int or
    float, so ``nx.write_graphml`` and ``json.dumps(nx.node_link_data(g))``
    take the graph unchanged: ``op`` ("" for a leaf), ``label`` ("" when
    unnamed), ``scope``, ``shape`` ("" for one number, "2x3" for an array) and
    ``size``; a one-number node carries ``data`` and ``grad`` as floats, an
    array node ``array_data`` and ``array_grad`` as JSON lists (``json.loads``
    gives the nested lists back).
    An edge runs from parent to child; ``position`` is the argument slot the
    parent fills (``a - b``: a is 0, b is 1), ``positions`` lists every slot
    ("0,1" for ``a + a``) and ``count`` how many there are.
    """
    import networkx as nx

    graph = nx.DiGraph()
    for node in topological_order(root):
        op = node._op
        attrs = {"op": "" if op is None else op.name, "label": node.label or "", "scope": node.scope,
                 "shape": "x".join(map(str, np.shape(node.data))), "size": int(np.size(node.data))}
        attrs.update(_values("data", node.data))
        attrs.update(_values("grad", node.grad))
        graph.add_node(node.id, **attrs)
        for slot, parent in enumerate(node._parents):
            if graph.has_edge(parent.id, node.id):
                edge = graph.edges[parent.id, node.id]
                edge["count"] += 1
                edge["positions"] += f",{slot}"
            else:
                graph.add_edge(parent.id, node.id, position=slot, positions=str(slot), count=1)
    return graph


def _values(key: str, x: Any) -> dict:
    """One number as a float under `key`; an array as JSON text under `array_<key>`."""
    if np.ndim(x) == 0:
        return {key: float(x)}
    return {f"array_{key}": json.dumps(np.asarray(x, dtype=np.float64).tolist())}
