"""SVG for web pages and notebooks: inline markup that shrinks to its container.

Graphviz writes a fixed size in points (`width="825pt"`), so a wide graph
overflows a notebook cell or a docs column and gets clipped. Inline, the
picture takes the container's width but never more than its natural size,
and keeps its aspect ratio through the viewBox.
"""

from __future__ import annotations

import re

_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def inline_svg(svg: str) -> str:
    """Graphviz SVG without its XML prologue, sized to fit its container (at most its natural size)."""
    svg = svg[svg.index("<svg"):]
    return _SIZE.sub(lambda m: f'<svg width="100%" style="max-width: {m.group(1)}pt" '
                               f'data-natural-width="{m.group(1)}pt"', svg, count=1)


def natural_width_pt(svg: str) -> float:
    """The width Graphviz laid the picture out at, in points."""
    match = re.search(r'data-natural-width="([\d.]+)pt"', svg) or _SIZE.search(svg)
    return float(match.group(1))
