"""A learnable number kept as a Python float (PReLU's `self.alpha = 0.25`), checked like any parameter.

The checker perturbs parameters in place, which a Python float cannot be. A number whose gradient the backward
assigns on self by the one name vocabulary (`self.dalpha = ...`, `self.alpha_grad`) is held as a 0-d float64
array while the layer is checked: it computes as the number did, and a reading that left it out would pass a
wrong `dalpha` without a word.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import numpy as np

from ..names import spellings


def scalar_parameters(obj: Any, backward: Any) -> list[str]:
    """The float attributes of obj whose gradient `backward` assigns on self, read from its source."""
    numbers = [k for k, v in vars(obj).items() if isinstance(v, (float, np.floating)) and not isinstance(v, bool)]
    if not numbers:
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(backward)))
    except (OSError, TypeError, SyntaxError):
        return []
    assigned = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                assigned.add(t.attr)
    return [k for k in numbers if any(s in assigned for s in spellings(k))]


def hold_as_arrays(obj: Any, names: list[str], notes: list[str]) -> None:
    """Each named float becomes a 0-d float64 array on obj (said in a note)."""
    for k in names:
        setattr(obj, k, np.array(float(getattr(obj, k)), dtype=np.float64))
    if names:
        cls = type(obj).__name__
        notes.append(f"{', '.join(f'{cls}.{k}' for k in names)}: a Python number whose gradient backward keeps "
                     "on self, held as a 0-d float64 array while it is checked")


def number_gradient(value: Any) -> np.ndarray | None:
    """A gradient kept as a Python or numpy number, as a 0-d array (for a parameter that is a number)."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return np.array(float(value))
    return None
