"""The user's names for intermediate results, carried into the graph gv.check records.

gv.check calls the function again on fresh inputs, so the nodes it draws and
reports are new ones: `n` labelled in the user's own graph would show as `#8`.
A node of the new graph takes the label of a labelled result in the user's graph
computed the same way: the same op, with the same attributes, from the same
inputs (matched by position), parameters (the same objects) and constants (the
same values), through the same chain of ops. Matching is by structure, computed
once per node, so it costs one pass over each graph.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import labelled_results, topological_order


class _Shapes:
    """Interns each node's structural key as a small int, so a deep graph's keys stay cheap to compare."""

    def __init__(self) -> None:
        self.ids: dict[tuple, int] = {}

    def of(self, key: tuple) -> int:
        return self.ids.setdefault(key, len(self.ids))


def _leaf_key(node: Any, inputs: dict[int, int]) -> tuple:
    if id(node) in inputs:
        return ("input", inputs[id(node)])
    if node.requires_grad:  # a parameter used from outside: the very same object in both graphs
        return ("object", id(node))
    data = np.asarray(node.data)
    return ("constant", data.shape, data.tobytes() if data.size <= 64 else id(node))


def _attrs_key(node: Any) -> tuple:
    attrs = node._attrs or {}
    return tuple((k, repr(v)[:200]) for k, v in sorted(attrs.items()))


def _keys(order: list, inputs: dict[int, int], shapes: _Shapes, known: dict[int, int]) -> dict[int, int]:
    for node in order:
        if id(node) in known:
            continue
        if node._op is None:
            known[id(node)] = shapes.of(_leaf_key(node, inputs))
        else:
            parents = tuple(known[id(p)] for p in node._parents)
            known[id(node)] = shapes.of((node._op.name, _attrs_key(node), parents))
    return known


def _walk(roots: list) -> list:
    """Every node the roots depend on, parents before children (one iterative walk for all of them)."""
    seen = {id(r): r for r in roots}
    stack = list(roots)
    while stack:
        for parent in stack.pop()._parents:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=lambda n: n.id)


def carry_labels(root: Any, new_inputs: Sequence[Any], user_inputs: Sequence[Any]) -> None:
    """Label the unlabelled nodes under `root` like the user's labelled results computed the same way."""
    named = labelled_results()
    if not named:
        return
    originals = {id(node): k for k, node in enumerate(user_inputs) if node is not None}
    order = _walk(named)  # the user's labelled results and all they depend on, each node once
    reaches: dict[int, bool] = {}
    for node in order:  # computed from the checked inputs (others are some other graph's names)
        reaches[id(node)] = id(node) in originals or any(reaches[id(p)] for p in node._parents)
    shapes = _Shapes()
    user_keys = _keys(order, originals, shapes, {})
    label_of: dict[int, str] = {}
    for node in sorted(named, key=lambda n: n.id):
        if reaches[id(node)]:
            label_of.setdefault(user_keys[id(node)], node.label)
    if not label_of:
        return
    fresh = {id(node): k for k, node in enumerate(new_inputs)}
    new_order = topological_order(root)
    new_keys = _keys(new_order, fresh, shapes, {})
    for node in new_order:
        if node._op is not None and not node.label and new_keys[id(node)] in label_of:
            node._label = label_of[new_keys[id(node)]]  # not remembered: gradviz's own graph, not a user's name
