"""Where a file target's code comes from: a file on its own, a file inside a package, or a module path.

`gradviz check pkg/sub/mod.py:NAME` imports the file as `pkg.sub.mod` when its
folders are packages (they hold __init__.py), so its relative imports work;
`gradviz check pkg.sub.mod:NAME` names the module as Python would, found from
the working directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path

from ..errors import GradvizError

MODULE_TARGET = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)?$")


def is_module_target(target: str) -> bool:
    """pkg.sub.mod:NAME or pkg.mod:FORWARD,BACKWARD (a dotted module path, never a .py file or a notebook)."""
    return ".py" not in target and ".ipynb" not in target and bool(MODULE_TARGET.match(target.strip()))


def as_file_target(target: str) -> str:
    """pkg.sub.mod:NAME -> /abs/pkg/sub/mod.py:NAME, found from the working directory like `python -m`."""
    module, _, names = target.strip().partition(":")
    with _on_path(os.getcwd()):
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError) as exc:
            raise GradvizError(f"{target}: the module {module} cannot be found ({exc}); run gradviz from the folder "
                               "it is imported from, or give path/to/file.py:NAME") from None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise GradvizError(f"{target}: no module {module} is importable from {os.getcwd()}; run gradviz from the "
                           "folder it is imported from, or give path/to/file.py:NAME")
    return f"{spec.origin}:{names}"


def package_name(path: Path) -> tuple[str, Path] | None:
    """('pkg.sub.mod', the folder above pkg) when the file sits in packages, else None."""
    path = path.resolve()
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1 or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts), folder


def import_in_package(path: Path):
    """Import a file as the module its packages make it, so `from .utils import x` works."""
    found = package_name(path)
    if found is None:
        return None
    name, root = found
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) and \
            Path(sys.modules[name].__file__).resolve() == path.resolve():
        return sys.modules[name]
    with _on_path(str(root)):
        return importlib.import_module(name)


class _on_path:
    """A folder first on sys.path while user code is imported."""

    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self):
        sys.path.insert(0, self.folder)

    def __exit__(self, *exc):
        if self.folder in sys.path:
            sys.path.remove(self.folder)
        return False
