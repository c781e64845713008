"""gv.torch: check, record and draw PyTorch code with gradviz's verdicts (optional: needs PyTorch, pip install torch).

    report = gv.torch.check(fn, *tensors)      # torch's own backward against finite differences (and SymPy)
    root = gv.torch.record(model, x)           # the torch computation as a gradviz graph
    gv.torch.draw(root)                        # values, gradients, shapes, module clusters

Nothing outside this subpackage imports torch: gradviz works without it.
"""

from __future__ import annotations

try:
    import torch as _torch  # noqa: F401
except ImportError:  # pragma: no cover - exercised in a subprocess without torch
    raise ImportError(
        "gv.torch needs PyTorch, which is not installed: pip install torch "
        "(gradviz is tested with torch 2.13.0; from a gradviz checkout, pip install '.[torch]' installs it)"
    ) from None

from .checker import check
from .drawing import draw
from .tracer import record, recording

__all__ = ["check", "draw", "record", "recording"]
