"""gradviz: an autograd engine whose graphs are drawn and whose gradients are verified.

See README.md for the quickstart and docs/ for the tutorials.
"""

from __future__ import annotations

from importlib import import_module as _import_module
from typing import Any as _Any

# The engine is imported at once; checking (SymPy), drawing (graphviz), networkx and torch only on first use,
# so that `import gradviz` and `gradviz --help` start about as fast as numpy (benchmarks/bench_startup.py).
from . import functional as F
from . import nn, ops, optim
from .errors import GradvizError, GradvizTypeError, NumericWarning, PrecisionWarning, ShapeError
from .function import Function
from .functional import concatenate, stack, where
from .graph import scope, to_networkx, topological_order
from .tensor import Tensor
from .value import Value

__version__ = "0.1.0"

# Where each lazily imported public name lives.
_LAZY = {
    "check": ".checking.core",
    "check_grad_fn": ".checking.handwritten", "check_layer": ".checking.handwritten",
    "check_loss": ".checking.handwritten", "check_function": ".checking.handwritten",
    "check_pair": ".checking.handwritten",
    "check_optimizer": ".checking.optimizers",
    "check_engine": ".checking.engines",
    "Report": ".checking.report",
    "symbolic": ".checking.symbolic",
    "draw": ".front", "render": ".front", "animate_backward": ".rendering",
    "GradientError": ".testing", "assert_grad_fn": ".testing", "assert_gradients": ".testing",
    "assert_layer": ".testing", "assert_loss": ".testing", "assert_pair": ".testing",
}


def __getattr__(name: str) -> _Any:
    """Public names of the slower parts, imported on first use (gv.torch: it alone needs PyTorch)."""
    if name == "torch":
        return _import_module(".torch", __name__)
    if name in _LAZY:
        value = getattr(_import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gradviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"torch"})


def _draw_lazily(*args: _Any, **kwargs: _Any) -> _Any:
    return _import_module(".rendering", __name__).draw(*args, **kwargs)


def _graph_html(root: _Any) -> str:
    return _import_module(".rendering.jupyter", __name__).graph_html(root)


# Report.draw() and a Value or Tensor shown in Jupyter work before anything has imported rendering.
from . import hooks as _hooks  # noqa: E402

_hooks.DRAWER.setdefault("draw", _draw_lazily)
Value._repr_html_ = Tensor._repr_html_ = _graph_html

__all__ = [
    "F",
    "animate_backward",
    "Function",
    "Report",
    "check",
    "check_grad_fn",
    "check_layer",
    "check_loss",
    "check_function",
    "check_pair",
    "check_optimizer",
    "check_engine",
    "symbolic",
    "GradvizError",
    "GradvizTypeError",
    "NumericWarning",
    "PrecisionWarning",
    "ShapeError",
    "Tensor",
    "Value",
    "__version__",
    "concatenate",
    "nn",
    "optim",
    "draw",
    "render",
    "ops",
    "scope",
    "stack",
    "to_networkx",
    "topological_order",
    "where",
]

# Gradient checks as test assertions (issue #17); the pytest plugin lives in gradviz.pytest_plugin.
__all__ += ["GradientError", "assert_grad_fn", "assert_gradients", "assert_layer", "assert_loss", "assert_pair"]
