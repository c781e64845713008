"""Module: parameters named by path, state dicts, and a scope around everything a module records.

Naming follows PyTorch: a parameter's name is its path through the modules
that hold it (`0.W` in a Sequential, `layer1.b` in a module with an attribute
`layer1`). When a module takes a child (an attribute assignment, as in torch),
the child is *placed*: every parameter below it gets its final scope (the
scope the child will record its forward pass in, so a drawing puts each
layer's parameters in that layer's cluster) and its path as its label (so
reports and drawings say `2.W`, never `W#1`). Placement runs again when the
parent is itself placed, so the outermost module's paths win.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..errors import GradvizError, ShapeError
from ..graph import _scope_stack, current_scope, scope
from ..tensor import Tensor
from ..value import Value


def make_rng(seed: int | None = None, rng: np.random.Generator | None = None) -> np.random.Generator:
    """The generator a module draws its initial weights from (seedable, never global state)."""
    if rng is not None:
        return rng
    return np.random.default_rng(seed)


# How many times a module was renamed: a parent that caches its children's scope
# paths (Layer) compares this number instead of asking every child on every call.
_renames = [0]


class Module:
    """Base class: subclasses define forward(); calling the module records inside its scope.

    parameters() lists every Value or Tensor leaf attribute that requires a
    gradient, in attribute order, descending into lists and child modules;
    named_parameters() pairs each with its path.
    """

    name: str = "module"

    def forward(self, *args: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, *args: Any) -> Any:
        """forward(*args), with everything it records in this module's scope (as ``with gv.scope(name)``).

        No context manager per call: a scalar network calls a module per neuron,
        and entering a generator-based context cost a fifth of a neuron's forward
        pass. The scope path is pushed and popped directly, and cached per
        enclosing scope (the cache is dropped when the module is renamed).
        """
        stack = _scope_stack
        outer = stack[-1]
        try:
            path = self._call_scopes[outer]
        except (AttributeError, KeyError):
            path = self._remember_scope(outer)
        stack.append(path)
        try:
            return self.forward(*args)
        finally:
            del stack[-1]

    def _remember_scope(self, outer: str) -> str:
        """The scope path of a call inside scope `outer`, remembered for the next call."""
        with scope(self.name) as path:  # the one place scope names are validated and joined
            pass
        self.__dict__.setdefault("_call_scopes", {})[outer] = path
        return path

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr == "name":
            self.__dict__.pop("_call_scopes", None)
            _renames[0] += 1  # scope paths cached by a parent (Layer) are stale now
        if isinstance(value, Module) and not attr.startswith("_") and value.name == type(value).name:
            value.name = attr  # an unnamed child is named after its attribute, as torch does
        object.__setattr__(self, attr, value)
        if not attr.startswith("_") and _holds_parts(value):
            self._place(*self._placement())

    # -- names -------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value | Tensor]]:
        """(path, parameter) pairs: `W`, `0.W`, `layer1.neuron0.w2`, in attribute order."""
        for key, item in self._parts():
            if isinstance(item, Module):
                yield from item.named_parameters(f"{prefix}{key}.")
            else:
                yield prefix + key, item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((key, item) for key, item in self._parts() if isinstance(item, Module))

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    # -- state -------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter's value by path (copies: later training does not change them)."""
        return {name: np.array(p.data, dtype=np.float64) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Set parameters from `state` (as made by state_dict()); with strict, the names must match exactly."""
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state]
        unexpected = [n for n in state if n not in params]
        if strict and (missing or unexpected):
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                    ([f"unexpected {', '.join(unexpected)}"] if unexpected else [])
            raise GradvizError(f"load_state_dict: the state does not match {type(self).__name__}'s parameters "
                               f"({'; '.join(parts)}); its names are {', '.join(params)}; pass strict=False "
                               "to load only the names both have")
        for name, p in params.items():
            if name not in state:
                continue
            value = np.asarray(state[name], dtype=np.float64)
            if value.shape != np.shape(p.data):
                raise ShapeError(f"load_state_dict: {name} has shape {np.shape(p.data)} but the state gives "
                                 f"{value.shape}")
            p.data = float(value) if isinstance(p, Value) else value.copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.parameters())} parameters)"

    # -- placement ---------------------------------------------------------------
    def _placement(self) -> tuple[str, str]:
        """Where this module records and the prefix of its parameters' paths, until a parent places it."""
        if "_scope_path" not in self.__dict__:
            outer = current_scope()
            object.__setattr__(self, "_scope_path", f"{outer}.{self.name}" if outer else self.name)
            object.__setattr__(self, "_prefix", "")
        return self._scope_path, self._prefix

    def _place(self, scope_path: str, prefix: str) -> None:
        object.__setattr__(self, "_scope_path", scope_path)
        object.__setattr__(self, "_prefix", prefix)
        for key, item in self._parts():
            if isinstance(item, Module):
                item._place(f"{scope_path}.{item.name}", f"{prefix}{key}.")
            else:
                item.scope, item.label = scope_path, prefix + key

    def _parts(self) -> Iterator[tuple[str, Any]]:
        """(key, child module or parameter) for this module's own attributes, in attribute order."""
        keys = self.__dict__.setdefault("_item_keys", {})  # a listed parameter's key, fixed when first seen
        for attr, value in list(vars(self).items()):
            if not attr.startswith("_"):
                yield from _keyed(attr, value, keys)


def _is_param(x: Any) -> bool:
    return isinstance(x, (Value, Tensor)) and x._op is None and x.requires_grad


def _holds_parts(value: Any) -> bool:
    if isinstance(value, Module) or _is_param(value):
        return True
    return isinstance(value, (list, tuple)) and any(_holds_parts(v) for v in value)


def _keyed(attr: str, value: Any, keys: dict) -> Iterator[tuple[str, Any]]:
    """Keys for an attribute's modules and parameters.

    A direct attribute is keyed by its name. An item of a list is keyed by its
    own name (a module's name, a parameter's first label such as `w0`) when that
    is unique in the list, else torch-style by position (`w.0`).
    """
    if isinstance(value, Module) or _is_param(value):
        yield attr, value
        return
    if not isinstance(value, (list, tuple)):
        return
    items = [(i, v) for i, v in enumerate(value) if isinstance(v, Module) or _is_param(v) or
             isinstance(v, (list, tuple))]
    names = [_own_name(v, keys) for _, v in items]
    for (i, v), name in zip(items, names):
        key = name if name and names.count(name) == 1 else f"{attr}.{i}"
        if isinstance(v, (list, tuple)):
            yield from _keyed(key, v, keys)
        else:
            yield key, v


def _own_name(item: Any, keys: dict) -> str | None:
    if isinstance(item, Module):
        return item.name
    if isinstance(item, (list, tuple)):
        return None
    if id(item) not in keys:
        label = item.label or ""
        keys[id(item)] = label if label.isidentifier() else None
    return keys[id(item)]


class Sequential(Module):
    """Modules applied in order; child i records in scope `sequential.i` and its parameters are named `i.W`."""

    name = "sequential"

    def __init__(self, *modules: Module, name: str | None = None):
        self.name = name or self.name
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes modules, got {type(m).__name__} at position {i}")
            if m.name == type(m).name:  # not named by the user: named by position, as torch does
                m.name = str(i)
        self.modules = list(modules)

    def forward(self, x: Any) -> Any:
        for m in self.modules:
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)
