"""Confirming a reading of an optimizer's arguments before any verdict, and refusing when none is confirmed.

A reading says which argument is the parameter, which its gradient, which the optimizer's state (and which a
name or a step counter). It is confirmed by what every optimizer does, right or wrong: the call runs and hands
the parameters back in their shapes, it is deterministic, it only reads its gradient, and from a fresh state a
zero gradient does not move the parameter (SGD, momentum, RMSProp and Adam alike; a swapped reading moves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ...errors import GradvizError
from .driving import where
from .hyperparameters import ALIASES

ROLE_NAMES = ("param", "grad", "state", "step", "name")
HOW_TO_SAY = ("say which argument is which: roles={'param': NAME, 'grad': NAME, 'state': [NAMES], 'step': NAME} "
              "(command line: --role param=NAME --role grad=NAME --role state=NAME,NAME --role step=NAME)")
MAX_LISTED = 8


class Unconfirmed(GradvizError):
    """No reading of the user's optimizer was confirmed: a refusal, which the next convention that fits may lift."""


@dataclass
class Attempt:
    """One reading tried and why it was not confirmed."""

    describe: str
    why: str


def raised(exc: BaseException) -> str:
    at = where(exc)
    return f"raised {type(exc).__name__}: {exc}" + (f" ({at})" if at else "")


def largest_move(before: Sequence[np.ndarray], after: Sequence[np.ndarray], names: Sequence[str]) -> str | None:
    """'W1 moved by 0.03' for the largest finite move, or None when nothing moved (non-finite is no reading's sign)."""
    worst, who = 0.0, None
    for name, b, a in zip(names, before, after):
        with np.errstate(invalid="ignore"):
            diff = np.abs(np.asarray(a, dtype=np.float64) - b)
        diff = diff[np.isfinite(diff)]
        scale = 1e-12 + 1e-9 * float(np.max(np.abs(b), initial=0.0))
        if diff.size and float(diff.max()) > scale and float(diff.max()) > worst:
            worst, who = float(diff.max()), name
    return None if who is None else f"{who} moved by {worst:.3g}"


def half(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The arrays with about half of their elements zeroed, in a pattern no reversal or transpose preserves."""
    rng = np.random.default_rng(20240611)
    out = []
    for a in arrays:
        keep = rng.random(np.shape(a)) < 0.5
        if keep.size > 1:
            keep.flat[0], keep.flat[-1] = True, False
        else:
            keep[...] = True
        out.append(np.where(keep, a, 0.0))
    return out


def moves_where_gradient(before: Sequence[np.ndarray], after: Sequence[np.ndarray], grads: Sequence[np.ndarray],
                         names: Sequence[str], grad: str) -> str | None:
    """From a fresh state every rule moves an element exactly where its gradient is not zero (each element's step
    is its own gradient's); None when that holds, else the first element that says otherwise."""
    if not any(np.isfinite(np.asarray(a, dtype=np.float64)).any() for a in after):
        return "from a fresh state its first step is not a number anywhere, so nothing can be read from it"
    for name, b, a, g in zip(names, before, after, grads):
        with np.errstate(invalid="ignore"):
            diff = np.abs(np.asarray(a, dtype=np.float64) - b)
        moved = np.isfinite(diff) & (diff > 1e-12 + 1e-9 * np.abs(b))
        for index in np.argwhere(np.isfinite(diff) & (moved != (np.asarray(g) != 0))):
            at = f"{name}[{','.join(map(str, index))}]"
            if moved[tuple(index)]:
                return (f"from a fresh state, with a zero gradient at {at} in {grad}, {at} moved by "
                        f"{diff[tuple(index)]:.3g}")
            return f"from a fresh state a gradient at {at} in {grad} did not move {at}"
    return None


def keeps_memory(before: Sequence[np.ndarray], after: Sequence[np.ndarray]) -> bool:
    """With a zero gradient the state of every rule decays, slowly: momentum, beta1, beta2 and rho lie between 0.5
    and 1, so most of it, not all, is handed back. A gradient read as state comes back scaled by 1 - beta, or whole
    where the state was read as a gradient."""
    size = float(np.sqrt(sum(np.sum(np.square(b)) for b in before)))
    kept = float(np.sqrt(sum(np.nansum(np.square(a)) for a in after)))
    return 0.5 * size <= kept < (1 - 1e-9) * size


def same(first: Sequence[np.ndarray], second: Sequence[np.ndarray]) -> bool:
    return all(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True) for a, b in zip(first, second))


def decays_weights(given: Mapping[str, Any]) -> bool:
    """Weight decay asked for: then a zero gradient moves the parameters too, and that property says nothing."""
    return any(float(given.get(alias, 0) or 0) != 0 for alias in ALIASES["weight_decay"])


def check_roles(roles: Mapping[str, Any] | None, arguments: Sequence[str], what: str) -> dict[str, list[str]]:
    """roles={'grad': 'param_grad', 'state': ['v', 's']} as {role: [argument names]}, each one of `arguments`."""
    out: dict[str, list[str]] = {}
    for role, names in (roles or {}).items():
        if role not in ROLE_NAMES:
            raise GradvizError(f"role {role!r} is not one gradviz reads; the roles are {', '.join(ROLE_NAMES)}")
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in arguments]
        if unknown or not names:
            raise GradvizError(f"role {role}={','.join(map(str, names))}: {what} has no argument "
                               f"{', '.join(map(str, unknown)) or '(none given)'}; its arguments are "
                               f"{', '.join(arguments)}")
        if role != "state" and len(names) != 1:
            raise GradvizError(f"role {role} names one argument, got {', '.join(names)}")
        out[role] = names
    return out


def refusal(subject: str, attempts: list[Attempt], said: bool) -> str:
    """What gradviz tried, why each reading was not confirmed, and how to say the reading."""
    unique = list({a.describe: a for a in attempts}.values())
    # the readings that ran and broke a property first: they say most about the code
    attempts = sorted(unique, key=lambda a: a.why.startswith(("raised", "handed back")))
    lines = [f"gradviz cannot read {subject}: none of the {len(attempts)} ways it tried to call it was confirmed "
             "(so nothing is said about the optimizer):"]
    for k, a in enumerate(attempts[:MAX_LISTED], 1):
        lines.append(f"  {k}. {a.describe}: {a.why}")
    if len(attempts) > MAX_LISTED:
        lines.append(f"  ... and {len(attempts) - MAX_LISTED} more")
    if said:
        lines.append("The roles given were used; check that they name the right arguments, or give the others too.")
    lines.append(HOW_TO_SAY[0].upper() + HOW_TO_SAY[1:])
    return "\n".join(lines)
