"""Compiled SymPy derivatives kept on disk, so that only the first process ever pays for them.

Differentiating a twin and compiling the derivative with lambdify takes 0.3 s for a one-line op and
seconds for a layer norm, and it used to be paid again in every new process (a test run, a CLI call,
a notebook restart). An entry here is the generated numpy source of the derivative and the numpy names
it uses, keyed by what defines it: the twin's own source code (so editing the twin makes a new entry),
the shapes and attributes it was compiled for, and the versions of gradviz, SymPy and numpy.

The cache lives in $XDG_CACHE_HOME/gradviz (else ~/.cache/gradviz); GRADVIZ_CACHE_DIR names another
folder and GRADVIZ_CACHE_DIR="" turns it off. It is only an accelerator: a missing, unreadable or
read-only folder, a corrupt or foreign entry, anything unexpected, and the derivative is compiled as
before. Entries are Python source that is executed, so only files owned by this user and writable by
no one else are read (the trust one gives to one's own __pycache__).
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import linecache
import hashlib
import inspect
import json
import os
import re
import stat
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Callable

import numpy as np

FORMAT = 2  # entries of an older layout are simply not found


def cache_dir() -> Path | None:
    """Where entries live, or None when caching is turned off."""
    chosen = os.environ.get("GRADVIZ_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gradviz" / "sympy"


def _versions() -> tuple:
    # the package's version without importing the package (checking sits below it): it is loaded already
    __version__ = getattr(sys.modules.get(__name__.split(".")[0]), "__version__", "?")
    return __version__, _sympy_version(), np.__version__, FORMAT


@functools.lru_cache(maxsize=None)
def _sympy_version() -> str:
    """SymPy's version without importing SymPy, which a cache hit exists to avoid.

    Its installed dist-info folder's name says it; importlib.metadata would say it too, but its first call
    costs a fresh process ~90 ms (the email parser), more than the rest of a cached check.
    """
    if "sympy" in sys.modules:
        return sys.modules["sympy"].__version__
    spec = importlib.util.find_spec("sympy")
    if spec is None or not spec.origin:
        return "?"
    site = Path(spec.origin).parent.parent
    found = sorted(site.glob("sympy-*.dist-info")) or sorted(site.glob("sympy-*.egg-info"))
    if found:
        return found[0].name[len("sympy-"):].rsplit(".", 1)[0]
    from importlib import metadata  # an unusual install: ask the slow way

    try:
        return metadata.version("sympy")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


def _source(fn: Callable) -> str:
    """A function's source from its file's lines, as inspect.getsource finds it.

    inspect.getsource first maps every loaded module to its file (milliseconds in a fresh process, the
    cost a cache hit should not pay); the code object already says where the function starts.
    """
    code = inspect.unwrap(fn).__code__  # a wrapper (functools.wraps) stands for the user's function it wraps
    lines = linecache.getlines(code.co_filename)
    if not lines or code.co_firstlineno > len(lines):
        raise OSError("source not available")
    return "".join(inspect.getblock(lines[code.co_firstlineno - 1:]))


def _definition(fn: Callable, depth: int = 0) -> str | None:
    """A function's source with what its closure holds (a factory's twins share one source), or None."""
    target = getattr(fn, "__func__", fn)
    try:
        parts = [f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', '')}",
                 _source(target)]
    except (OSError, TypeError, AttributeError):  # defined in a REPL or built dynamically: no entry, compile as before
        return None
    for cell in getattr(target, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, (bool, int, float, str, type(None))):
            parts.append(repr(value))
        elif callable(value) and depth < 3:
            inner = _definition(value, depth + 1)
            if inner is None:
                return None
            parts.append(inner)
        else:
            return None
    return "\n".join(parts)


def twin_fingerprint(op: Any) -> str | None:
    """A stable hash of what defines an op's symbolic twin, or None when that cannot be read.

    The twin's source and its closure, and the op's name (a built-in's own, a user op's class name without
    the per-process serial): two ops whose twins come from one factory, or two lambdas on one line, differ.
    """
    if op.symbolic is None:
        return None
    definition = _definition(op.symbolic)
    if definition is None:
        return None
    name = op.name if op.builtin else re.sub(r"#\d+$", "", op.name)
    return hashlib.sha256(f"{name}\n{definition}".encode()).hexdigest()


def entry_key(kind: str, fingerprint: str, *parts: Any) -> str:
    return hashlib.sha256(repr((kind, fingerprint, parts, _versions())).encode()).hexdigest()


def attrs_key(attrs: dict | None) -> tuple:
    """An op's attributes as a hashable, stable key (arrays by their bytes): in memory and on disk."""
    if not attrs:
        return ()
    items = []
    for key in sorted(attrs):
        value = attrs[key]
        if isinstance(value, np.ndarray):
            value = ("array", value.shape, value.dtype.str, value.tobytes())
        elif isinstance(value, tuple):
            value = tuple(
                ("array", v.shape, v.tobytes()) if isinstance(v, np.ndarray) else repr(v) for v in value
            )
        else:
            value = repr(value)
        items.append((key, value))
    return tuple(items)


# -- one compiled function as text, and back ----------------------------------------------------------


def _names_used(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_used(const)
    return names


def function_text(fn: Callable) -> dict | None:
    """{"source", "numpy", "values"} for a lambdify'd numpy function, or None if it uses anything else."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    numpy_names, values = {}, {}
    for name in _names_used(fn.__code__):
        if name not in fn.__globals__:
            if hasattr(builtins, name):
                continue
            return None
        value = fn.__globals__[name]
        if getattr(np, name, None) is value:
            numpy_names[name] = name
        elif isinstance(value, (bool, int, float, complex)):
            values[name] = repr(value)
        else:
            return None
    return {"name": fn.__name__, "source": source, "numpy": numpy_names, "values": values}


def function_from(text: dict) -> Callable:
    namespace: dict[str, Any] = {name: getattr(np, attr) for name, attr in text["numpy"].items()}
    namespace.update({name: complex(v) if "j" in v else float(v) for name, v in text["values"].items()})
    exec(compile(text["source"], f"<gradviz cached derivative {text['name']}>", "exec"), namespace)  # noqa: S102
    return namespace[text["name"]]


# -- files ---------------------------------------------------------------------------------------------


def load(key: str) -> dict | None:
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / f"{key}.json"
    try:
        info = path.stat()
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, AttributeError):
        return None


def save(key: str, payload: dict) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out)
        os.chmod(temporary, 0o600)
        os.replace(temporary, folder / f"{key}.json")
    except (OSError, TypeError, ValueError):
        pass  # read-only, full or missing: the next process compiles again, nothing else changes
