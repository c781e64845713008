"""How code that keeps its own optimizer state holds a network's parameters: one array, a dict keyed `W1`, `b1`
(with gradients and state keyed `dW1` as a major course writes them, or alike), a flat list, or a list of layers;
lists of gradients possibly in reversed layer order, as a backward pass produces them.

A Layout packs gradviz's named arrays into the user's containers and reads them back; a container that does
not fit (a missing key, another length, another shape) is a `Misfit`, which tells readings apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# two layers of a (features, examples) network, each shape different so that a reversed order cannot pass unseen
LAYER_SHAPES = {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}
LAYERS = (("W1", "b1"), ("W2", "b2"))
ARRAY_SHAPE = (2, 3)


class Misfit(Exception):
    """A container that is not what this layout packs."""


@dataclass(frozen=True)
class Layout:
    kind: str  # "array", "dict", "list" (flat, W1, b1, W2, b2) or "layers" (a list of [W, b] per layer)
    grad_keys: str = "same"  # dicts: gradients keyed "d" (dW1) or the "same" as the parameters (W1)
    state_keys: str = "same"  # dicts: state keyed like that
    grad_order: str = "forward"  # lists: gradients in "forward" or "reversed" layer order

    def names(self, param_arg: str) -> list[str]:
        """The parameters' names in the report, in layer order, as the user's code indexes them."""
        if self.kind == "array":
            return [param_arg]
        if self.kind == "dict":
            return [k for layer in LAYERS for k in layer]
        if self.kind == "list":
            return [f"{param_arg}[{i}]" for i in range(len(LAYERS) * 2)]
        return [f"{param_arg}[{i}][{j}]" for i in range(len(LAYERS)) for j in range(2)]

    def shapes(self, param_arg: str) -> dict[str, tuple]:
        if self.kind == "array":
            return {param_arg: ARRAY_SHAPE}
        return dict(zip(self.names(param_arg), LAYER_SHAPES.values()))

    def _keys(self, role: str) -> list[str]:
        how = {"param": "same", "grad": self.grad_keys, "state": self.state_keys}[role]
        return [("d" + k if how == "d" else k) for layer in LAYERS for k in layer]

    def _reversed(self, role: str) -> bool:
        return role == "grad" and self.grad_order == "reversed"

    def pack(self, values: list[np.ndarray], role: str) -> Any:
        """The user's container of `values` (given in layer order) for an argument of `role`."""
        values = [np.array(v, dtype=np.float64) for v in values]
        if self.kind == "array":
            return values[0]
        if self.kind == "dict":
            return dict(zip(self._keys(role), values))
        layers = [values[i:i + 2] for i in range(0, len(values), 2)]
        if self._reversed(role):
            layers = layers[::-1]
        return [v for layer in layers for v in layer] if self.kind == "list" else [list(la) for la in layers]

    def unpack(self, container: Any, role: str, shapes: list[tuple]) -> list[np.ndarray]:
        """The arrays of a container of this layout, in layer order; a Misfit when it is not one."""
        if self.kind == "array":
            items = [container]
        elif self.kind == "dict":
            if not isinstance(container, dict) or sorted(map(str, container)) != sorted(self._keys(role)):
                raise Misfit(f"expected a dict keyed {', '.join(self._keys(role))}, got {_what(container)}")
            items = [container[k] for k in self._keys(role)]
        else:
            if not isinstance(container, (list, tuple)):
                raise Misfit(f"expected a list, got {_what(container)}")
            layers = [list(container[i:i + 2]) for i in range(0, len(container), 2)] if self.kind == "list" \
                else [list(la) if isinstance(la, (list, tuple)) else [la] for la in container]
            if self._reversed(role):
                layers = layers[::-1]
            items = [v for layer in layers for v in layer]
        if len(items) != len(shapes):
            raise Misfit(f"expected {len(shapes)} arrays, got {len(items)}")
        out = []
        for item, shape in zip(items, shapes):
            try:
                array = np.array(getattr(item, "data", item), dtype=np.float64)
            except (TypeError, ValueError):
                raise Misfit(f"expected arrays, got {type(item).__name__}") from None
            if array.shape != tuple(shape):
                raise Misfit(f"an array of shape {array.shape} where {tuple(shape)} belongs")
            out.append(array)
        return out

    def describe(self, role: str) -> str:
        if self.kind == "array":
            return "an array"
        if self.kind == "dict":
            keys = self._keys(role)
            return f"a dict keyed {keys[0]}, {keys[1]}, ..."
        order = " in reversed layer order" if self._reversed(role) else ""
        return ("a list [W1, b1, W2, b2]" if self.kind == "list" else "a list of layers [[W1, b1], [W2, b2]]") + order


def _what(value: Any) -> str:
    if isinstance(value, dict):
        return "a dict keyed " + ", ".join(map(str, list(value)[:4]))
    return type(value).__name__


LAYOUTS = (
    Layout("dict", "d", "d"), Layout("dict", "same", "same"), Layout("dict", "d", "same"), Layout("dict", "same", "d"),
    Layout("list"), Layout("list", grad_order="reversed"), Layout("layers"), Layout("layers", grad_order="reversed"),
    Layout("array"),
)


# -- state as the user's own builder makes it: any nesting of dicts, lists and arrays, with counters inside ------
def leaves(structure: Any) -> list[np.ndarray]:
    """The arrays of a nested state ({'t': 0, 'm': {'W1': ...}, 'v': {...}}), in a fixed order; numbers (a step
    counter kept in the state) are not among them."""
    if isinstance(structure, np.ndarray):
        return [structure]
    if isinstance(structure, dict):
        return [a for k in structure for a in leaves(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [a for item in structure for a in leaves(item)]
    return []


def refill(structure: Any, value: Any) -> Any:
    """A copy of a nested state with every array replaced by value(array); numbers and the nesting are kept."""
    if isinstance(structure, np.ndarray):
        return np.array(value(structure), dtype=np.float64)
    if isinstance(structure, dict):
        return {k: refill(v, value) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(refill(v, value) for v in structure)
    return structure


def same_structure(given: Any, back: Any, where: str = "state") -> None:
    """A Misfit unless a state handed back has the nesting, keys and array shapes of the one handed in."""
    if isinstance(given, np.ndarray):
        try:
            shape = np.shape(np.array(getattr(back, "data", back), dtype=np.float64))
        except (TypeError, ValueError):
            raise Misfit(f"{where}: expected an array, got {type(back).__name__}") from None
        if shape != given.shape:
            raise Misfit(f"{where}: an array of shape {shape} where {given.shape} belongs")
    elif isinstance(given, dict):
        if not isinstance(back, dict) or sorted(map(str, back)) != sorted(map(str, given)):
            raise Misfit(f"{where}: expected a dict keyed {', '.join(map(str, list(given)[:4]))}, got {_what(back)}")
        for k in given:
            same_structure(given[k], back[k], f"{where}[{k!r}]")
    elif isinstance(given, (list, tuple)):
        if not isinstance(back, (list, tuple)) or len(back) != len(given):
            raise Misfit(f"{where}: expected a list of {len(given)}, got {_what(back)}")
        for k, (a, b) in enumerate(zip(given, back)):
            same_structure(a, b, f"{where}[{k}]")
