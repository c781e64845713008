"""The known problem an optimizer is driven on: two parameters and a fixed sequence of gradients,
or a small quadratic for optimizers that ask for their gradients themselves.

The gradients change sign, span five orders of magnitude (tiny ones make eps
placement visible, large ones make a missing square visible) and differ
between the parameters (so state shared between them shows). Parameters and
gradients come from separate random streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..streams import PARAMETERS, stream

GRADIENTS = "optimizer gradients"
DEFAULT_SHAPES = {"W": (2, 3), "b": (3,)}
LAYERED_SHAPES = {"dense1.W": (3, 3), "dense1.b": (3,), "dense2.W": (3, 3), "dense2.b": (3,)}  # for code told
# which layer it updates
# gradient scales, cycled over the elements: tiny ones expose eps placement, large ones a missing square
_SCALES = np.array([1.0, 1e-4, 3.0, 0.2, 1.0, 1e-3, 2.0, 1e-4, 0.5])
_CURVATURE = np.array([1.0, 0.1, 4.0, 1e-3])


@dataclass
class Problem:
    """Where the parameters start and what gradient each step gets."""

    start: dict[str, np.ndarray]
    steps: int
    fixed: list[dict[str, np.ndarray]] = field(default_factory=list)  # one dict per step, or empty
    centre: np.ndarray | None = None  # the quadratic's minimum, when gradients come from it

    def gradients(self, step: int, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.fixed:
            return {k: g.copy() for k, g in self.fixed[step - 1].items()}
        return {k: quadratic_gradient(v, self.centre) for k, v in params.items()}


def quadratic_gradient(w: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """The gradient of 0.5 * sum(c * (w - centre)^2), curvatures c from 4 down to 1e-3."""
    return _CURVATURE * (np.asarray(w, dtype=np.float64) - centre)


def _scales(shapes: dict[str, tuple]) -> dict[str, np.ndarray]:
    out, offset = {}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape, dtype=int))
        out[name] = np.resize(np.roll(_SCALES, -offset), size).reshape(shape)
        offset += size
    return out


def fixed_gradients(seed: int, steps: int, start: dict[str, np.ndarray] | None = None,
                    shapes: dict[str, tuple] = DEFAULT_SHAPES) -> Problem:
    """Seeded parameters of `shapes` (or the user's own `start` values) and a fixed gradient per step."""
    if start is None:
        rng = stream(seed, PARAMETERS)
        start = {k: rng.normal(size=s) for k, s in shapes.items()}
    start = {k: np.array(v, dtype=np.float64) for k, v in start.items()}
    grng = stream(seed, GRADIENTS)
    scales = _scales({k: v.shape for k, v in start.items()})
    fixed = [{k: grng.normal(size=s.shape) * s for k, s in scales.items()} for _ in range(steps)]
    return Problem(start, steps, fixed=fixed)


def quadratic(seed: int, steps: int, name: str = "w") -> Problem:
    rng = stream(seed, PARAMETERS)
    return Problem({name: rng.normal(size=_CURVATURE.shape)}, steps, centre=rng.normal(size=_CURVATURE.shape))
