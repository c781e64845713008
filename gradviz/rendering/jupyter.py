"""Values and Tensors display their graph in Jupyter.

The engines sit below rendering and do not import it; rendering gives them
their notebook display here, the way it gives Report its drawer.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from ..value import Value
from .dot import draw


def graph_html(root: Any) -> str:
    """The graph behind `root`, as inline SVG that fits the cell (gradients may still be zero)."""
    return draw(root, warn_no_grad=False).svg()


def install() -> None:
    for engine in (Value, Tensor):
        engine._repr_html_ = graph_html
