"""The command line's torch targets: `gradviz check file.py:MyFunction` and `file.py:fn`, and `gradviz render`.

gradviz.targets asks this module first, and only when the user's file has
imported torch. Inputs come from --input exactly as for other file targets
(a number, or a shape for a seeded random array), as float64 torch tensors.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import numpy as np
import torch

from ..checking.report import Report
from ..targets.inputs import function_inputs as target_inputs  # the CLI's own reading of --input
from ..tensor import Tensor
from .checker import check
from .tracer import function_inputs, record


def handles(obj: Any) -> bool:
    """A torch.autograd.Function subclass, an nn.Module, or a function from a file that imports torch."""
    if isinstance(obj, type):
        return issubclass(obj, torch.autograd.Function)
    if isinstance(obj, torch.nn.Module):
        return True
    if inspect.isfunction(obj):
        return any(isinstance(v, types.ModuleType) and (v.__name__ == "torch" or v.__name__.startswith("torch."))
                   for v in obj.__globals__.values())
    return False


def _signature_of(obj: Any):
    """What function_inputs reads: forward's parameters without ctx for a Function, else the function's own."""
    if isinstance(obj, type):
        params = function_inputs(obj)

        def forward(*args):  # pragma: no cover - only its signature is read
            return None
        forward.__signature__ = inspect.Signature(params)
        forward.gradviz_inputs = getattr(obj, "gradviz_inputs", None)
        return forward
    return obj


def inputs(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int) -> list:
    values = target_inputs(_signature_of(obj), name, module_inputs, overrides, seed)
    return [torch.from_numpy(np.array(v.data, dtype=np.float64)) if isinstance(v, Tensor)
            else torch.tensor(float(v.data), dtype=torch.float64) for v in values]


def check_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str],
                 options: dict) -> Report:
    return check(obj, *inputs(obj, name, module_inputs, overrides, options.get("seed", 0)), name=name, **options)


def graph_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int):
    return record(obj, *inputs(obj, name, module_inputs, overrides, seed))
