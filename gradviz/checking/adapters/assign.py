"""Which returned gradient belongs to which array: the user's names first, then position and shape.

Backward code returns gradients as a tuple (`return dx, dw, db`), a dict
(`{"dW1": ..., "da_prev": ...}`), `(grads, cost)` or `(cost, grads)`, or one
array. Names are matched through the one vocabulary (names.py); the rest by
position when the counts agree, else by shape. `Assignment.named` holds the
arrays matched by the user's own names: their sizes are the user's statement
(a wrong size is a FAIL), while a size mismatch of a positional match means
the reading is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..names import bare_name, flatten, target_of
from .reading import Problem

PREDICTION_NAMES = ("y_pred", "y_hat", "yhat", "pred", "preds", "predictions", "prediction", "output", "outputs",
                    "logits", "scores", "AL", "A", "a", "x", "X", "z", "Z", "probs", "p", "y_prob")


@dataclass
class Assignment:
    grads: dict[str, Any] = field(default_factory=dict)
    named: set[str] = field(default_factory=set)  # matched by the user's own names
    dropped: list[str] = field(default_factory=list)  # arrays the backward gives no gradient for, by its structure
    problem: str | None = None  # the reading cannot say which array a gradient belongs to
    keys: dict[str, str] = field(default_factory=dict)  # array -> the user's name for its gradient


def assign(returned: Any, leaves: list[str], top_level: set[str], shapes: dict[str, tuple],
           returned_names: list[str] | None, grad_map: dict[str, str] | None = None) -> Assignment:
    """Map what backward returned onto the arrays `leaves` (in the forward's order)."""
    if grad_map:
        return _by_map(returned, leaves, returned_names, grad_map)
    grads_dict = _the_dict(returned)
    if grads_dict is not None:
        return _by_dict(grads_dict, leaves, top_level)
    items = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    if len(items) == 1:
        return _single(items[0], leaves, shapes, (returned_names or [None])[0])
    out = Assignment()
    if returned_names and len(returned_names) == len(items):
        for rname, value in zip(returned_names, items):
            target = target_of(rname, leaves) if rname else None
            if target is not None and target not in out.grads:
                out.grads[target] = value
                out.named.add(target)
                out.keys[target] = rname
    rest = [v for r, v in zip(returned_names or [None] * len(items), items)
            if not (r and target_of(r, leaves) in out.grads)] if out.grads else items
    unmatched = [n for n in leaves if n not in out.grads]
    if len(rest) == len(unmatched):
        out.grads.update(zip(unmatched, rest))
    else:
        _by_shape(rest, unmatched, shapes, out)
    return _nones(out)


def _the_dict(returned: Any) -> dict | None:
    if isinstance(returned, dict):
        return returned
    if isinstance(returned, (tuple, list)):
        dicts = [r for r in returned if isinstance(r, dict)]
        if len(dicts) == 1 and all(isinstance(r, dict) or np.size(r) == 1 for r in returned):
            return dicts[0]  # (grads, cost) or (cost, grads)
    return None


def _by_dict(grads: dict, leaves: list[str], top_level: set[str]) -> Assignment:
    out = Assignment()
    for key, value in flatten(grads).items():
        target = target_of(key, leaves)
        if target is not None and target not in out.grads:
            out.grads[target] = value
            out.named.add(target)
            out.keys[target] = key
    in_dicts = [n for n in leaves if n not in top_level]
    if any(n in out.grads for n in in_dicts):  # a model over parameter dicts: its data arrays get no gradient
        out.dropped = [n for n in leaves if n in top_level and n not in out.grads]
    return _nones(out)


def _single(value: Any, leaves: list[str], shapes: dict[str, tuple], rname: str | None) -> Assignment:
    out = Assignment()
    target = target_of(rname, leaves) if rname else None
    if target is not None:
        out.named.add(target)
        out.keys[target] = rname
    else:
        size = int(np.size(value)) if value is not None else None
        fits = [n for n in leaves if size is None or int(np.prod(shapes[n], dtype=int)) == size]
        if len(fits) == 1:
            target = fits[0]
        elif len(leaves) == 1:
            target = leaves[0]
        else:
            guessed = [n for n in PREDICTION_NAMES if n in fits]
            if len(fits) > 1 and guessed:
                target = guessed[0]
            else:
                out.problem = (f"one gradient was returned and {len(fits) or len(leaves)} arrays could own it "
                               f"({', '.join(fits or leaves)})")
                return out
    out.grads[target] = value
    out.dropped = [n for n in leaves if n != target]
    return _nones(out)


def _by_shape(items: list, names: list[str], shapes: dict[str, tuple], out: Assignment) -> None:
    free = list(range(len(items)))
    for rule in (lambda g, n: np.shape(g) == shapes[n], lambda g, n: np.size(g) == np.prod(shapes[n], dtype=int)):
        for n in names:
            if n in out.grads:
                continue
            k = next((k for k in free if items[k] is not None and rule(items[k], n)), None)
            if k is not None:
                out.grads[n] = items[k]
                free.remove(k)


def _by_map(returned: Any, leaves: list[str], returned_names, grad_map: dict[str, str]) -> Assignment:
    """--grad NAME=KEY: the user said where each gradient is (a dict key, a returned name, or a position)."""
    out = Assignment()
    flat = flatten(returned) if isinstance(returned, dict) else None
    items = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    for name, key in grad_map.items():
        leaf = next((n for n in leaves if n == name or bare_name(n) == name), None)
        if leaf is None:
            out.problem = f"--grad {name}={key}: there is no array {name} (the arrays are {', '.join(leaves)})"
            return out
        if flat is not None and key in flat:
            out.grads[leaf] = flat[key]
        elif returned_names and key in returned_names:
            out.grads[leaf] = items[returned_names.index(key)]
        elif key.isdigit() and 1 <= int(key) <= len(items):
            out.grads[leaf] = items[int(key) - 1]
        else:
            out.problem = f"--grad {name}={key}: backward returned no {key}"
            return out
        out.named.add(leaf)
        out.keys[leaf] = key
    out.dropped = [n for n in leaves if n not in out.grads]
    return _nones(out)


def _nones(out: Assignment) -> Assignment:
    for name, value in list(out.grads.items()):
        if value is None:
            out.grads[name] = Problem("FAIL", f"the gradient of {name} is None (a missing return value?)")
    return out
