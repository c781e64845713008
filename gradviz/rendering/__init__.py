"""Rendering: recorded graphs as Graphviz pictures, with check verdicts drawn on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..checking.report import register_drawer
from ..errors import GradvizError
from . import slides
from .animate import animate_backward
from .backends import FORMATS, available, render_source
from .dot import Drawing, draw
from .jupyter import install as _install_notebook_display

register_drawer(draw)
_install_notebook_display()

__all__ = ["Drawing", "animate_backward", "available", "draw", "render", "render_source"]


def check_path(path: str | Path) -> tuple[Path, str]:
    """The path to write and its format, refused with one message before any drawing is done."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS + ("dot", "gv"):
        raise GradvizError(f"cannot write {path.name}: unknown format {path.suffix or '(no extension)'}; "
                           f"use one of .svg .png .pdf .jpeg .dot")
    if not path.parent.exists():
        raise GradvizError(f"cannot write {path}: the folder {path.parent} does not exist")
    return path, fmt


def render(root: Any, path: str | Path, *, renderer: str | None = None, dpi: float | None = None,
           scale: float | None = None, landscape: bool = False, **draw_options: Any) -> Path:
    """Draw the graph behind `root` (or write a Drawing made already) to `path`; the extension picks the format.

    .svg, .png, .jpeg and .pdf are rendered; .dot writes the DOT text itself. For slides: `dpi` sets the
    PNG/JPEG resolution (96 by default), `scale` multiplies the natural size in every rendered format,
    `landscape` lays the graph out left to right so that a chain of ops comes out wider than tall.
    """
    path, fmt = check_path(path)
    slides.check_options(dpi, scale)
    draw_options = slides.layout_options(draw_options, landscape)
    drawing = root if isinstance(root, Drawing) else draw(root, **draw_options)
    source = drawing.source
    if slides.needs_options(fmt, dpi, scale):
        natural = slides.natural_size_pt(render_source(source, "svg", renderer).decode()) if scale else None
        source = slides.with_output_options(source, fmt, natural, dpi, scale)
    data = source.encode() if fmt in ("dot", "gv") else render_source(source, fmt, renderer)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise GradvizError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
