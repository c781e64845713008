"""Loading a file target: importing the user's file and finding the object(s) FILE:NAME names.

A file is imported from any working directory (its folder goes on sys.path
while it loads). FILE:NAME, FILE:FORWARD,BACKWARD, A.py:FWD,B.py:BWD and
FILE:STEM (a pair found by its spelling) all resolve here.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from .. import notebooks
from ..errors import GradvizError
from . import packages


def is_file_target(target: str) -> bool:
    return names_a_file(target) or target.endswith((".py", ".ipynb")) or packages.is_module_target(target)


def names_a_file(text: str) -> bool:
    """FILE:NAME with a Python file or a Jupyter notebook."""
    return ".py:" in text or ".ipynb:" in text


_FAILED_LOADS: list[dict | None] = [None]  # a grading worker's files that failed to load (remember_failed_loads)


def remember_failed_loads() -> None:
    """From now on a file that failed to load fails again with the same error, without running it again.

    A grading worker reads every target of one submission in one process; a file whose import fails
    (a late notebook cell after a slow training cell, a print past the output limit) would otherwise run
    once per target, and its later targets would read "did not finish within the time limit" instead
    of the error. Keyed by the file's size and modification time, so an edited file runs again.
    """
    _FAILED_LOADS[0] = {}


def load_module(path_text: str):
    """Import a user's file from any working directory (its folder is on sys.path while it loads)."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise GradvizError(f"no such file: {path} (give path/to/file.py:NAME)", kind="missing_file")
    failed = _FAILED_LOADS[0]
    if failed is None:
        return _load_module(path)
    info = path.stat()
    key = (str(path.resolve()), info.st_mtime_ns, info.st_size)
    if key in failed:
        raise GradvizError(str(failed[key]), kind=failed[key].kind)
    try:
        return _load_module(path)
    except GradvizError as exc:
        failed[key] = exc
        raise


def _load_module(path: Path):
    try:  # a file inside packages is imported as pkg.sub.mod, so its relative imports work
        packaged = packages.import_in_package(path)
    except SyntaxError as exc:
        raise GradvizError(f"syntax error in {exc.filename}:{exc.lineno}: {exc.msg}", kind="syntax") from None
    except Exception as exc:
        from ..checking.adapters.reading import where

        raise notebooks.raised_on_import(f"importing {where(exc) or path}", exc) from None
    if packaged is not None:
        return packaged, path
    module_name = f"gradviz_user_{abs(hash(str(path.resolve())))}"
    if module_name in sys.modules:
        return sys.modules[module_name], path
    notebook = path.suffix == notebooks.SUFFIX
    spec = None if notebook else importlib.util.spec_from_file_location(module_name, path)
    module = types.ModuleType(module_name) if notebook else importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        notebooks.run_notebook(path, module) if notebook else spec.loader.exec_module(module)
    except GradvizError:
        del sys.modules[module_name]
        raise
    except SyntaxError as exc:
        del sys.modules[module_name]
        raise GradvizError(f"syntax error in {path}:{exc.lineno}: {exc.msg}", kind="syntax") from None
    except SystemExit as exc:  # a script's last line run on import would end gradviz with the script's code
        del sys.modules[module_name]
        where = _line_in(path, exc)
        raise GradvizError(f"importing {where} called sys.exit({exc.code!r}): put the file's script part under "
                           "`if __name__ == \"__main__\":` so that importing it only defines things",
                           kind="import_raised") from None
    except Exception as exc:
        del sys.modules[module_name]
        raise notebooks.raised_on_import(f"importing {_line_in(path, exc)}", exc) from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module, path


def defined_names(module) -> list[str]:
    return [n for n, v in vars(module).items() if not n.startswith("_") and
            (inspect.isfunction(v) or inspect.isclass(v)) and getattr(v, "__module__", "") == module.__name__]


def load(target: str) -> tuple[Any, str, Path]:
    """Import path/file.py, a notebook, or pkg.mod, and return (object NAME, NAME, path)."""
    target = packages.as_file_target(target) if packages.is_module_target(target) else target
    path_text, _, name = target.rpartition(":") if names_a_file(target) else (target, "", "")
    if not name:
        raise GradvizError(f"which object in {path_text}? give path/to/file.py:NAME")
    module, path = load_module(path_text)
    if not hasattr(module, name):
        available = defined_names(module)
        raise GradvizError(f"{path} has no {name!r}" + (f"; it defines {', '.join(available)}" if available else "")
                           + notebooks.cut_short(path), kind="missing_name")
    return getattr(module, name), name, path


def split_target(target: str) -> list[tuple[str, str]]:
    """"f.py:fwd,bwd" and "a.py:fwd,b.py:bwd" -> [(path, name), ...]; a name without a file uses the previous file."""
    parts: list[tuple[str, str]] = []
    path = None
    for piece in target.split(","):
        piece = piece.strip()
        if names_a_file(piece):
            path, _, name = piece.rpartition(":")
        elif path is None:
            raise GradvizError(f"{target!r}: give path/to/file.py:NAME (or FILE:FORWARD,BACKWARD)")
        else:
            name = piece
        if not name.isidentifier():
            raise GradvizError(f"{target!r}: {name!r} is not a name; write FILE:NAME or FILE:FORWARD,BACKWARD")
        parts.append((path, name))
    if len(parts) > 2:
        raise GradvizError(f"{target!r} names {len(parts)} objects; give one (FILE:NAME) or two (FILE:FORWARD,BACKWARD)")
    return parts


# FILE:STEM finds a pair by these spellings; FILE:NAME of a function also finds NAME's gradient function.
PAIR_SPELLINGS = (("{}_forward", "{}_backward"), ("forward_{}", "backward_{}"), ("{}_fwd", "{}_bwd"),
                  ("{}_forward_naive", "{}_backward_naive"))
GRADIENT_SPELLINGS = ("{}_backward", "{}_prime", "{}_grad", "{}_gradient", "{}_derivative", "d_{}", "grad_{}")


def resolve(target: str) -> tuple[Any, Any, str, Path]:
    """The object(s) a target names: (first, second or None, label, path of the first)."""
    target = packages.as_file_target(target) if packages.is_module_target(target) else target
    parts = split_target(target)
    if len(parts) == 2:
        (p1, n1), (p2, n2) = parts
        first, _, path = load(f"{p1}:{n1}")
        second, _, _ = load(f"{p2}:{n2}")
        return first, second, f"{n1},{n2}", path
    path_text, name = parts[0]
    module, path = load_module(path_text)
    obj = getattr(module, name, None)
    candidates = [(f.format(name), b.format(name)) for f, b in PAIR_SPELLINGS]
    if obj is None or not (inspect.isclass(obj) or not callable(obj)):
        candidates += [(name, g.format(name)) for g in GRADIENT_SPELLINGS] if obj is not None else []
    found = [(f, b) for f, b in candidates if callable(getattr(module, f, None)) and callable(getattr(module, b, None))]
    if len(found) > 1:
        raise GradvizError(f"{path}:{name} is ambiguous: it could be {found[0][0]},{found[0][1]} or "
                           f"{found[1][0]},{found[1][1]}; name both: {path}:FORWARD,BACKWARD")
    if found:
        f, b = found[0]
        return getattr(module, f), getattr(module, b), f"{f},{b}", path
    half = _half_of_a_pair(module, name) if inspect.isfunction(obj) else None
    if half:
        stem, fwd, bwd = half
        raise GradvizError(f"{path}:{name} is one half of the pair {fwd}/{bwd}: check the two together, "
                           f"{path}:{fwd},{bwd} (or {path}:{stem})")
    if obj is None:
        available = defined_names(module)
        raise GradvizError(f"{path} has no {name!r}" + (f"; it defines {', '.join(available)}" if available else "")
                           + f" (and no pair {name}_forward/{name}_backward)" + notebooks.cut_short(path),
                           kind="missing_name")
    return obj, None, name, path


def _half_of_a_pair(module, name: str) -> tuple[str, str, str] | None:
    """affine_forward (or affine_backward) named alone while the module defines its partner: (stem, fwd, bwd)."""
    for spellings in PAIR_SPELLINGS:
        for spelling in spellings:
            prefix, _, suffix = spelling.partition("{}")
            stem = name[len(prefix):len(name) - len(suffix)]
            if not (stem and name == spelling.format(stem)):
                continue
            fwd, bwd = (s.format(stem) for s in spellings)
            if callable(getattr(module, fwd, None)) and callable(getattr(module, bwd, None)):
                return stem, fwd, bwd
    return None


def _line_in(path: Path, exc: BaseException) -> str:
    """`path:line` of the deepest frame of the user's file in a traceback (the file itself when none)."""
    target = path.resolve()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == target]
    return f"{path}:{frames[-1].lineno}" if frames else str(path)
