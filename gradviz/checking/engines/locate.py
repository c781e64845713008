"""Pointing at the student's code: which function and line ran, raised, or wrote a gradient.

Errors are placed by the deepest traceback frame in the engine's own file.
An op's backward code is found by watching backward() run (sys.settrace, on
the engine's file only): what runs for `a * b` but not for a bare leaf is
`__mul__`'s backward, whether it is a closure, a function kept in a dict,
or the method body of a recursive backward().
"""

from __future__ import annotations

import inspect
import linecache
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .discovery import Engine


@dataclass
class Fault:
    """The student's code raised: what, and where in their file."""

    error: BaseException
    where: str  # "engine.py:42" (or the class's file when no frame is in it)
    function: str  # the student's function the deepest frame is in
    line: str  # the text of that line

    @property
    def kind(self) -> str:
        return type(self.error).__name__

    def text(self) -> str:
        shown = f"{self.kind}: {self.error}" if str(self.error) else self.kind
        return f"{shown} at {self.where} in {self.function}" + (f" (`{self.line}`)" if self.line else "")


def source_files(engine: Engine) -> set[str]:
    """The files the engine's code lives in, as its code objects name them (a module, or notebook cells)."""
    files = set()
    for klass in engine.node_types:
        for value in vars(klass).values():
            code = getattr(getattr(value, "__func__", value), "__code__", None)
            if code is not None:
                files.add(code.co_filename)
    module = getattr(inspect.getmodule(engine.cls), "__file__", None)
    if module:
        files.add(module)
    return files


def source_file(engine: Engine) -> str:
    """The engine class's own file (its first method's), for messages that need one."""
    for value in vars(engine.cls).values():
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if code is not None:
            return code.co_filename
    return next(iter(source_files(engine)), "")


def short(path: str, line: int) -> str:
    return f"{Path(path).name}:{line}"


def run(engine: Engine, fn: Callable[[], Any]) -> tuple[Any, Fault | None]:
    """fn(), or the Fault it raised placed in the student's file (RecursionError included)."""
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - the student's code may raise anything
        return None, fault_of(engine, exc)


def fault_of(engine: Engine, exc: BaseException) -> Fault:
    files = source_files(engine)
    tb, found = exc.__traceback__, None
    while tb is not None:  # the deepest frame in the student's code
        if tb.tb_frame.f_code.co_filename in files:
            found = tb
        tb = tb.tb_next
    exc.__traceback__ = None  # a deep RecursionError's frames are not kept alive
    if found is None:
        path = source_file(engine)
        return Fault(exc, Path(path).name if path else engine.name, "", "")
    code = found.tb_frame.f_code
    return Fault(exc, short(code.co_filename, found.tb_lineno), _qualname(code),
                 linecache.getline(code.co_filename, found.tb_lineno).strip())


def _qualname(code) -> str:
    return getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")


@dataclass
class Trace:
    """Lines of the engine's file that ran, in order, by function (code object)."""

    lines: dict = field(default_factory=dict)  # code -> [line numbers, in the order they ran]

    def codes(self) -> set:
        return set(self.lines)


def traced(engine: Engine, fn: Callable[[], Any]) -> Trace:
    """Run fn() with a line tracer on the engine's file only; exceptions are left to the caller."""
    files = source_files(engine)
    trace = Trace()

    def local(frame, event, arg):
        if event == "line":
            trace.lines.setdefault(frame.f_code, []).append(frame.f_lineno)
        return local

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code.co_filename in files:
            trace.lines.setdefault(frame.f_code, [])
            return local
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(old)
    return trace


@dataclass
class Place:
    """Where an op's backward rule is: its function and the lines that write gradients."""

    function: str
    path: str
    first_line: int
    grad_lines: list[int]  # lines of the rule that write a gradient, in the order they ran

    def line_for(self, operand: int, assignment: bool = False, grad: str = "grad") -> int:
        if assignment:
            plain = [n for n in self.grad_lines if _assigns(linecache.getline(self.path, n), grad)]
            if plain:
                return plain[min(operand, len(plain) - 1)]
        if self.grad_lines:
            return self.grad_lines[min(operand, len(self.grad_lines) - 1)]
        return self.first_line

    def where(self, line: int) -> str:
        text = statement(self.path, line)
        return f"{short(self.path, line)} in {self.function}" + (f": `{text}`" if text else "")


def statement(path: str, line: int, most: int = 4) -> str:
    """The statement starting at `line`, joined when its brackets run on (`return Node(a / b,` + next line)."""
    text = linecache.getline(path, line).strip()
    depth, n = _depth(text), line
    while depth > 0 and n < line + most:
        n += 1
        more = linecache.getline(path, n).strip()
        if not more:
            break
        text, depth = f"{text} {more}", depth + _depth(more)
    return text


def _depth(text: str) -> int:
    code = text.split("#", 1)[0]
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def _assigns(text: str, grad: str) -> bool:
    return bool(re.search(rf"\b{re.escape(grad)}\b\s*=(?!=)", text)) and "+=" not in text


def _writes(text: str, grad: str) -> bool:
    return bool(re.search(rf"\b{re.escape(grad)}\b\s*(\+|-)?=(?!=)", text)) or text.startswith("return")


def rules_ran(engine: Engine, build: Callable[[], Any]) -> list[tuple[Any, list[int]]]:
    """(code, lines) of every rule that ran in backward() for `build()`'s graph and not for a bare leaf."""
    try:
        leaf = engine.leaf(1.0)
        base = traced(engine, lambda: engine.run_backward(leaf)).codes()
        root = build()
        trace = traced(engine, lambda: engine.run_backward(root))
    except Exception:  # noqa: BLE001 - a raising backward is reported by the battery, not here
        return []
    return [(code, lines) for code, lines in trace.lines.items() if code not in base and lines]


def methods_called(engine: Engine, fn: Callable[[], Any]) -> set[str]:
    """The student's methods and functions that ran in fn() (forward and backward), by short name."""
    try:
        trace = traced(engine, fn)
    except Exception:  # noqa: BLE001
        return set()
    return {owner(code).split(".")[-1] for code in trace.lines}


def owner(code) -> str:
    """The method a rule belongs to: Value.__mul__ for the closure Value.__mul__.<locals>._backward."""
    parts = _qualname(code).split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else _qualname(code)


def assignment(engine: Engine, build: Callable[[], Any]) -> tuple[str, str] | None:
    """(method, where) of a rule that ran and assigns a gradient with = where += belongs."""
    try:
        root = build()
        ran = traced(engine, lambda: engine.run_backward(root)).lines.items()
    except Exception:  # noqa: BLE001
        return None
    for code, lines in ran:
        path = code.co_filename
        for n in lines:
            if _assigns(linecache.getline(path, n).strip(), engine.grad) and \
                    not re.match(r"\s*self\." + re.escape(engine.grad) + r"\s*=\s*1", linecache.getline(path, n)):
                place = Place(_qualname(code), path, code.co_firstlineno, [n])
                return owner(code), place.where(n)
    return None


_WALKS = ("<genexpr>", "<listcomp>", "<setcomp>", "<dictcomp>")  # a graph walk's comprehension, not a rule


def backward_place(engine: Engine, build: Callable[[], Any], fallback: Any) -> Place | None:
    """The code that ran in backward() for the graph `build()` makes, beyond what a bare leaf runs."""
    inside = f"{engine.name}.{engine.backward}."  # backward()'s own helpers (a genexpr over a node's parents)
    rules = sorted(rules_ran(engine, build), key=lambda rule: (_qualname(rule[0]).startswith(inside),
                                                                 _qualname(rule[0]).endswith(_WALKS)))
    if not rules or _qualname(rules[0][0]).startswith(inside):
        made = made_at(engine, build, fallback)  # (parent, local) pairs: the rule is written in the forward
        if made is not None or not rules:
            return made or _function_place(fallback, source_file(engine))
    code, lines = rules[0]
    path = code.co_filename
    seen: list[int] = []
    for n in lines:
        if n not in seen and _writes(linecache.getline(path, n).strip(), engine.grad):
            seen.append(n)
    return Place(_qualname(code), path, code.co_firstlineno, seen)


def made_at(engine: Engine, build: Callable[[], Any], fn: Any) -> Place | None:
    """Where `fn` (the op's method) made its result: the line that called the node's constructor last.

    An engine that keeps (parent, local derivative) pairs writes the rule in that call
    (`return Node(self.value ** n, [(self, n * self.value ** (n - 1))])`), not in `def __pow__`.
    """
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    inits = {getattr(vars(k).get("__init__"), "__code__", None) for k in engine.node_types} - {None}
    if code is None or not inits:
        return None
    calls: list[int] = []
    made: list = []

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code in inits and frame.f_back is not None and frame.f_back.f_code is code:
            calls.append(frame.f_back.f_lineno)
        return None

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        made.append(build())
    except Exception:  # noqa: BLE001 - a raising forward is reported by the battery, not here
        return None
    finally:
        sys.settrace(old)
    held = getattr(made[0], engine.parents.split(".")[0], None) if engine.parents and "." not in engine.parents \
        else None
    pairs = [item for item in (held if isinstance(held, (list, tuple)) else ())
             if isinstance(item, (tuple, list)) and len(item) == 2]
    if not calls or not pairs:  # parents without their local derivatives: the rule is not in this call
        return None
    return Place(_qualname(code), code.co_filename, code.co_firstlineno, [calls[-1]])


def _function_place(fn: Any, path: str) -> Place | None:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return None
    return Place(_qualname(code), code.co_filename, code.co_firstlineno, [])
