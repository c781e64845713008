"""Where a layer's arrays live: on itself, in its lists and dicts, and in the sub-layers it is made of.

A container layer (`self.layers = [Linear(4, 5), Tanh(), Linear(5, 3)]`, `self.fc1 = Dense(...)`) keeps its
parameters in its sub-layers, and each sub-layer keeps its own gradients (`self.layers[0].dW`). Their arrays
are named by the path the user would write, `layers[0].W`, `fc1.W`, and a gradient is looked for on the
object that owns the parameter. A sub-layer is an object with a forward or a backward method of the names
layer_methods.py knows; other objects (optimizers, settings) are not looked into.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..names import spellings
from .layer_methods import BACKWARD_NAMES, FORWARD_NAMES
from .reading import is_float_array

DEPTH = 3  # a model of blocks of layers; deeper nesting is not looked into


def float_attributes(obj: Any) -> dict[str, np.ndarray]:
    """Every float array on obj, in its lists and dicts one level down, and in its sub-layers, by the user's path."""
    return _arrays(obj, "", DEPTH)


def _arrays(obj: Any, prefix: str, depth: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, value in getattr(obj, "__dict__", {}).items():
        path = prefix + key
        if is_float_array(value):
            out[path] = value
        elif isinstance(value, dict):
            out.update({f"{path}[{k!r}]": v for k, v in value.items() if is_float_array(v)})
            out.update(_inside(((f"{path}[{k!r}]", v) for k, v in value.items()), depth))
        elif isinstance(value, (list, tuple)):
            out.update({f"{path}[{i}]": v for i, v in enumerate(value) if is_float_array(v)})
            out.update(_inside(((f"{path}[{i}]", v) for i, v in enumerate(value)), depth))
        elif is_sublayer(value) and depth > 0:
            out.update(_arrays(value, path + ".", depth - 1))
    return out


def _inside(items, depth: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for path, value in items:
        if is_sublayer(value) and depth > 0:
            out.update(_arrays(value, path + ".", depth - 1))
    return out


def is_sublayer(value: Any) -> bool:
    """An object with a layer's methods (forward/backward, fprop/bprop, ...), not a class, function or module."""
    if isinstance(value, (type, np.ndarray)) or type(value).__module__ in ("builtins", "numpy") \
            or not hasattr(value, "__dict__"):
        return False
    names = [n for n in FORWARD_NAMES + BACKWARD_NAMES if n not in ("__call__", "call")]
    return any(callable(getattr(value, n, None)) for n in names)


def split_member(name: str) -> tuple[str, str]:
    """layers[0].W -> ("layers[0].", "W"); W -> ("", "W"): the owner's path and the attribute."""
    head, dot, attr = name.rpartition(".")
    if not dot or "[" in attr or "]" in attr:
        return "", name
    return head + ".", attr


def owner_of(obj: Any, name: str) -> tuple[Any, str] | None:
    """The object that holds array `name` and its attribute there (layers[0].W -> (obj.layers[0], "W"))."""
    path, attr = split_member(name)
    owner = obj
    for part in _parts(path[:-1]) if path else []:
        try:
            owner = owner[part] if isinstance(part, int) else owner[part[0]] if isinstance(part, tuple) \
                else getattr(owner, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return owner, attr


def _parts(path: str) -> list:
    """layers[0].fc1 -> ["layers", 0, "fc1"]; blocks['a'] -> ["blocks", ("a",)] (a dict key, in a tuple)."""
    parts: list = []
    for piece in path.split("."):
        head, *subs = piece.split("[")
        if head:
            parts.append(head)
        for sub in subs:
            key = sub.rstrip("]")
            if key.isdigit():
                parts.append(int(key))
            else:
                parts.append((key.strip("'\""),))
    return parts


def member_spellings(name: str) -> list[str]:
    """Where the gradient of `name` may be kept, with its owner's path: layers[0].W -> layers[0].dW, ..."""
    path, attr = split_member(name)
    return [path + s for s in spellings(attr)] if path else spellings(name)
