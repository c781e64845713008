"""Rendering: recorded graphs as Graphviz pictures, with check verdicts drawn on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..checking.report import register_drawer
from ..errors import GradvizError
from .animate import animate_backward
from .backends import FORMATS, available, render_source
from .dot import Drawing, draw
from .jupyter import install as _install_notebook_display

register_drawer(draw)
_install_notebook_display()

__all__ = ["Drawing", "animate_backward", "available", "draw", "render", "render_source"]


def render(root: Any, path: str | Path, *, renderer: str | None = None, **draw_options: Any) -> Path:
    """Draw the graph behind `root` and write it to `path`; the extension picks the format.

    .svg, .png, .jpeg and .pdf are rendered; .dot writes the DOT text itself.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS + ("dot", "gv"):
        raise GradvizError(f"cannot write {path.name}: unknown format {path.suffix or '(no extension)'}; "
                           f"use one of .svg .png .pdf .jpeg .dot")
    if not path.parent.exists():
        raise GradvizError(f"cannot write {path}: the folder {path.parent} does not exist")
    drawing = draw(root, **draw_options)
    data = drawing.source.encode() if fmt in ("dot", "gv") else render_source(drawing.source, fmt, renderer)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise GradvizError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
