"""Running a docs page the way Jupyter runs a notebook: one namespace, cell by cell, output kept.

A page's ```python blocks are its cells. Each runs in the page's namespace, in
a scratch folder, and produces what a notebook cell would show: what it
printed, the warnings it raised, and the value of its last line when that line
is an expression (a drawing shows as its picture, a Report as its table, any
other value as its repr). The site (docs/hooks.py) puts that output under each
block at build time, the tests read the namespace a page leaves behind, and
`notebook(page)` turns the same page into a .ipynb to download.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import io
import json
import linecache
import os
import re
import tempfile
import warnings
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r"""exec=["']?(off|no|false|0)\b""", re.I)
REQUIRES = re.compile(r"<!--\s*requires:\s*([\w, ]+?)\s*-->")  # a page that needs an optional extra


def _runs(match: re.Match) -> bool:
    return not NOT_RUN.search(match.group(1))


def code_blocks(path: Path) -> list[str]:
    """The page's python blocks that run (all but those marked exec="off")."""
    return [m.group(2) for m in FENCE.finditer(Path(path).read_text()) if _runs(m)]


def missing_requirements(path: Path) -> list[str]:
    """Optional packages a page declares with <!-- requires: torch --> that are not installed."""
    found = REQUIRES.search(Path(path).read_text())
    names = [n.strip() for n in found.group(1).split(",")] if found else []
    return [n for n in names if importlib.util.find_spec(n) is None]


def pages() -> list[Path]:
    """Every docs page with python blocks whose requirements are installed: all of them are executed."""
    return sorted(p for p in DOCS.glob("*.md") if code_blocks(p) and not missing_requirements(p))


@dataclass
class Output:
    """What one cell showed: (kind, text) pieces, kind "text" or "html"."""

    pieces: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        """Everything shown as plain text (html pieces as their markup)."""
        return "".join(text for _, text in self.pieces)

    def html(self) -> str:
        parts = []
        for kind, text in self.pieces:
            if kind == "html":
                parts.append(f'<div class="gv-rich">{text}</div>')
            else:
                parts.append(f'<pre class="gv-text"><code>{html.escape(text.rstrip())}</code></pre>')
        return f'<div class="gv-output">{"".join(parts)}</div>' if parts else ""


def rich(value: Any) -> tuple[str, str]:
    """How a notebook shows `value`: its HTML, its SVG, or its repr."""
    for method in ("_repr_html_", "_repr_svg_"):
        shown = getattr(value, method, None)
        if callable(shown):
            markup = shown()
            if markup:
                return "html", markup
    bundle = getattr(value, "_repr_mimebundle_", None)
    if callable(bundle):
        data = bundle()
        for mime in ("text/html", "image/svg+xml"):
            if mime in data:
                return "html", data[mime]
    return "text", repr(value) + "\n"


class CellError(Exception):
    """A docs cell raised: the page is wrong, and the build and the tests say where."""


class Page:
    """One page's namespace and scratch folder; `run(code)` executes one cell."""

    def __init__(self, name: str, workdir: Path | None = None):
        self.name = name
        self.namespace: dict[str, Any] = {"__name__": "__docs__"}
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="gradviz-docs-")
        self.workdir = Path(workdir or self._tmp.name)
        self.outputs: list[Output] = []

    def run(self, code: str) -> Output:
        where = f"{self.name}, python block {len(self.outputs) + 1}"
        # as IPython does for a cell: its lines are known to tracebacks and to tools that quote code
        linecache.cache[where] = (len(code), None, code.splitlines(True), where)
        tree = ast.parse(code, where)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        output, stdout = Output(), io.StringIO()
        with _inside(self.workdir), redirect_stdout(stdout), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(tree, where, "exec"), self.namespace)
                value = eval(compile(ast.Expression(last.value), where, "eval"), self.namespace) if last else None
            except Exception as error:
                raise CellError(f"{where} raised {type(error).__name__}: {error}") from error
        if stdout.getvalue():
            output.pieces.append(("text", stdout.getvalue()))
        for w in caught:
            if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
                continue  # library internals; a notebook hides them too
            output.pieces.append(("text", f"{w.category.__name__}: {w.message}\n"))
        if value is not None:
            output.pieces.append(rich(value))
        self.outputs.append(output)
        return output


@contextmanager
def _inside(folder: Path):
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


EXECUTED: dict[str, Page] = {}  # page file name -> its run, kept by the site build and by run_page


def run_page(path: Path) -> Page:
    """Execute every python block of a page in order (its namespace and outputs are on the Page)."""
    page = Page(Path(path).name)
    for code in code_blocks(path):
        page.run(code)
    EXECUTED[page.name] = page
    return page


def notebook(path: Path) -> str:
    """The page as a Jupyter notebook (JSON): prose as markdown cells, python blocks as code cells."""
    text = Path(path).read_text()
    cells, position = [], 0
    for match in FENCE.finditer(text):
        prose = text[position:match.start()].strip()
        if prose:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": prose})
        if _runs(match):
            cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                          "source": match.group(2).rstrip("\n")})
        else:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": f"```python\n{match.group(2)}```"})
        position = match.end()
    if text[position:].strip():
        cells.append({"cell_type": "markdown", "metadata": {}, "source": text[position:].strip()})
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number}"
    document = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                             "language_info": {"name": "python"}}}
    return json.dumps(document, indent=1) + "\n"
