"""The Subject: what every entry point becomes before the one pipeline checks it.

A recorded gradviz graph, a `gv.Function`, a torch function and every
hand-written convention (the adapters) turn into the same thing: named input
arrays, a forward, and a vector-Jacobian product, plus what is known of the op
(its recorded graph, batch axis, image layout, settings). The pipeline's
stages (confirm, probe, settle, judge, localize, diagnose, report) see only
this protocol, so every capability applies to every entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

INPUT, PARAMETER = "input", "parameter"


class UserCodeError(Exception):
    """The user's code raised or did something that stops the check; `status` says how bad."""

    def __init__(self, message: str, status: str = "FAIL", cause: str | None = None):
        super().__init__(message)
        self.status = status
        self.cause = cause  # what stopped the code, typed where detected ("memory"), for programs that group


class BackwardFailed(Exception):
    """A recorded graph's backward pass stopped inside a user op: the node checks name it."""


@dataclass
class Problem:
    """Why one gradient could not be compared (it crashed, is missing, or has the wrong shape)."""

    status: str
    message: str
    diagnosis: list = field(default_factory=list)  # what the wrong value resembles, when it could still be read


@dataclass
class Input:
    """One differentiable array, by the user's name; `data` is the float64 buffer the probes perturb."""

    name: str
    data: np.ndarray
    role: str = INPUT  # INPUT (data) or PARAMETER (weights)
    float32: bool = False  # arrived as float32 (upcast, and said)
    node: Any = None  # a graph parameter: the user's own node, perturbed in place and restored
    scalar: bool = False  # a graph input that is a Value (a float) rather than a Tensor


class Subject:
    """The protocol every entry point implements; defaults describe a black box without a graph.

    first(arrays)       the forward at the checked point (may record a graph, kept in `root`)
    gradients(cot)      the user's VJP at that point: one array, Problem or None (no gradient) per input
    output(arrays)      the forward at any point, for the finite-difference probes
    finish()            undo side effects; returns what the user's backward changed that it should not have
    """

    name: str = "function"
    answer: str = "autograd"  # whose gradients are checked, in the report's words
    inputs: list[Input]
    loss: bool = False  # the output is one number and takes no cotangent
    graph: bool = False  # a recorded graph: its failures are told by node
    complete: bool = True  # gives a gradient for every input (recorded graphs do; a hand-written backward may not)
    batch_axis: int = 0
    layout: str | None = None
    root: Any = None  # the recorded graph (enables SymPy and the per-node checks)
    kind: str | None = None  # the op or layer kind, when known (diagnosis)
    cost_index: int | None = None  # a loss returning (loss, gradient) together: where its value is among them
    framework: str = "numpy"  # the user's array library: a diagnosis's fix is written in its terms

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.constants: dict[str, Any] = {}  # the other arguments by the user's names (settings, labels)
        self.attrs: dict[str, Any] = {}  # what is known of the op: window, stride, padding
        self.code: tuple = ()  # the user's functions or objects behind the forward and backward (diagnosis evidence)

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def first(self, arrays: list[np.ndarray]) -> np.ndarray:
        return self.output(arrays)

    def output(self, arrays: list[np.ndarray]) -> np.ndarray:  # pragma: no cover - protocol
        raise NotImplementedError

    def gradients(self, cotangent: np.ndarray | None) -> list[Any]:  # pragma: no cover - protocol
        raise NotImplementedError

    def finish(self) -> list[str]:
        return []

    def grad_name(self, name: str) -> str:
        """The user's name for the gradient of `name` (dW for W)."""
        return "d" + name.split("[")[0].split(".")[-1]

    def batch_size(self, out: np.ndarray | None = None) -> int | None:
        """Samples along the batch axis: the first data input's, when the output shares it."""
        first = next((i.data for i in self.inputs if i.role == INPUT and i.data.ndim > 0), None)
        if first is None:
            return None
        axis = self.batch_axis if self.batch_axis < first.ndim else 0
        size = first.shape[axis]
        if out is not None and np.ndim(out) > axis and np.shape(out)[axis] != size:
            return None
        return size
