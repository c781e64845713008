"""SVG for web pages and notebooks: inline markup that shrinks to its container.

Graphviz writes a fixed size in points (`width="825pt"`), so a wide graph
overflows a notebook cell or a docs column and gets clipped. Inline, the
picture takes the container's width, never more than its natural size and
never so little that its text gets too small to read; it keeps its aspect
ratio through the viewBox.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


# Drawings use fonts of at least 10 pt (13.3 px at natural size): shrunk to no less than this
# share of their natural width, their text stays at 10 CSS px or more; a narrower container scrolls.
MIN_SCALE = 0.76


def inline_svg(svg: str) -> str:
    """Graphviz SVG without its XML prologue, sized to fit its container (at most its natural size)."""
    svg = svg[svg.index("<svg"):]

    def size(match: re.Match) -> str:
        width = float(match.group(1))
        return (f'<svg width="100%" style="max-width: {width:g}pt; min-width: {width * MIN_SCALE:.0f}pt" '
                f'data-natural-width="{width:g}pt"')

    return _SIZE.sub(size, svg, count=1)


def notebook_bundle(svg: str) -> dict[str, str]:
    """What a notebook shows: natural size, shrunk to the cell when wider, never stretched to fill it.

    JupyterLab and VS Code put `image/svg+xml` in an <img> (max-width: 100%); an SVG whose width is
    "100%" has no size of its own there and is stretched to the cell. So that one keeps Graphviz's
    size in points, and the HTML one (preferred where HTML is trusted) is the inline, shrinking SVG.
    """
    svg = svg[svg.index("<svg"):]
    html = f'<div class="gv-drawing" style="max-width:100%;overflow-x:auto">{inline_svg(svg)}</div>'
    return {"text/html": html, "image/svg+xml": svg}


def natural_width_pt(svg: str) -> float:
    """The width Graphviz laid the picture out at, in points."""
    match = re.search(r'data-natural-width="([\d.]+)pt"', svg) or _SIZE.search(svg)
    return float(match.group(1))


def with_legible_height(svg: str) -> str:
    """Inline SVG (from inline_svg) that states, as the CSS variable --gv-legible-height, the height below
    which its text would drop under 10 CSS px: a page that shrinks it to the screen's height stops there."""
    view = re.search(r'viewBox="[\d.-]+ [\d.-]+ [\d.]+ ([\d.]+)"', svg)
    if view is None:
        return svg
    return svg.replace('style="', f'style="--gv-legible-height: {float(view.group(1)) * MIN_SCALE:.0f}pt; ', 1)
