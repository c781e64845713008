"""One tolerance object for every check: the step, the two tolerances, strict mode, validated once.

The same rule judges every entry point: an element agrees when
|yours - reference| <= atol + rtol * |reference|. A step or tolerance that
cannot work is a usage error before any user code runs (eps <= 0, NaN, a step
that vanishes next to the input's own precision); a step so large that the
forward visibly curves across it is a warning in the report (probe.py measures
that, it needs the function).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import GradvizError, describe

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults
# A step must move the input by many units in the last place: below this many, x + eps rounds back to
# (nearly) x and the difference quotient is round-off, not a derivative.
MIN_STEP_ULPS = 64


@dataclass(frozen=True)
class Tolerance:
    """The finite-difference step and the agreement rule, as the user set them."""

    eps: float = EPS
    atol: float = ATOL
    rtol: float = RTOL
    strict: bool = False
    sweep: bool = False  # eps="sweep": check at the default step and tabulate the error against the step

    @classmethod
    def of(cls, eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL, strict: bool = False) -> "Tolerance":
        """Validate what the user gave (numbers, or eps="sweep") and build the Tolerance."""
        sweep = isinstance(eps, str) and eps == "sweep"
        step = EPS if sweep else eps
        for name, value, positive in (("eps", step, True), ("atol", atol, False), ("rtol", rtol, False)):
            number = _number(name, value)
            if not np.isfinite(number) or number < 0 or (positive and number == 0):
                need = "a positive step such as 1e-6" if positive else "a number >= 0 such as 1e-5"
                raise GradvizError(f"{name}={value!r} cannot be used: {name} must be {need}")
        return cls(float(step), float(atol), float(rtol), bool(strict), sweep)

    def agree(self, yours, reference):
        """The one rule, elementwise."""
        return np.abs(yours - reference) <= self.atol + self.rtol * np.abs(reference)

    def check_step(self, arrays: Sequence[np.ndarray], names: Sequence[str]) -> None:
        """A step that vanishes next to an input's magnitude is a usage error naming that input."""
        for name, array in zip(names, arrays):
            if array.size == 0:
                continue
            biggest = float(np.max(np.abs(array)))
            if not np.isfinite(biggest):
                continue  # non-finite inputs are reported as such by the pipeline
            floor = MIN_STEP_ULPS * float(np.spacing(max(biggest, 1.0)))
            if self.eps < floor:
                raise GradvizError(
                    f"eps={self.eps:g} is too small for {name}: its largest element is {biggest:.3g}, and a step "
                    f"below {floor:.2g} vanishes in float64 round-off (x + eps is x); use a step such as 1e-6")

    def settings(self) -> dict:
        return {"eps": self.eps, "atol": self.atol, "rtol": self.rtol, "strict": self.strict,
                "tolerance": f"atol={self.atol:g} + rtol={self.rtol:g} * |reference|"}


def _number(name: str, value) -> float:
    if isinstance(value, bool):
        raise GradvizError(f"{name} must be a number, got {describe(value)}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise GradvizError(f"{name} must be a number, got {describe(value)}") from None


def validate_tolerances(eps: float, atol: float, rtol: float) -> None:
    """One clear error for a step or tolerance that cannot work (eps=0 divides by zero)."""
    Tolerance.of(eps, atol, rtol)
