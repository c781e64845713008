"""Independent random streams for everything a check draws.

Inputs, parameters, cotangents and probe directions must never come from the
same stream: with one seed for all, a square input equals its own upstream
gradient (x == dZ) and a transposed dW = dZ.T @ x passes. Each purpose gets
its own generator, derived from the seed and the purpose's name.
"""

from __future__ import annotations

import zlib

import numpy as np

INPUTS, PARAMETERS, COTANGENT, DIRECTIONS, TARGETS = "inputs", "parameters", "cotangent", "directions", "targets"
SPREAD = "inputs spread over scales"  # the second draw of piecewise code (targets/running.py)


def stream(seed: int, purpose: str) -> np.random.Generator:
    """A generator for one purpose; the same (seed, purpose) always gives the same numbers."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(purpose.encode())])
