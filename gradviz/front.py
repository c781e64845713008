"""gv.draw and gv.render for every kind of root: gradviz's own graphs and, without recording, torch tensors.

Rendering sits below the front ends and never imports them; this top-level module is where a torch tensor
is handed to gv.torch (imported only then, so gradviz without torch is unaffected, and `import gradviz`
stays lean: gradviz/__init__.py imports this module on first use of gv.draw or gv.render).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

from . import rendering
from .rendering import slides


def _is_torch_tensor(root: Any) -> bool:
    return type(root).__module__.partition(".")[0] == "torch" and hasattr(root, "grad_fn")


@functools.wraps(rendering.draw)
def draw(root: Any, *args: Any, **options: Any) -> rendering.Drawing:
    if _is_torch_tensor(root):  # torchviz's make_dot(y): gv.torch.draw walks the recorded graph or grad_fn
        return importlib.import_module("gradviz.torch").draw(root, *args, **options)
    return rendering.draw(root, *args, **options)  # its warnings name the user's line (errors.warn_at_user)


@functools.wraps(rendering.render)
def render(root: Any, path: str | Path, *, renderer: str | None = None, dpi: float | None = None,
           scale: float | None = None, landscape: bool = False, **draw_options: Any) -> Path:
    if _is_torch_tensor(root):
        rendering.check_path(path)
        slides.check_options(dpi, scale)
        options = slides.layout_options(draw_options, landscape)
        root = importlib.import_module("gradviz.torch").draw(root, **options)
        draw_options, landscape = {}, False
    return rendering.render(root, path, renderer=renderer, dpi=dpi, scale=scale, landscape=landscape,
                            **draw_options)
