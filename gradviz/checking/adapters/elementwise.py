"""Is a function elementwise? The one property that makes `f_prime(x)` a gradient when f returns an array.

`sigmoid(z)` with `sigmoid_prime(z)`, `relu` with `relu_derivative`: students pair an activation with its
derivative, both returning arrays. Such a derivative is the diagonal of f's Jacobian, and it is the whole
gradient information only when f is elementwise (output i depends on input i alone). That is a property of
f, right or wrong derivative alike, so gradviz tests it before reading the pair this way; a function whose
outputs mix inputs (softmax, per-sample losses) leaves "the derivative" undefined and is refused, never failed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ...errors import GradvizError
from ..streams import stream

PROBES = 4  # single elements moved, each must change its own output alone


def elementwise_or_refuse(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, fname: str,
                          gname: str, target: str) -> None:
    """Return when f(x) = y is elementwise in x; otherwise a GradvizError saying how to check the pair."""
    if y.shape == x.shape and _elementwise(f, x, y):
        return
    raise GradvizError(
        f"{fname} returns an array of shape {y.shape}, not one number, and its elements "
        + ("are not one per element of " + target if y.shape != x.shape else f"mix several elements of {target}")
        + f", so which gradient {gname} returns is not defined: return one number from {fname} (the sum or mean "
        f"of what it returns now), or check it as a forward/backward pair whose backward takes the upstream "
        f"gradient (FILE.py:forward,backward; check_pair)")


def _elementwise(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray) -> bool:
    rng = stream(0, "elementwise")
    flat = x.reshape(-1)
    for i in rng.choice(flat.size, size=min(PROBES, flat.size), replace=False):
        moved = flat.copy()
        moved[i] += 1e-3 * (1.0 + abs(moved[i]))
        changed = np.flatnonzero(f(moved.reshape(x.shape)).reshape(-1) != y.reshape(-1))
        if changed.size and (changed.size > 1 or changed[0] != i):
            return False
    return True
