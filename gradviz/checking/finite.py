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
from .tie_pieces import tie_break_piece

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
    with progress.task(2 * sum(int(np.size(x)) for x in inputs), "finite differences") as step:

        def evaluate(_) -> float:  # one loss evaluation, counted for the progress bar
            step()
            return loss(inputs)

        for x in inputs:
            flat = x.reshape(-1)  # a view: perturbing it perturbs x, which loss(inputs) reads
            fwd, bwd = one_sided_slopes(evaluate, flat, eps, base)
            out.append(Differences(((fwd + bwd) / 2).reshape(x.shape), fwd.reshape(x.shape), bwd.reshape(x.shape)))
    return out


STRICT_FACTOR = 10  # strict mode fails a discrepancy this many times the measured finite-difference error
STRICT_FLOOR = 1e-8  # ... and never below this relative error (float64 evaluation noise of the loss itself)


@dataclass
class Richardson:
    """Central differences at h, 2h and h/2: an extrapolated derivative and the measured error of the estimate.

    The central difference's truncation error scales as h^2 and its round-off
    as 1/h, so the spread between steps measures both: |D(h) - D(2h)| bounds
    the truncation error, |D(h/2) - D(h)| the round-off. Strict mode's
    tolerance is STRICT_FACTOR times that measured error, element by element.
    """

    value: np.ndarray
    noise: np.ndarray

    def tolerance(self) -> np.ndarray:
        return STRICT_FACTOR * self.noise + STRICT_FLOOR * np.maximum(np.abs(self.value), 1e-3)


def roundoff(base: float, eps: float) -> float:
    """The least round-off of a central difference: one unit in the last place of the loss, over the step."""
    return float(np.finfo(np.float64).eps) * abs(base) / eps


def richardson(loss: Loss, inputs: list[np.ndarray], eps: float, diffs: list[Differences],
               base: float) -> list[Richardson]:
    """Richardson estimates for every element, from 4 more evaluations each (the h differences are reused)."""
    out = []
    for x, d in zip(inputs, diffs):
        wide, narrow = np.empty(x.shape), np.empty(x.shape)
        flat = x.reshape(-1)
        for i in range(flat.size):
            saved = flat[i]
            for step, target in ((2 * eps, wide), (eps / 2, narrow)):
                flat[i] = saved + step
                up = loss(inputs)
                flat[i] = saved - step
                down = loss(inputs)
                target.flat[i] = (up - down) / (2 * step)
            flat[i] = saved
        value = (4 * d.central - wide) / 3
        noise = np.maximum(np.maximum(np.abs(d.central - wide), np.abs(narrow - d.central)), roundoff(base, eps))
        out.append(Richardson(value, noise))
    return out


def directional_richardson(loss: Loss, inputs, direction, eps: float, central: float, base: float) -> Richardson:
    """The same along one joint direction."""
    wide = directional_difference(loss, inputs, direction, 2 * eps, 0.0)[0]
    narrow = directional_difference(loss, inputs, direction, eps / 2, 0.0)[0]
    return Richardson(np.array((4 * central - wide) / 3),
                      np.array(max(abs(central - wide), abs(narrow - central), roundoff(base, eps))))


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


MAX_JOINT = 24  # kinked coordinates whose interactions are measured (4 k^2 evaluations)
MAX_PATTERNS = 32  # sign patterns per coupled group (all of them up to 5 members)


@dataclass
class KinkVerdict:
    """Whether a gradient at a kink or tie is a valid subgradient, and what was tested to say so."""

    valid: bool
    kinked: np.ndarray  # flat mask of the coordinates at a kink or tie
    tested: str  # what was tested, in words
    problem: str = ""  # why it is not valid (empty when valid)


def one_sided_slopes(phi: Callable[[np.ndarray], float], z: np.ndarray, eps: float, base: float,
                     coords=None) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward differences of phi along each coordinate of the flat vector z."""
    coords = range(z.size) if coords is None else coords
    fwd, bwd = np.zeros(z.size), np.zeros(z.size)
    for i in coords:
        saved = z[i]
        z[i] = saved + eps
        up = phi(z)
        z[i] = saved - eps
        down = phi(z)
        z[i] = saved
        fwd[i], bwd[i] = (up - base) / eps, (base - down) / eps
    return fwd, bwd


def kink_mask(fwd: np.ndarray, bwd: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Where the one-sided slopes disagree by more than smooth curvature allows: a kink or tie."""
    return np.abs(fwd - bwd) > 10 * (atol + rtol * np.maximum(np.abs(fwd), np.abs(bwd)))


def clarke_check(phi: Callable[[np.ndarray], float], z: np.ndarray, v: np.ndarray, eps: float, atol: float,
                 rtol: float, rng: np.random.Generator, *, slopes=None, groups=None) -> KinkVerdict:
    """Is v a valid subgradient of the scalar function phi at z (flat vectors)?

    Valid means: v lies in the Clarke subdifferential, the convex hull of the
    gradients of the smooth pieces that meet at z. PyTorch's relu'(0) = 0, a
    tie's gradient sent to one maximum, or split between them, all qualify;
    the full gradient sent to every tied maximum does not. Comparing v with
    one-sided slopes along a joint direction is not a sound test: along
    (1, -1) over relu(x1) - relu(x2) at 0 the slope is 1 on both sides, yet
    the valid (0, 0) predicts 0. So the test enumerates the pieces instead:

    1. one-sided slopes along each coordinate: a smooth coordinate must match
       the central difference, a kinked one must lie between its slopes;
    2. kinked coordinates are grouped by interaction (moving one changes the
       other's slopes, as tied maxima do); a product of independent kinks has
       the product of intervals as its hull, so step 1 decides them exactly;
    3. for each interacting group, the gradient is measured at points just off
       the kink in every sign pattern of the group (distinct magnitudes, so
       ties break), each lying inside one smooth piece; v restricted to the
       group must be a convex combination of those piece gradients.

    `groups` (lists of flat indices) skips the interaction measurement when
    the structure is known (an elementwise op couples only equal positions).
    """
    z = np.array(z, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    base = phi(z)
    fwd, bwd = slopes if slopes is not None else one_sided_slopes(phi, z, eps, base)
    kinked = kink_mask(fwd, bwd, atol, rtol)
    lo, hi = np.minimum(fwd, bwd), np.maximum(fwd, bwd)
    tol = atol + rtol * np.maximum(np.abs(lo), np.abs(hi))
    central = (fwd + bwd) / 2
    smooth_bad = ~kinked & (np.abs(v - central) > tol)
    outside = kinked & ((v < lo - tol) | (v > hi + tol))
    count = int(kinked.sum())
    if outside.any() and not smooth_bad.any():  # a tie shared by several windows: its slopes do not bound it
        piece = tie_break_piece(phi, z, v, np.flatnonzero(kinked), eps, atol, rtol)
        if piece is not None:
            return KinkVerdict(True, kinked, piece)
    if (smooth_bad.any() or outside.any()) and z.size <= MAX_JOINT and _kinked_along(phi, z, base, eps, atol, rtol,
                                                                                        rng):
        # A kink not aligned with the coordinates (relu(x1 + x2) - relu(x1 - x2) at 0): the
        # coordinate slopes cannot see its pieces, so sample them at random points around z.
        pieces = _piece_gradients(phi, z, list(range(z.size)), eps, rng, random=True)
        _, residual = _nearest_in_hull(pieces, v)
        tested = f"the convex hull of the smooth pieces' gradients at {len(pieces)} random points around the kink"
        if residual <= atol + rtol * max(float(np.abs(pieces).max()), float(np.abs(v).max())):
            return KinkVerdict(True, kinked, tested)
        return KinkVerdict(False, kinked, tested, f"backward's gradient is at distance {residual:.3g} from every "
                                                  "convex combination of the pieces' gradients")
    if smooth_bad.any():
        i = int(np.flatnonzero(smooth_bad)[0])
        return KinkVerdict(False, kinked, "central differences away from the kink",
                           f"element {i} is differentiable here: its slope is {central[i]:.6g}, backward gives {v[i]:.6g}")
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        return KinkVerdict(False, kinked, f"one-sided slopes of each of the {count} kinked elements",
                           f"element {i} sits at a kink with one-sided slopes {lo[i]:.6g} and {hi[i]:.6g}, but "
                           f"backward gives {v[i]:.6g}, outside that range (a mask on the wrong side?)")
    members = np.flatnonzero(kinked)
    if groups is None:
        groups = _interaction_groups(phi, z, members[:MAX_JOINT], fwd, bwd, eps, atol, rtol)
    groups = [[i for i in g if kinked[i]] for g in groups]
    groups = [g for g in groups if len(g) > 1]
    tested = (f"one-sided slopes of each of the {count} kinked elements"
              + (f", and the convex hull of the smooth pieces' gradients over {len(groups)} group(s) of "
                 "interacting kinked elements (ties)" if groups else " (independent kinks: the hull is the box "
                                                                    "of one-sided slopes)"))
    if count > MAX_JOINT and groups is not None:
        tested += f"; interactions were measured among the first {MAX_JOINT} kinked elements"
    for group in groups:
        pieces = _piece_gradients(phi, z, group, eps, rng)
        weights, residual = _nearest_in_hull(pieces, v[group])
        scale = atol + rtol * max(float(np.abs(pieces).max()), float(np.abs(v[group]).max()))
        if residual > scale:
            shown = ", ".join(f"{x:.4g}" for x in v[group][:6])
            tops = ", ".join("(" + ", ".join(f"{x:.3g}" for x in p[:6]) + ")" for p in _distinct(pieces)[:4])
            return KinkVerdict(False, kinked, tested,
                               f"at the {len(group)} tied/kinked elements {group[:6]} backward gives ({shown}), "
                               f"which is no convex combination of the smooth pieces' gradients {tops} "
                               f"(distance {residual:.3g}); a common cause: the full gradient sent to every "
                               "tied maximum instead of one")
    return KinkVerdict(True, kinked, tested)


def _interaction_groups(phi, z, members, fwd, bwd, eps, atol, rtol) -> list[list[int]]:
    """Connected groups of kinked coordinates: j and i interact when moving j changes i's slopes."""
    parent = {int(i): int(i) for i in members}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    delta = 100 * eps
    others = [int(i) for i in members]
    for j in others:
        for sign in (1.0, -1.0):
            saved = z[j]
            z[j] = saved + sign * delta
            rest = [i for i in others if i != j and find(i) != find(j)]
            if rest:
                f2, b2 = one_sided_slopes(phi, z, eps, phi(z), rest)
                for i in rest:
                    tol = 10 * (atol + rtol * max(abs(fwd[i]), abs(bwd[i])))
                    if abs(f2[i] - fwd[i]) > tol or abs(b2[i] - bwd[i]) > tol:
                        parent[find(i)] = find(j)
            z[j] = saved
    out: dict[int, list[int]] = {}
    for i in others:
        out.setdefault(find(i), []).append(i)
    return list(out.values())


def _kinked_along(phi, z, base, eps, atol, rtol, rng) -> bool:
    """Whether the one-sided slopes of phi disagree along a random direction through z."""
    d = rng.normal(size=z.size)
    d /= np.linalg.norm(d) or 1.0
    fwd, bwd = (phi(z + eps * d) - base) / eps, (base - phi(z - eps * d)) / eps
    return bool(kink_mask(np.array([fwd]), np.array([bwd]), atol, rtol)[0])


def _piece_gradients(phi, z, group, eps, rng, random: bool = False) -> np.ndarray:
    """Gradients over `group` at points just off the kink, one per sign pattern (and per single bump).

    random=True samples Gaussian offsets instead, for kinks that are not aligned with the coordinates.
    """
    n = len(group)
    delta = 100 * eps
    magnitudes = 1.0 + 0.5 * np.arange(n) / n  # distinct, so tied entries never stay tied
    if random:
        patterns = [rng.normal(size=n) for _ in range(MAX_PATTERNS)]
    elif n <= 5:
        patterns = [np.array([(k >> b) & 1 for b in range(n)]) * 2.0 - 1.0 for k in range(2 ** n)]
    else:
        patterns = [rng.choice([-1.0, 1.0], size=n) for _ in range(MAX_PATTERNS)]
    for b in range(0 if random else n):  # one entry raised alone: the piece where it is the unique maximum
        single = -np.ones(n) * 1e-3
        single[b] = 1.0
        patterns.append(single)
    pieces = []
    for pattern in patterns:
        y = z.copy()
        y[group] += delta * pattern * magnitudes
        base = phi(y)
        f, b = one_sided_slopes(phi, y, eps, base, group)
        pieces.append(((f + b) / 2)[group])
    return np.array(pieces)


def _nearest_in_hull(points: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float]:
    """Convex weights w minimising |points.T w - v| (max-norm residual returned), by NNLS with sum(w) = 1."""
    weight = 1e3 * (1.0 + float(np.abs(points).max()) + float(np.abs(v).max()))
    a = np.vstack([points.T, weight * np.ones(len(points))])
    b = np.concatenate([v, [weight]])
    w = _nnls(a, b)
    w = w / w.sum() if w.sum() > 0 else w
    return w, float(np.abs(points.T @ w - v).max())


def _nnls(a: np.ndarray, b: np.ndarray, max_iter: int = 200) -> np.ndarray:
    """Lawson-Hanson non-negative least squares (numpy only; small problems)."""
    n = a.shape[1]
    x = np.zeros(n)
    active = np.zeros(n, dtype=bool)
    tol = 1e-12 * max(1.0, float(np.abs(a).max()) * float(np.abs(b).max()))
    for _ in range(max_iter):
        w = a.T @ (b - a @ x)
        if active.all() or w[~active].max() <= tol:
            break
        active[int(np.argmax(np.where(active, -np.inf, w)))] = True
        for _ in range(max_iter):
            trial = np.zeros(n)
            trial[active] = np.linalg.lstsq(a[:, active], b, rcond=None)[0]
            if (trial[active] > 0).all():
                x = trial
                break
            shrink = active & (trial <= 0)
            alpha = float(np.min(x[shrink] / (x[shrink] - trial[shrink])))
            x = x + alpha * (trial - x)
            active &= x > 1e-15
    return x


def _distinct(rows: np.ndarray) -> list:
    out = []
    for r in rows:
        if not any(np.allclose(r, o, rtol=1e-3, atol=1e-6) for o in out):
            out.append(r)
    return out


def joint_subgradient_failures(loss: Loss, arrays, auto, kinked, base, eps, atol, rtol, rng) -> list[str]:
    """At kinks and ties, whether the analytic gradient is a valid (Clarke) subgradient of the loss.

    Coordinates alone cannot tell a subgradient from a wrong gradient (the
    full gradient sent to every tied maximum passes each coordinate's
    one-sided test), so clarke_check enumerates the smooth pieces meeting at
    the point. Returns the reasons it is not valid (empty when it is).
    """
    shapes = [a.shape for a in arrays]
    sizes = [a.size for a in arrays]
    z = np.concatenate([a.reshape(-1) for a in arrays])
    v = np.concatenate([np.asarray(g, dtype=np.float64).reshape(-1) for g in auto])

    def phi(flat):
        parts, start = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(flat[start:start + size].reshape(shape))
            start += size
        return loss(parts)

    flat_kinked = np.concatenate([np.asarray(m).reshape(-1) for m in kinked])
    members = np.flatnonzero(flat_kinked)
    fwd, bwd = one_sided_slopes(phi, z.copy(), eps, base, members)
    # only kinked coordinates are re-measured; the others are judged elementwise by the caller
    fwd_all, bwd_all = v.copy(), v.copy()
    fwd_all[members], bwd_all[members] = fwd[members], bwd[members]
    verdict = clarke_check(phi, z, v, eps, atol, rtol, rng, slopes=(fwd_all, bwd_all))
    return [] if verdict.valid else [f"not a valid subgradient: {verdict.problem} (tested: {verdict.tested})"]
