"""The op table: every differentiable op, defined once with its three faces.

An ``OpDef`` holds an op's numeric ``forward``, its hand-written ``backward``
(a vector-Jacobian product) and its ``symbolic`` SymPy twin side by side, plus
what a checker needs to exercise it: a sampler of valid test points and a
detector of non-differentiable points. The scalar engine, the array engine,
user ``gv.Function`` ops, the checkers and ``gradviz check`` all read this
one table, so no derivative is written twice.

Calling conventions (the same for built-ins and user ops)::

    forward(*inputs, **attrs) -> output
    backward(grad, *inputs, out, **attrs) -> tuple, one gradient per input
                                             (None where an input gets none);
                                             `out` is passed positionally, after the inputs
                                             (see `skips`, `fills` and `forward_saving` for
                                             the optional extras an op may accept)
    symbolic(*inputs, **attrs) -> SymPy expression(s) built from the inputs

Inputs are floats or float64 arrays. An ``elementwise`` op's twin is written
for scalars and mapped over arrays; other ops' twins take numpy object arrays
of SymPy expressions and return one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np


@dataclass(frozen=True)
class Case:
    """One test point of an op: its inputs and attributes."""

    inputs: tuple
    attrs: dict = field(default_factory=dict)


@dataclass(eq=False)
class OpDef:
    """One differentiable op. See the module docstring for the conventions."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., tuple]
    symbolic: Callable[..., Any] | None = None
    arity: int | None = 1  # None: any number of inputs (concatenate, stack)
    symbol: str | None = None  # how a graph draws it ("+", "tanh", ...)
    elementwise: bool = False
    scalar: bool = False  # usable on Values (float in, float out)
    # Valid random test points: rng -> list of Cases. Defaults derive from `domain`.
    cases: Callable[[np.random.Generator], list[Case]] | None = None
    # For elementwise ops, the open interval each input is sampled from.
    domain: tuple[tuple[float, float], ...] | None = None
    # (inputs, attrs, tol) -> bool array over the output (or inputs) marking
    # points within tol of a kink or tie, where the op is not differentiable.
    kinks: Callable[..., Any] | None = None
    kink_reason: str = ""
    builtin: bool = True
    # A backward that can skip the gradients nobody needs (the data batch's, in
    # `x @ W`) declares skips=True: it then accepts `needs=`, one bool per input,
    # and returns None for an input whose flag is False. The array engine passes
    # `needs` only when some input takes no gradient; checkers never pass it.
    skips: bool = False
    # A backward that can write a gradient straight into a given array declares
    # fills=True: it accepts `into=`, one float64 array of the input's shape (or
    # None) per input, and returns that very array for an input whose gradient it
    # wrote there. The array engine hands it the gradient arrays zero_grad() kept,
    # so a parameter's gradient is neither copied nor reallocated at each step.
    fills: bool = False
    # The array library the op's forward and backward are written in: "numpy", or "torch" for a custom
    # torch.autograd.Function or a torch op recorded by gv.torch. A diagnosis names its fix in that library.
    framework: str = "numpy"
    # A forward that also returns what its backward can reuse instead of redoing
    # (max pooling's winning positions): forward_saving(*inputs, **attrs) ->
    # (out, {keyword: value}); the array engine keeps the dict with the node and
    # passes it to backward as extra keywords. `forward` stays the plain face that
    # checkers call, and backward works without the extras too.
    forward_saving: Callable[..., tuple] | None = None

    @property
    def display(self) -> str:
        return self.symbol or self.name

    def test_cases(self, rng: np.random.Generator) -> list[Case]:
        """Valid, kink-free points at which all three oracles must agree."""
        if self.cases is not None:
            return self.cases(rng)
        if self.domain is None:
            return []
        return [Case(self.sample(rng, shape)) for shape in ((), (2, 3))]

    def sample(self, rng: np.random.Generator, shape: tuple = ()) -> tuple:
        """Inputs drawn from `domain`, redrawn while any lands within 0.05 of a kink."""
        for _ in range(1000):
            inputs = tuple(rng.uniform(lo, hi, size=shape) for lo, hi in self.domain)
            if shape == ():
                inputs = tuple(float(v) for v in inputs)
            if self.kinks is None or not np.any(self.kinks(inputs, {}, 0.05)):
                return inputs
        raise RuntimeError(f"could not sample {self.name} away from its kinks")


_TABLE: dict[str, OpDef] = {}


def register(op: OpDef) -> OpDef:
    """Add an op to the table. Built-in names are unique; user ops get a fresh name."""
    if op.name in _TABLE and _TABLE[op.name] is not op:
        raise ValueError(f"an op named {op.name!r} is already registered")
    _TABLE[op.name] = op
    return op


def get(name: str) -> OpDef:
    return _TABLE[name]


def builtin_ops() -> Iterator[OpDef]:
    """Every built-in op, in registration order (what `gradviz check` iterates)."""
    return (op for op in _TABLE.values() if op.builtin)


def all_ops() -> Iterator[OpDef]:
    return iter(_TABLE.values())
