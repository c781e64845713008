"""Module: parameters, zero_grad and a scope around everything a module records."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..graph import scope
from ..tensor import Tensor
from ..value import Value


def make_rng(seed: int | None = None, rng: np.random.Generator | None = None) -> np.random.Generator:
    """The generator a module draws its initial weights from (seedable, never global state)."""
    if rng is not None:
        return rng
    return np.random.default_rng(seed)


class Module:
    """Base class: subclasses define forward(); calling the module records inside its scope.

    parameters() lists every Value or Tensor attribute that requires a gradient,
    in attribute order, descending into lists and child modules.
    """

    name: str = "module"

    def forward(self, *args: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, *args: Any) -> Any:
        with scope(self.name):
            return self.forward(*args)

    def parameters(self) -> list:
        return list(_walk(self.__dict__.values()))

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.parameters())} parameters)"


def _walk(values) -> Iterator:
    for v in values:
        if isinstance(v, (Value, Tensor)):
            if v.requires_grad:
                yield v
        elif isinstance(v, Module):
            yield from v.parameters()
        elif isinstance(v, (list, tuple)):
            yield from _walk(v)


class Sequential(Module):
    """Modules applied in order; each records in a scope named after its position and kind."""

    def __init__(self, *modules: Module, name: str = "sequential"):
        self.name = name
        self.modules = list(modules)
        for i, m in enumerate(self.modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes modules, got {type(m).__name__} at position {i}")
            if m.name == type(m).name:  # not named by the user: name it by position
                m.name = f"{i}_{m.name}"

    def forward(self, x: Any) -> Any:
        for m in self.modules:
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self.modules[i]

    def __len__(self) -> int:
        return len(self.modules)
