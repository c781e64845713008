"""Drawing: a graphviz.Digraph that renders with gradviz's backends (no system Graphviz needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import graphviz

from .backends import render_source
from .svg import inline_svg, notebook_bundle


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that renders with gradviz's backends (no system Graphviz needed).

    It displays inline in Jupyter like any Digraph; `.source` is the DOT text.
    """

    def pipe(self, format: str | None = None, *args, encoding: str | None = None, **kwargs):  # noqa: A002
        data = render_source(self.source, format or self.format or "svg", kwargs.get("renderer"))
        return data.decode(encoding) if encoding else data

    def render(self, filename=None, directory=None, view: bool = False, cleanup: bool = False,  # noqa: A002
               format: str | None = None, renderer: str | None = None, outfile=None, **_: Any) -> str:
        """Write the DOT file and the picture beside it, as graphviz's render() does, with gradviz's renderers.

        (graphviz's own render() needs a system `dot`; this one also works with
        the embedded renderer.) Returns the picture's path.
        """
        if outfile is not None:
            picture = Path(outfile)
            fmt = format or picture.suffix.lstrip(".") or "svg"
            source_path = picture.with_suffix(".gv")
        else:
            fmt = format or self.format or "svg"
            source_path = Path(directory or self.directory or ".") / (filename or self.filename)
            picture = source_path.with_name(f"{source_path.name}.{fmt}")
        picture.parent.mkdir(parents=True, exist_ok=True)
        picture.write_bytes(render_source(self.source, fmt, renderer))
        if not cleanup:
            source_path.write_text(self.source, encoding="utf-8")
        if view:
            graphviz.view(str(picture))
        return str(picture)

    def view(self, filename=None, directory=None, cleanup: bool = False, **kwargs: Any) -> str:  # noqa: D102
        return self.render(filename, directory, view=True, cleanup=cleanup, **kwargs)

    def svg(self) -> str:
        """Inline SVG markup that shrinks to fit its container (a notebook cell, a docs column)."""
        return inline_svg(self.pipe("svg", encoding="utf-8"))

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None, **_) -> dict:
        return notebook_bundle(self.pipe("svg", encoding="utf-8"))

