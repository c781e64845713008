"""The grader's side of a remote check: a Subject whose evaluations are requests to the sandboxed worker.

`pipeline.run(RemoteSubject(...), options)` runs every stage here, in the grader: confirmation,
finite differences, settling, judging, localization, diagnosis. The worker only answers
"the forward at these arrays" and "the backward with this cotangent" with plain arrays, so
whatever a student patches in their own process changes only the numbers they return, and those
are judged like any other numbers. Everything a worker says is checked before it is used: shapes,
counts, statuses (a worker can report its own code as failing, never as passing), text lengths.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..checking.report import ERROR, FAIL
from ..checking.subject import INPUT, PARAMETER, Input, Problem, Subject, UserCodeError
from . import wire
from .hygiene import clip

LAYOUTS = {None, "NCHW", "NHWC", "NCW", "NWC"}
BAD_STATUSES = {ERROR, FAIL}  # the only statuses a worker may give its own code


class Channel:
    """Requests to one worker and its answers, within the submission's time budget.

    The budget is spent only while the grader waits for the worker: the time the grader itself
    takes to judge (finite differences, diagnosis) is not the student's.
    """

    def __init__(self, to_worker: int, from_worker: int, budget: float, limits: wire.Limits = wire.Limits()):
        self.to_worker, self.reader, self.budget = to_worker, wire.Reader(from_worker, limits), budget
        self.broken: wire.WireError | None = None
        self.round_trips = 0

    def ask(self, header: dict, arrays: list[np.ndarray] = ()) -> tuple[dict, list[np.ndarray]]:
        self.send(header, arrays)
        return self.receive()

    def send(self, header: dict, arrays: list[np.ndarray] = ()) -> None:
        if self.broken:
            raise self.broken
        try:
            wire.send(self.to_worker, header, arrays)
        except OSError:
            self.broken = wire.WireError("the worker stopped reading its requests (it exited or closed them)",
                                         "closed")
            raise self.broken from None

    def receive(self) -> tuple[dict, list[np.ndarray]]:
        if self.broken:
            raise self.broken
        start = time.monotonic()
        try:
            answer = self.reader.receive(start + self.budget)
        except wire.WireError as exc:
            self.broken = exc
            raise
        finally:
            self.budget -= time.monotonic() - start
        self.round_trips += 1
        return answer


class RemoteSubject(Subject):
    """A Subject described by the worker and evaluated by it; every verdict about it is made here."""

    complete = False  # whatever the worker claims: an array without a gradient is asked why (holes.py)

    def __init__(self, channel: Channel, description: dict, arrays: list[np.ndarray]):
        super().__init__()
        self.channel = channel
        self.causes: list[str] = []  # typed reasons the worker gave for its code failing (memory, exited...)
        d = description
        inputs = d.get("inputs")
        if not isinstance(inputs, list) or not inputs or len(inputs) != len(arrays):
            raise wire.WireError("the worker described a check with no inputs, or inputs without their arrays")
        self.inputs = []
        for item, data in zip(inputs, arrays):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise wire.WireError("the worker described an input without a name")
            role = PARAMETER if item.get("role") == PARAMETER else INPUT
            self.inputs.append(Input(clip(item["name"], 80), np.array(data), role=role,
                                     float32=bool(item.get("float32"))))
        if len(set(self.names)) != len(self.names):
            raise wire.WireError("the worker described two inputs with the same name")
        self.name = clip(str(d.get("name", "function")), 120)
        self.answer = clip(str(d.get("answer", "backward")), 120)
        self.loss = bool(d.get("loss"))
        axis = d.get("batch_axis", 0)
        self.batch_axis = axis if isinstance(axis, int) and 0 <= axis < 8 else 0
        self.layout = d.get("layout") if d.get("layout") in LAYOUTS else None
        kind = d.get("op_kind")
        self.kind = clip(kind, 40) if isinstance(kind, str) and kind.isidentifier() else None
        at = d.get("cost_index")
        self.cost_index = at if isinstance(at, int) and not isinstance(at, bool) and 0 <= at < 64 else None
        names = d.get("grad_names") if isinstance(d.get("grad_names"), dict) else {}
        self._grad_names = {n: clip(str(names[n]), 80) for n in self.names if n in names}
        self.notes = [clip(str(n), 400) for n in _list(d.get("notes"))]
        self.warnings = [clip(str(w), 400) for w in _list(d.get("warnings"))]
        self.constants = {k: _value(v) for k, v in (d.get("constants") or {}).items()} \
            if isinstance(d.get("constants"), dict) else {}
        self.attrs = _geometry(d.get("attrs"))

    # -- the protocol --------------------------------------------------------------------
    def first(self, arrays: list[np.ndarray]) -> np.ndarray:
        answer, got = self._ask({"op": "first"}, arrays, len(arrays) + 1)
        for mine, theirs in zip(arrays, got[1:]):  # the pipeline sees an input the user's code changed in place
            if mine.shape == theirs.shape:
                np.copyto(mine, theirs)
        return got[0]

    def output(self, arrays: list[np.ndarray]) -> np.ndarray:
        return self._ask({"op": "output"}, arrays, 1)[1][0]

    def gradients(self, cotangent: np.ndarray | None) -> list[Any]:
        answer, got = self._ask({"op": "gradients", "cotangent": cotangent is not None},
                                [] if cotangent is None else [cotangent], None)
        entries = answer.get("grads")
        if not isinstance(entries, list) or len(entries) != len(self.inputs):
            raise wire.WireError("the worker answered the backward with a wrong number of gradients")
        arrays, out = iter(got), []
        for entry in entries:
            if entry is None:
                out.append(None)
            elif entry == "array":
                value = next(arrays, None)
                if value is None:
                    raise wire.WireError("the worker announced more gradients than it sent")
                out.append(value)
            elif isinstance(entry, dict):
                status = entry.get("status") if entry.get("status") in BAD_STATUSES else ERROR
                out.append(Problem(status, clip(str(entry.get("message", "")), 2000)))
            else:
                raise wire.WireError("the worker answered the backward with something that is not a gradient")
        return out

    def finish(self) -> list[str]:
        if self.channel.broken:
            return []
        answer, _ = self._ask({"op": "finish"}, [], 0)
        changed = [n for n in _list(answer.get("changed")) if n in self.names]
        self.channel.send({"op": "end"})
        return changed

    def grad_name(self, name: str) -> str:
        return self._grad_names.get(name) or super().grad_name(name)

    def _ask(self, header: dict, arrays: list[np.ndarray], expected: int | None):
        answer, got = self.channel.ask(header, arrays)
        if answer.get("ok") is not True:
            self.causes.append(str(answer.get("cause", "raised"))[:40])
            status = answer.get("status") if answer.get("status") in BAD_STATUSES else ERROR
            raise UserCodeError(clip(str(answer.get("message", "the code failed")), 2000), status)
        if expected is not None and len(got) != expected:
            raise wire.WireError(f"the worker answered {header['op']} with {len(got)} arrays instead of {expected}")
        return answer, got


def _list(value: Any) -> list:
    return value[:64] if isinstance(value, list) else []


GEOMETRY = ("kernel_size", "kernel", "stride", "padding", "pad", "dilation")  # what the diagnosis reads from attrs


def _geometry(attrs: Any) -> dict[str, Any]:
    """An op's window settings as the diagnosis expects them (a whole number or up to 3 of them, each 0..4096);
    anything else a worker says is dropped: the diagnosis runs here, on the grader's side, and the other
    attributes it reads ('role', 'parameters', 'input_gradient_ok') are the grader's own findings."""
    kept: dict[str, Any] = {}
    for key in GEOMETRY:
        value = attrs.get(key) if isinstance(attrs, dict) else None
        numbers = value if isinstance(value, list) and 1 <= len(value) <= 3 else [value]
        if all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 4096 for n in numbers):
            kept[key] = tuple(numbers) if isinstance(value, list) else value
    return kept


def _value(value: Any) -> Any:
    """A setting as the diagnosis reads it: numbers, strings, lists, dicts; {"array": ...} back to an array."""
    if isinstance(value, dict) and set(value) == {"array"}:
        try:
            return np.asarray(value["array"], dtype=np.float64)
        except (TypeError, ValueError):
            return None
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, str):
        return clip(value, 400)
    return value if value is None or isinstance(value, (bool, int, float)) else None

