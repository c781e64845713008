"""The command line's torch targets: `gradviz check file.py:MyFunction` and `file.py:fn`, and `gradviz render`.

gradviz.targets asks this module first, and only when the user's file has
imported torch. Arguments come from --input, --args, a `gradviz_inputs` dict
and forward's defaults; inputs.py says which become tensors (arrays) and which
stay Python constants (numbers, settings), as torch.autograd.gradcheck has it.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import torch

from ..checking.report import Report
from . import inputs as torch_inputs
from .checker import check
from .tracer import record


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


def arguments(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int,
              settings: dict | None = None) -> tuple[list, list[str]]:
    """forward's arguments in order (tensors to differentiate, data and constants) and the notes about them."""
    args = torch_inputs.build(obj, name, module_inputs, overrides, settings or {}, seed)
    return torch_inputs.confirmed(obj, args), args.notes


def check_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str],
                 options: dict, settings: dict | None = None) -> Report:
    values, notes = arguments(obj, name, module_inputs, overrides, options.get("seed", 0), settings)
    report = check(obj, *values, name=name, **options)
    report.notes.extend(n for n in notes if n not in report.notes)
    return report


def graph_target(obj: Any, name: str, module_inputs: dict | None, overrides: dict[str, str], seed: int,
                 settings: dict | None = None):
    values, _ = arguments(obj, name, module_inputs, overrides, seed, settings)
    return record(obj, *values)
