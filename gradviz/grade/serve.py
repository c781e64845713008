"""The worker's side of a remote check: serve one Subject's evaluations to the grader, judge nothing.

The worker reads the student's code exactly as `gradviz check` does (targets.py and the
adapters); when that reading reaches the pipeline, `serve` takes the Subject instead, describes
it (names, roles, the arrays at the checked point, the settings) and then answers the grader's
requests (forward at these arrays, backward with this cotangent, undo) until the grader says it
is done. Every answer is plain numbers in the wire format; the verdict is computed on the other side.
"""

from __future__ import annotations

import errno
from typing import Any

import numpy as np

from ..checking.adapters.reading import as_array
from ..checking.report import Report
from ..checking.subject import BackwardFailed, Problem, Subject, UserCodeError
from ..notebooks import loaded_notes
from . import wire

TEXT = 2000  # characters of any one string a worker sends (notes, messages)
ITEMS = 64  # entries of a list or dict of settings


class Server:
    """Answers the grader's requests about the Subjects a check builds, over one channel."""

    def __init__(self, reader: wire.Reader, out_fd: int):
        self.reader, self.out_fd = reader, out_fd
        self.served = 0

    def send(self, header: dict, arrays: list[np.ndarray] = ()) -> None:
        wire.send(self.out_fd, header, arrays)

    def serve(self, subject: Subject, options) -> Report:
        """pipeline.run's stand-in inside the worker: describe the Subject, then answer until 'end'."""
        self.served += 1
        arrays = [i.data for i in subject.inputs]
        self.send({"kind": "subject", **describe(subject)}, arrays)
        while True:
            request, given = self.reader.receive()
            op = request.get("op")
            if op == "end":
                break
            self.answer(subject, op, request, given)
        return Report(subject=subject.name, results=[], settings=options.settings(options.mode),
                      verdict="served to the grader")

    def answer(self, subject: Subject, op: str, request: dict, given: list[np.ndarray]) -> None:
        try:
            if op in ("first", "output"):
                copies = [a.copy() for a in given]
                out = subject.first(copies) if op == "first" else subject.output(copies)
                self.send({"ok": True}, [_numbers(subject, out), *(copies if op == "first" else [])])
            elif op == "gradients":
                self.gradients(subject, given[0] if request.get("cotangent") else None)
            elif op == "finish":
                self.send({"ok": True, "changed": [_text(n) for n in subject.finish()][:ITEMS]})
            else:
                self.send({"ok": False, "status": "ERROR", "message": f"unknown request {str(op)[:40]!r}"})
        except UserCodeError as exc:
            self.send({"ok": False, "status": exc.status, "message": _text(str(exc)), "cause": exc.cause or "raised"})
        except BackwardFailed as exc:
            self.send({"ok": False, "status": "ERROR", "message": _text(f"backpropagation stopped in your code: {exc}"),
                       "cause": "raised"})
        except MemoryError:
            self.send({"ok": False, "status": "ERROR", "message": "MemoryError: the code ran out of memory",
                       "cause": "memory"})
        except OSError as exc:
            self.send({"ok": False, "status": "ERROR", "message": _text(f"{type(exc).__name__}: {exc}"),
                       "cause": "output_limit" if exc.errno == errno.EFBIG else "raised"})
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # noqa: BLE001 - the student's code
            self.send({"ok": False, "status": "ERROR", "message": _text(f"{type(exc).__name__}: {exc}"),
                       "cause": "exited" if isinstance(exc, SystemExit) else "raised"})

    def gradients(self, subject: Subject, cotangent: np.ndarray | None) -> None:
        scale = None
        if subject.graph and cotangent is not None and cotangent.size == 1:  # a graph's scalar output takes no
            scale, cotangent = float(cotangent.reshape(())), None  # cotangent: its gradient times the number
        raw = subject.gradients(cotangent)
        if scale is not None:
            raw = [g * scale if g is not None and not isinstance(g, Problem) else g for g in raw]
        entries, arrays = [], []
        for spec, value in zip(subject.inputs, raw):
            if value is None:
                entries.append(None)
            elif isinstance(value, Problem):
                entries.append({"status": value.status, "message": _text(value.message)})
            else:
                try:
                    arrays.append(as_array(f"{subject.answer} ({subject.grad_name(spec.name)})", value))
                    entries.append("array")
                except UserCodeError as exc:
                    entries.append({"status": exc.status, "message": _text(str(exc))})
        self.send({"ok": True, "grads": entries}, arrays)


def describe(subject: Subject) -> dict:
    """What the grader needs to check a Subject, as JSON (the arrays go separately, in order)."""
    return {"name": _text(subject.name), "answer": _text(subject.answer), "loss": bool(subject.loss),
            "batch_axis": int(subject.batch_axis), "layout": subject.layout, "op_kind": subject.kind,
            "cost_index": subject.cost_index,
            "inputs": [{"name": _text(i.name), "role": i.role, "float32": bool(i.float32)} for i in subject.inputs],
            "grad_names": {_text(i.name): _text(subject.grad_name(i.name)) for i in subject.inputs},
            "notes": [_text(n) for n in [*loaded_notes(), *subject.notes]][:ITEMS], "warnings": [_text(w) for w in subject.warnings][:ITEMS],
            "constants": plain(subject.constants), "attrs": plain(subject.attrs)}


def plain(value: Any, depth: int = 0) -> Any:
    """Settings as JSON: numbers, strings, small lists and dicts, small arrays as {"array": nested lists}."""
    if depth > 4:
        return None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, np.generic):
        return value.item() if value.dtype.kind in "biuf" else None
    if isinstance(value, np.ndarray):
        return {"array": value.tolist()} if value.dtype.kind in "biuf" and value.size <= 4096 else None
    if isinstance(value, dict):
        return {_text(str(k)): plain(v, depth + 1) for k, v in list(value.items())[:ITEMS]}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value[:ITEMS]]
    return None


def _numbers(subject: Subject, out: Any) -> np.ndarray:
    try:
        return np.array(out, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserCodeError(f"{subject.name} returned {type(out).__name__}, which is not numbers ({exc})",
                            "ERROR") from None


def _text(text: Any) -> str:
    text = str(text)
    return text if len(text) <= TEXT else text[:TEXT] + " [cut]"
