"""Oracle 1: central finite differences in float64, with kink detection for free.

Each perturbed pair f(x + h e), f(x - h e) gives three estimates: the central
difference (the oracle) and the two one-sided differences. Where the one-sided
differences disagree by more than smooth curvature allows, the function has a
kink or a tie at that point: the element is non-differentiable, and the
analytic value is judged as a subgradient instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .. import progress

Loss = Callable[[Sequence[np.ndarray]], float]


@dataclass
class Differences:
    """Per-element finite-difference estimates for one input."""

    central: np.ndarray
    forward: np.ndarray  # (f(x + h) - f(x)) / h
    backward: np.ndarray  # (f(x) - f(x - h)) / h

    def kinked(self, atol: float, rtol: float) -> np.ndarray:
        """Elements where the one-sided slopes disagree: a kink or tie between x - h and x + h."""
        gap = np.abs(self.forward - self.backward)
        scale = np.maximum(np.abs(self.forward), np.abs(self.backward))
        return gap > 10 * (atol + rtol * scale)


def full_differences(loss: Loss, inputs: list[np.ndarray], eps: float, base: float | None = None) -> list[Differences]:
    """Perturb every element of every input in turn: 2 evaluations per element."""
    if base is None:
        base = loss(inputs)
    out = []
    with progress.task(sum(int(np.size(x)) for x in inputs), "finite differences") as step:
        for x in inputs:
            central = np.empty(x.shape)
            fwd = np.empty(x.shape)
            bwd = np.empty(x.shape)
            flat = x.reshape(-1)  # a view: perturbing it perturbs x
            for i in range(flat.size):
                saved = flat[i]
                flat[i] = saved + eps
                up = loss(inputs)
                flat[i] = saved - eps
                down = loss(inputs)
                flat[i] = saved
                central.flat[i] = (up - down) / (2 * eps)
                fwd.flat[i] = (up - base) / eps
                bwd.flat[i] = (base - down) / eps
                step()
            out.append(Differences(central, fwd, bwd))
    return out


def directional_difference(loss: Loss, inputs: list[np.ndarray], direction: list[np.ndarray], eps: float,
                           base: float) -> tuple[float, float, float]:
    """(central, forward, backward) differences of the loss along one joint direction."""
    up = loss([x + eps * d for x, d in zip(inputs, direction)])
    down = loss([x - eps * d for x, d in zip(inputs, direction)])
    return (up - down) / (2 * eps), (up - base) / eps, (base - down) / eps


def random_directions(shapes: list[tuple], k: int, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """k random unit directions in the joint space of all inputs (Gaussian, normalised)."""
    out = []
    for _ in range(k):
        parts = [rng.normal(size=s) for s in shapes]
        norm = np.sqrt(sum(float(np.sum(p * p)) for p in parts)) or 1.0
        out.append([p / norm for p in parts])
    return out


def joint_subgradient_failures(loss: Loss, arrays, auto, kinked, base, eps, atol, rtol, rng) -> list[str]:
    """At kinks and ties, coordinates alone cannot tell a subgradient from a wrong gradient.

    Sending the full gradient to every tied maximum passes each coordinate's
    one-sided test, so the analytic directional derivative is also compared
    with the one-sided finite differences along joint directions over all
    kinked elements: all ones, and a few random sign patterns.
    """
    patterns = [[m.astype(np.float64) for m in kinked]]
    for _ in range(4):
        patterns.append([m * rng.choice([-1.0, 1.0], size=m.shape) for m in kinked])
    failures = []
    for direction in patterns:
        count = int(sum(np.count_nonzero(d) for d in direction))
        if count < 2 and len(patterns) > 1 and direction is not patterns[0]:
            continue
        _, fwd, bwd = directional_difference(loss, arrays, direction, eps, base)
        analytic = sum(float((g * d).sum()) for g, d in zip(auto, direction))
        lo, hi = min(fwd, bwd), max(fwd, bwd)
        tol = atol + rtol * max(abs(lo), abs(hi), abs(analytic))
        if not lo - tol <= analytic <= hi + tol:
            failures.append(
                f"along a joint direction over the {count} kinked/tied elements the function changes at a rate "
                f"between {lo:.6g} and {hi:.6g}, but the gradient predicts {analytic:.6g}: it is not a valid "
                "subgradient (a common cause: the full gradient sent to every tied maximum instead of one)"
            )
            break
    return failures
