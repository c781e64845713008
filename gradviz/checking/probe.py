"""Stage 3 of the pipeline: finite differences of the Subject's forward, in the mode the size calls for.

full         every element perturbed in turn (2 evaluations per element)
directional  a few random unit directions through all inputs at once (2 evaluations each)
auto         full up to FULL_MODE_LIMIT elements, else directional: the same limit for every entry point

Strict mode adds Richardson estimates (h, 2h, h/2) and fails what exceeds
10x their measured error. A step so large that the forward visibly curves
across it is measured here and becomes a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import finite as fd
from .diagnosis import Finding
from .report import FAIL, NONDIFF, PASS, InputResult
from .tolerance import Tolerance

FULL_MODE_LIMIT = 2000  # mode="auto": perturb every element up to this many, else directional
DIRECTIONS = 8  # random directions in directional mode
CURVATURE_STEP = 1e-3  # steps at least this large (relative to the input's scale) are tested for curvature

Loss = Callable[[list], float]


@dataclass
class FiniteResult:
    mode: str
    per_element: list[fd.Differences] | None
    kinked: list[np.ndarray] | None
    directional: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # yours, central,
    # forward, backward, status per direction
    strict: list[fd.Richardson] | None = None  # per input (full) or per direction (directional)
    directions: list[list[np.ndarray]] = field(default_factory=list)


def pick_mode(mode: str, total: int) -> str:
    return ("full" if total <= FULL_MODE_LIMIT else "directional") if mode == "auto" else mode


def probe(loss: Loss, arrays: list[np.ndarray], yours: list[np.ndarray], base: float, mode: str, tol: Tolerance,
          k: int, rng: np.random.Generator) -> FiniteResult:
    """Finite differences of the loss at `arrays`, and your gradients' verdict along random directions."""
    eps, atol, rtol = tol.eps, tol.atol, tol.rtol
    if mode == "full":
        diffs = fd.full_differences(loss, arrays, eps, base)
        extra = fd.richardson(loss, arrays, eps, diffs, base) if tol.strict else None
        return FiniteResult(mode, diffs, [d.kinked(atol, rtol) for d in diffs], [], extra)
    rows, extra = [], []
    directions = fd.random_directions([a.shape for a in arrays], k, rng)
    for direction in directions:
        central, fwd, bwd = fd.directional_difference(loss, arrays, direction, eps, base)
        analytic = sum(float((g * d).sum()) for g, d in zip(yours, direction))
        if tol.strict:
            extra.append(fd.directional_richardson(loss, arrays, direction, eps, central, base))
        rows.append((analytic, central, fwd, bwd, direction_status(analytic, central, fwd, bwd, atol, rtol)))
    return FiniteResult(mode, None, None, rows, extra if tol.strict else None, directions)


def direction_status(analytic: float, central: float, fwd: float, bwd: float, atol: float, rtol: float) -> str:
    """PASS when your directional derivative matches; NONDIFF when the direction crosses a kink.

    A direction crossing a kink has one-sided slopes that differ; its central
    difference cannot judge a subgradient, so the kinked places are settled
    elsewhere (the per-node checks, or the joint subgradient test).
    """
    tol = atol + rtol * max(abs(fwd), abs(bwd))
    if abs(analytic - central) <= atol + rtol * abs(central):
        return PASS
    if abs(fwd - bwd) > 10 * tol or (abs(fwd - bwd) > tol and min(fwd, bwd) - tol <= analytic <= max(fwd, bwd) + tol):
        return NONDIFF
    return FAIL


def curvature_warning(loss: Loss, arrays: list[np.ndarray], tol: Tolerance, base: float,
                      rng: np.random.Generator) -> str | None:
    """A step so large that the forward curves across it: the central differences move between h and h/2."""
    scale = max([1.0] + [float(np.max(np.abs(a))) for a in arrays if a.size])
    if tol.eps < CURVATURE_STEP * scale:
        return None
    direction = fd.random_directions([a.shape for a in arrays], 1, rng)[0]
    at_h = fd.directional_difference(loss, arrays, direction, tol.eps, base)[0]
    at_half = fd.directional_difference(loss, arrays, direction, tol.eps / 2, base)[0]
    if abs(at_h - at_half) <= tol.atol + tol.rtol * abs(at_half):
        return None
    return (f"eps={tol.eps:g} is so large that the forward visibly curves across the step: the central difference "
            f"moves from {at_h:.6g} to {at_half:.6g} when the step is halved, so finite differences are not the "
            "derivative here and differences between the one-sided slopes are curvature, not kinks; use a step "
            "such as 1e-6")


def apply_strict(results: list[InputResult], finite: FiniteResult) -> str:
    """Fail what exceeds 10x the measured finite-difference error; say which tolerance that was."""
    if finite.mode == "full":
        return _strict_full(results, finite)
    failed = 0
    for k, (row, rich) in enumerate(zip(finite.directional, finite.strict)):
        analytic, central, fwd, bwd, status = row
        if status == PASS and abs(analytic - float(rich.value)) > float(rich.tolerance()):
            finite.directional[k] = (analytic, central, fwd, bwd, FAIL)
            failed += 1
    if failed:
        for r in results:
            r.status = FAIL
            r.message = (f"strict: along {failed} random direction(s) yours is off by more than "
                         f"{fd.STRICT_FACTOR}x the measured finite-difference error")
    tols = [float(r.tolerance()) for r in finite.strict]
    return (f"strict: per direction, {fd.STRICT_FACTOR}x the measured finite-difference error (Richardson across "
            f"h, 2h, h/2) + {fd.STRICT_FLOOR:g} relative (max {max(tols):.2g}), besides atol/rtol")


def _strict_full(results: list[InputResult], finite: FiniteResult) -> str:
    tolerances = []
    for r, rich, mask in zip(results, finite.strict, finite.kinked):
        tol = rich.tolerance()
        tolerances.append(tol[~mask])
        over = (np.abs(np.asarray(r.autograd) - rich.value) > tol) & ~mask
        over &= np.asarray(r.statuses).reshape(tol.shape) == PASS
        if over.any():
            worst = np.unravel_index(int(np.argmax(np.where(over, np.abs(r.autograd - rich.value), -1))), tol.shape)
            r.mark(over.reshape(-1), FAIL, "strict: off by more than 10x the measured finite-difference error")
            error = abs(float(r.autograd[worst] - rich.value[worst]))
            r.diagnosis = [Finding(f"strict mode: at {list(map(int, worst))} yours is {float(r.autograd[worst]):.10g}, "
                                   f"the extrapolated finite difference {float(rich.value[worst]):.10g} (error "
                                   f"{error:.3g}, tolerance {float(tol[worst]):.3g})", cause="strict_excess",
                                   evidence=f"error {error:.3g} > {fd.STRICT_FACTOR}x the measured finite-difference "
                                            f"error", confidence=0.9)] + list(r.diagnosis)
    flat = np.concatenate([t.ravel() for t in tolerances]) if tolerances else np.zeros(0)
    spread = f"median {np.median(flat):.2g}, max {flat.max():.2g}" if flat.size else "no smooth elements"
    return (f"strict: per element, {fd.STRICT_FACTOR}x the measured finite-difference error (Richardson across "
            f"h, 2h, h/2) + {fd.STRICT_FLOOR:g} relative ({spread}), besides atol/rtol")
