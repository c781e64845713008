"""Turning DOT text into pictures, after a plain `pip install`.

The `graphviz` PyPI package only writes DOT and shells out to a `dot` binary
that pip does not install. gradviz tries, in order: the renderer named by
GRADVIZ_RENDERER (or the `renderer` argument); the system `dot` on PATH; the
embedded renderer (the `graphviz-pure` wheel, a static build of dot that pip
installs with gradviz); pygraphviz. When none can produce the format, one
error says what was tried and how to install Graphviz.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..errors import GradvizError, ProgramRefused

RENDERERS = ("dot", "embedded", "pygraphviz")
FORMATS = ("svg", "png", "pdf", "jpeg", "jpg")
EMBEDDED_FORMATS = ("svg", "png", "jpeg", "jpg")
TIMEOUT_S = 120

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "Windows: winget install graphviz) or `pip install graphviz-pure`; the DOT text is still available "
    "as draw(...).source"
)


def dot_executable() -> str | None:
    """The system Graphviz `dot`, if it is on PATH."""
    return shutil.which("dot")


def embedded_executable() -> str | None:
    """The `graphviz-pure` executable of the running environment, even if the venv is not activated."""
    names = ("graphviz-pure.exe", "graphviz-pure") if os.name == "nt" else ("graphviz-pure",)
    folders = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in folders:
        for name in names:
            candidate = folder / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which("graphviz-pure")


def available() -> list[str]:
    """The renderers that can run here, in order of preference."""
    found = []
    if dot_executable():
        found.append("dot")
    if embedded_executable():
        found.append("embedded")
    if importlib.util.find_spec("pygraphviz") is not None:
        found.append("pygraphviz")
    return found


def _candidates(fmt: str, renderer: str | None) -> list[str]:
    forced = renderer or os.environ.get("GRADVIZ_RENDERER") or None
    if forced:
        if forced not in RENDERERS:
            raise GradvizError(f"unknown renderer {forced!r}; choose one of {', '.join(RENDERERS)}")
        return [forced]
    return [r for r in available() if r != "embedded" or fmt in EMBEDDED_FORMATS]


def render_source(source: str, fmt: str, renderer: str | None = None) -> bytes:
    """Lay out and render DOT text to `fmt` bytes with the first renderer that can."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise GradvizError(f"cannot render the format {fmt!r}; gradviz renders {', '.join(FORMATS)} and .dot")
    candidates = _candidates(fmt, renderer)
    tried, refused = [], []
    for name in candidates:
        try:
            return _RUN[name](source, fmt)
        except _Unavailable as why:
            tried.append(f"{name} ({why})")
            refused += [name] if isinstance(why, _Refused) else []
    if refused and len(refused) == len(tried):
        raise ProgramRefused(f"this process may not start programs (a grading sandbox refuses them), and the renderers "
                             f"here are programs ({', '.join(refused)}): nothing was drawn; the DOT text is still "
                             "available as draw(...).source")
    if not tried:
        tried = [_why_not(name, fmt) for name in RENDERERS]
    if fmt == "pdf" and embedded_executable() and not dot_executable():
        raise GradvizError("PDF needs the system Graphviz: the embedded renderer (graphviz-pure, installed) writes "
                           "svg, png and jpeg but not pdf, and no system `dot` is on PATH. Install Graphviz "
                           "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; Windows: "
                           "winget install graphviz), or write .svg (a browser prints it to PDF) or .png")
    raise GradvizError(f"no renderer could produce {fmt}: tried {'; '.join(tried)}. To fix it, {INSTALL_HINT}")


def _why_not(name: str, fmt: str) -> str:
    """What is missing for one renderer, as it is on this machine."""
    if name == "dot":
        return "system dot (not on PATH)"
    if name == "embedded":
        if embedded_executable() is None:
            return "embedded graphviz-pure (not installed)"
        return f"embedded graphviz-pure (installed, but it cannot write {fmt})"
    return "pygraphviz (not installed)"


class _Unavailable(Exception):
    pass


class _Refused(_Unavailable):
    """The renderer is a program and this process may not start one."""


def _run_binary(exe: str | None, what: str, source: str, fmt: str) -> bytes:
    if exe is None:
        raise _Unavailable(f"{what} not found")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise _Unavailable(f"{what} did not finish within {TIMEOUT_S} s (draw fewer nodes: collapse=...)") from None
    except PermissionError as exc:
        if exc.errno == errno.EPERM:  # no program may start here (a sandbox): not a missing install
            raise _Refused(f"{what} could not start: {exc}") from None
        raise _Unavailable(f"{what} could not start: {exc}") from None
    except OSError as exc:
        raise _Unavailable(f"{what} could not start: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise _Unavailable(f"{what} failed: {message[-1] if message else f'exit code {done.returncode}'}")
    return done.stdout


def _run_dot(source: str, fmt: str) -> bytes:
    return _run_binary(dot_executable(), "system dot", source, fmt)


def _run_embedded(source: str, fmt: str) -> bytes:
    if fmt not in EMBEDDED_FORMATS:
        raise _Unavailable(f"the embedded renderer cannot write {fmt}")
    return _run_binary(embedded_executable(), "embedded graphviz-pure", source, fmt)


def _run_pygraphviz(source: str, fmt: str) -> bytes:
    try:
        import pygraphviz
    except ImportError:
        raise _Unavailable("pygraphviz is not installed") from None
    graph = pygraphviz.AGraph(string=source)
    return graph.draw(format=fmt, prog="dot")


_RUN = {"dot": _run_dot, "embedded": _run_embedded, "pygraphviz": _run_pygraphviz}
