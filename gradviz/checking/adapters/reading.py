"""A reading of hand-written code, and the safe way to call user code.

A Reading is how an adapter understood the user's code: named input buffers
(numpy arrays the checker perturbs in place), `forward(arrays) -> out`, and
`vjp(dout) -> {name: gradient}`, with the user's names for everything.
checking/handwritten.py turns a Reading into the pipeline's Subject; the
checker, the diagnosis and the report never see the user's calling convention.
"""

from __future__ import annotations

import ast
import errno
import inspect
import os
import signal
import textwrap
import threading
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError, PrecisionWarning, warn_at_user
from ..subject import Problem, UserCodeError  # noqa: F401 - re-exported for the adapters

_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Reading:
    """The user's code as the checker sees it, with the user's names for everything.

    `arrays` maps each differentiable array's user name to the buffer that
    `forward` reads; `vjp(dout)` returns a gradient (or a Problem) per name it
    knows about; names it leaves out are reported as not checked. `loss`
    subjects return one number and take no random cotangent.
    """

    name: str
    convention: str
    override: str
    arrays: dict[str, np.ndarray]
    forward: Callable[[dict[str, np.ndarray]], Any]
    vjp: Callable[[Any], dict[str, Any]]
    backward_name: str = "backward"
    grad_names: dict[str, str] = field(default_factory=dict)  # array name -> the user's gradient name
    inputs: tuple[str, ...] = ()  # data inputs (the rest are parameters)
    loss: bool = False
    batch_axis: int = 0
    layout: str | None = None
    notes: list[str] = field(default_factory=list)
    restore: Callable[[], list[str]] = lambda: []  # undo side effects; returns what backward changed
    warnings: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)  # the other arguments by name (labels, settings)
    named: set[str] = field(default_factory=set)  # gradients matched by the user's own names (confirm.py)
    binding: str = ""  # how the code was called, in the user's names (printed in the report)
    confirm_vjp: Callable[[Any], dict[str, Any]] | None = None  # the VJP confirm.py tests, when not `vjp` itself
    code: tuple = ()  # the user's functions or objects, whose source the diagnosis may read (evidence.py)
    unread: Callable[[], str | None] | None = None  # after a VJP: why arrays left without a gradient are a misreading
    cost_index: int | None = None  # a loss returning its value and gradients together: where the value is

    def grad_name(self, name: str) -> str:
        return self.grad_names.get(name, "d" + name.split("[")[0].split(".")[-1])

    def batch_size(self) -> int | None:
        first = next((self.arrays[n] for n in self.inputs if n in self.arrays), None)
        if first is None or first.ndim == 0:
            return None
        return first.shape[self.batch_axis if self.batch_axis < first.ndim else 0]


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Interrupt user code that runs too long (main thread only; elsewhere no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def where(exc: BaseException) -> str:
    """The user's `file:line` where an exception was raised: the deepest frame outside gradviz and libraries."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        path = os.path.abspath(frame.filename)
        if (path.startswith(_PACKAGE + os.sep) or "site-packages" in path or "/lib/python" in path
                or path.endswith((".pyx", ".pxd", ".pxi"))):  # a compiled library's Cython source (numpy.random)
            continue
        return f"{frame.filename}:{frame.lineno}"
    return ""


def call(what: str, fn: Callable, *args, timeout: float | None = None, **kwargs):
    """Run user code; an exception or a hang becomes a UserCodeError (status ERROR) with file:line."""
    try:
        if not timeout:  # the common case: no context manager on the hot path of finite differences
            return fn(*args, **kwargs)
        with _time_limit(timeout):
            return fn(*args, **kwargs)
    except _Timeout:
        raise UserCodeError(f"{what} did not finish within {timeout:g} s (an endless loop?)", "ERROR") from None
    except UserCodeError:
        raise
    except SystemExit as exc:  # exiting would end gradviz with the user's code, 0 reading as "all gradients agree"
        at = where(exc)
        raise UserCodeError(f"{what} called sys.exit({exc.code!r})" + (f" (at {at})" if at else "")
                            + ": gradviz cannot check code that ends the program", "ERROR", cause="exited") from None
    except MemoryError as exc:
        at = where(exc)
        raise UserCodeError(f"{what} raised MemoryError: {exc}" + (f" (at {at})" if at else ""), "ERROR",
                            cause="memory") from None
    except Exception as exc:
        at = where(exc)
        too_much = isinstance(exc, OSError) and exc.errno == errno.EFBIG  # a write past the file-size limit
        raise UserCodeError(f"{what} raised {type(exc).__name__}: {exc}" + (f" (at {at})" if at else ""),
                            "ERROR", cause="output_limit" if too_much else None) from None


def as_array(what: str, value: Any) -> np.ndarray:
    """A user result as float64, or a UserCodeError saying what is wrong with it."""
    if value is None:
        raise UserCodeError(f"{what} returned None (a missing return statement?)")
    try:
        array = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise UserCodeError(f"{what} returned something that is not an array: {exc}") from None
    if array.dtype.kind not in "fiub":
        raise UserCodeError(f"{what} returned {type(value).__name__} of dtype {array.dtype}, not numbers")
    if array.dtype == np.float32:
        raise UserCodeError(f"{what} returned float32: gradients cannot be checked to 1e-5 in float32 "
                            "(about 7 significant digits); compute in float64")
    return array.astype(np.float64, copy=False)  # the user's float64 result is read, not copied


def float64_copy(name: str, value: Any, warnings_out: list[str]) -> np.ndarray:
    """A float64 copy of a user's input array; float32 is upcast with a warning."""
    array = np.asarray(value)
    if array.dtype == np.float32:
        message = f"{name} is float32; it was upcast to float64 for the check"
        warn_at_user(message, PrecisionWarning)
        warnings_out.append(message)
    if array.dtype.kind not in "fiub":
        raise GradvizError(f"{name} must be a numeric array, got dtype {array.dtype}")
    return np.array(array, dtype=np.float64, order="C")  # C order: the probes perturb it through flat views


def is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def no_float_array(what: str, arguments: dict) -> GradvizError:
    """The one refusal of a call with nothing to differentiate: why each data-like argument is no float array."""
    return GradvizError(f"{what} received no float array to differentiate (its arguments are {', '.join(arguments)})"
                        f"{not_arrays_hint(arguments)}; pass float arrays (or a dict of arrays), or name one with "
                        "wrt= (--wrt NAME)")


def not_arrays_hint(arguments: dict) -> str:
    """Why the arguments that look like data are not float arrays, in the user's names ("" when none do)."""
    hints = []
    for name, value in arguments.items():
        if isinstance(value, (list, tuple)):
            try:
                np.array(value, dtype=np.float64)
                hints.append(f"{name} is a {type(value).__name__}: pass np.array({name}, dtype=float)")
            except (ValueError, TypeError):
                hints.append(f"{name} is a ragged {type(value).__name__} (rows of different lengths or non-numbers), "
                             "which is no array: give every row the same length")
        elif isinstance(value, np.ndarray) and value.dtype.kind in "iub":
            hints.append(f"{name} is an {value.dtype} array: pass {name}.astype(float) to differentiate it")
    return "; " + "; ".join(hints) if hints else ""


def positional_names(fn: Callable) -> list[str]:
    """Names of the positional parameters of fn (without self for bound methods)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def returned_items(fn: Callable) -> list[str | None] | None:
    """The name of each item in the function's last `return a, b, (c, d)` (None where it is not a name)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None]
    if not returns:
        return None
    value = returns[-1].value
    items = value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value]
    return [item.id if isinstance(item, ast.Name) else None for item in items]


def returned_names(fn: Callable) -> list[str] | None:
    """The names in the function's last `return a, b, c` (the user's names for its results), if all are names."""
    names = returned_items(fn)
    return names if names and all(names) else None


def user_name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
