"""Pictures for slides: resolution, scale and orientation of a rendered graph.

Graphviz lays a graph out at its natural size in points (1/72 inch) and rasterizes
PNG/JPEG at 96 dpi: a small graph becomes a small, portrait image. Here `dpi` sets the
raster density, `scale` multiplies the picture's size in every format (through the
graph's `size` with "!", which Graphviz scales up as well as down), and `landscape`
lays the graph out left to right, so that a chain of ops comes out wider than tall.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import GradvizError

BITMAPS = ("png", "jpeg", "jpg")
DEFAULT_DPI = 96.0
DPI_RANGE = (10.0, 2400.0)
SCALE_RANGE = (0.05, 20.0)


def check_options(dpi: float | None, scale: float | None) -> None:
    """One readable message for a resolution or a scale that cannot be drawn."""
    if dpi is not None and not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise GradvizError(f"--dpi must be between {DPI_RANGE[0]:g} and {DPI_RANGE[1]:g} (dots per inch; 96 is "
                           f"the default, 192 doubles the pixels), got {dpi:g}")
    if scale is not None and not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        raise GradvizError(f"--scale must be between {SCALE_RANGE[0]:g} and {SCALE_RANGE[1]:g} (a factor on the "
                           f"natural size; 2 doubles it), got {scale:g}")


def layout_options(draw_options: dict[str, Any], landscape: bool) -> dict[str, Any]:
    """The drawing options with `landscape` turned into the left-to-right layout it means."""
    if not landscape:
        return draw_options
    asked = draw_options.get("rankdir")
    if asked not in (None, "auto", "LR", "RL"):
        raise GradvizError(f"--landscape lays the graph out left to right, but --rankdir {asked} asks for top to "
                           "bottom: give one of them")
    return {**draw_options, "rankdir": asked if asked in ("LR", "RL") else "LR"}


def needs_options(fmt: str, dpi: float | None, scale: float | None) -> bool:
    """Whether the DOT text needs graph attributes for `dpi` or `scale` in this format."""
    return fmt not in ("dot", "gv") and ((dpi is not None and fmt in BITMAPS) or scale not in (None, 1))


def with_output_options(source: str, fmt: str, natural_pt: tuple[float, float] | None,
                        dpi: float | None = None, scale: float | None = None) -> str:
    """DOT text with the graph attributes that give `dpi` and `scale` (natural_pt: the unscaled size)."""
    check_options(dpi, scale)
    extra = []
    if fmt in BITMAPS and dpi is not None:
        extra.append(f"dpi={dpi:g}")
    if scale is not None and scale != 1 and natural_pt is not None:
        width, height = (v * scale / 72.0 for v in natural_pt)  # Graphviz sizes are in inches
        extra.append(f'size="{width:.3f},{height:.3f}!"')
    if not extra:
        return source
    opening = re.search(r"\{\s*\n", source)
    return source[: opening.end()] + "".join(f"\t{a}\n" for a in extra) + source[opening.end():]


def natural_size_pt(svg: str) -> tuple[float, float]:
    """(width, height) in points of a Graphviz SVG, from its root element."""
    match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if match is None:
        raise GradvizError("the renderer's SVG has no size in points, so --scale cannot be applied")
    return float(match.group(1)), float(match.group(2))
