"""At ties, the gradient of the piece where each tie breaks by position: first element or last element wins.

A coordinate's one-sided slopes do not bound its valid subgradients when one
element is tied in several places at once (a max-pool input under overlapping
windows whose upstream gradients differ in sign: moved alone, it enters or
leaves every window together, yet a valid backward gives it one window's share).
The usual backward breaks ties by position (np.argmax: the first maximum; a
loop with `>=`: the last), so its gradient is the gradient of the smooth piece
reached by moving the tied elements apart in that order. Matching one such
piece proves the gradient valid; matching none proves nothing.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def tie_break_piece(phi: Callable[[np.ndarray], float], z: np.ndarray, v: np.ndarray, members: np.ndarray,
                    eps: float, atol: float, rtol: float) -> str | None:
    """How the ties break in the piece whose gradient v is (over the kinked `members`), or None.

    Each kinked coordinate is moved by a multiple of 3 eps that grows (or shrinks) with its flat position,
    down or up, so every tie breaks in the one order; the piece's gradient is measured there by central
    differences (the neighbours are 3 eps apart, so a step of eps crosses no tie).
    """
    z = np.array(z, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    members = np.asarray(members, dtype=int)
    if members.size == 0:
        return None
    rank = np.arange(members.size, dtype=np.float64)
    orders = (("the first", -1.0, 1.0 + rank), ("the last", -1.0, 1.0 + rank[::-1]),
              ("the last", 1.0, 1.0 + rank), ("the first", 1.0, 1.0 + rank[::-1]))
    for winner, sign, steps in orders:
        y = z.copy()
        y[members] += sign * 3 * eps * steps
        matches = True
        for i in members:  # stopped at the first element that differs: a wrong order costs little
            saved = y[i]
            y[i] = saved + eps
            up = phi(y)
            y[i] = saved - eps
            down = phi(y)
            y[i] = saved
            slope = (up - down) / (2 * eps)
            if abs(v[i] - slope) > atol + rtol * abs(slope):
                matches = False
                break
        if matches:
            return (f"the gradient of the smooth piece where each tie goes to {winner} tied element "
                    f"(moved {'down' if sign < 0 else 'up'}), a valid subgradient")
    return None
