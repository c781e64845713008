"""Regenerate the pictures in docs/images from the tutorials' own code.

    python docs/build_images.py            # rewrite docs/images/*.svg and their .dot sources
    python docs/build_images.py --check    # exit 1 if a committed .dot is out of date

Every python block of a page runs in order, in one namespace, in a scratch
folder; each image the page writes with gv.render is copied here together with
its DOT source. The test suite runs the same pages and compares the DOT (the
SVG bytes depend on the Graphviz version; the DOT text does not).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def code_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


def pages() -> list[Path]:
    return sorted(p for p in DOCS.glob("*.md") if code_blocks(p))


@contextmanager
def recording_renders(sources: dict):
    """While active, gv.render also records the DOT source of every image it writes."""
    import gradviz as gv

    original = gv.render

    def render(root, path, **options):
        result = original(root, path, **options)
        drawing_options = {k: v for k, v in options.items() if k != "renderer"}
        sources[Path(path).name] = gv.draw(root, **drawing_options).source
        return result

    gv.render = render
    try:
        yield
    finally:
        gv.render = original


def run_page(path: Path, workdir: Path) -> dict[str, str]:
    """Execute a page's python blocks in workdir (which gets an images/ folder); return {image: DOT}."""
    (workdir / "images").mkdir(exist_ok=True)
    sources: dict[str, str] = {}
    namespace = {"__name__": "__docs__"}
    previous = os.getcwd()
    os.chdir(workdir)
    try:
        with recording_renders(sources):
            for number, block in enumerate(code_blocks(path), 1):
                exec(compile(block, f"{path.name}, python block {number}", "exec"), namespace)
    finally:
        os.chdir(previous)
    return sources


def stale_images(path: Path, sources: dict[str, str]) -> list[str]:
    """Images whose committed DOT source differs from what the page produces now."""
    return [name for name, dot in sources.items()
            if not (IMAGES / (Path(name).stem + ".dot")).exists()
            or (IMAGES / (Path(name).stem + ".dot")).read_text() != dot]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date images")
    args = parser.parse_args(argv)
    IMAGES.mkdir(exist_ok=True)
    stale = []
    for page in pages():
        with tempfile.TemporaryDirectory() as tmp:
            sources = run_page(page, Path(tmp))
            if args.check:
                stale += [f"{page.name}: {name}" for name in stale_images(page, sources)]
                continue
            for name, dot in sources.items():
                shutil.copyfile(Path(tmp) / "images" / name, IMAGES / name)
                (IMAGES / (Path(name).stem + ".dot")).write_text(dot)
                print(f"{page.name}: images/{name}")
    if stale:
        print("out of date (run python docs/build_images.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
