"""gradviz: an autograd engine whose graphs are drawn and whose gradients are verified.

See README.md for the quickstart and docs/ for the tutorials.
"""

from __future__ import annotations

from . import functional as F
from . import nn, ops, optim
from .checking.core import check
from .checking.handwritten import check_grad_fn, check_layer, check_loss
from .checking.handwritten import check_function, check_pair
from .checking.optimizers import check_optimizer
from .checking.engines import check_engine
from .checking.report import Report
from .checking.symbolic import symbolic
from .errors import GradvizError, GradvizTypeError, NumericWarning, PrecisionWarning, ShapeError
from .function import Function
from .graph import scope, to_networkx, topological_order
from .rendering import animate_backward, draw, render
from .functional import concatenate, stack, where
from .tensor import Tensor
from .value import Value

__version__ = "0.1.0"


def __getattr__(name: str):
    """gv.torch is imported on first use: it alone needs PyTorch (pip install torch)."""
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'gradviz' has no attribute {name!r}")

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
from .testing import (GradientError, assert_grad_fn, assert_gradients, assert_layer, assert_loss,  # noqa: E402
                      assert_pair)

__all__ += ["GradientError", "assert_grad_fn", "assert_gradients", "assert_layer", "assert_loss", "assert_pair"]
