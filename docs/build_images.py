"""Redraw the pictures that static pages show (the README on GitHub, the site's home page).

    python docs/build_images.py            # rewrite docs/images/*.svg and their .dot sources
    python docs/build_images.py --check    # exit 1 if a committed .dot is out of date

Tutorials need no image files: their drawings are made when the site is built
(docs/hooks.py). A static picture is a drawing a tutorial makes, written here
together with its DOT source; the test suite compares the DOT (the SVG bytes
depend on the Graphviz version, the DOT text does not).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
IMAGES = DOCS / "images"
sys.path.insert(0, str(DOCS))

import pages  # noqa: E402  (docs/pages.py)

code_blocks = pages.code_blocks  # a page's python blocks, as before the pages ran at build time

# image file -> (the page that makes it, how to draw it from the page's namespace)
STATIC = {
    "neuron_checked.svg": ("tutorial-1-first-graph.md", lambda ns: ns["report"].draw()),
}


def drawings() -> dict:
    """{image name: Drawing}, each made by running its page."""
    namespaces: dict[str, dict] = {}
    out = {}
    for name, (page, make) in STATIC.items():
        if page not in namespaces:
            namespaces[page] = pages.run_page(DOCS / page).namespace
        out[name] = make(namespaces[page])
    return out


def stale(made: dict) -> list[str]:
    """Images whose committed DOT source differs from what their page draws now."""
    return [name for name, drawing in made.items()
            if not (IMAGES / (Path(name).stem + ".dot")).exists()
            or (IMAGES / (Path(name).stem + ".dot")).read_text() != drawing.source]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date images")
    args = parser.parse_args(argv)
    made = drawings()
    if args.check:
        old = stale(made)
        if old:
            print("out of date (run python docs/build_images.py): " + ", ".join(old))
        return 1 if old else 0
    IMAGES.mkdir(exist_ok=True)
    for name, drawing in made.items():
        (IMAGES / name).write_bytes(drawing.pipe("svg"))
        (IMAGES / (Path(name).stem + ".dot")).write_text(drawing.source)
        print(f"images/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
