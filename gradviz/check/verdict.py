"""Per-element verdicts: autograd against the oracles, with kinks judged as subgradients."""

from __future__ import annotations

import numpy as np

from .diagnose import diagnose
from .finite import Differences
from .report import FAIL, NONDIFF, PASS, SKIPPED, InputResult, Row, worst_status


def agree(x, y, atol: float, rtol: float):
    return np.abs(x - y) <= atol + rtol * np.abs(y)


def judge(name: str, auto: np.ndarray, diffs: Differences | None, sym: np.ndarray | None,
          atol: float, rtol: float, *, batch: int | None = None, layout: str | None = None) -> InputResult:
    """Rows and status for one input: PASS, FAIL, NONDIFF (a valid subgradient at a kink) or SKIPPED.

    An element FAILs only when autograd disagrees with every oracle available;
    when one oracle disagrees with the other two, the note names it.
    """
    auto = np.asarray(auto, dtype=np.float64)
    fin = diffs.central if diffs is not None else None
    kinked = diffs.kinked(atol, rtol) if diffs is not None else np.zeros(auto.shape, bool)
    rows = []
    for index in np.ndindex(auto.shape):
        a = float(auto[index])
        f = None if fin is None else float(fin[index])
        s = None if sym is None else float(sym[index])
        ref = f if f is not None else s
        abs_err = abs(a - ref) if ref is not None else float("nan")
        rel_err = abs_err / max(abs(ref), 1e-12) if ref is not None else float("nan")
        note = ""
        if not np.isfinite(a):
            status, note = FAIL, "autograd gave a non-finite gradient"
        elif kinked[index]:
            lo, hi = sorted((float(diffs.forward[index]), float(diffs.backward[index])))
            tol = atol + rtol * max(abs(lo), abs(hi))
            if lo - tol <= a <= hi + tol:
                status, note = NONDIFF, f"kink/tie: one-sided slopes {lo:.4g}..{hi:.4g}, autograd picks a subgradient"
            else:
                status, note = FAIL, f"kink/tie: autograd {a:.4g} is outside the one-sided slopes {lo:.4g}..{hi:.4g}"
        else:
            oracles = [x for x in (f, s) if x is not None]
            agrees = [bool(agree(a, x, atol, rtol)) for x in oracles]
            if not oracles:
                status = SKIPPED
            elif all(agrees):
                status = PASS
            elif any(agrees):
                status = PASS
                odd = "finite differences" if f is not None and not agrees[0] else "SymPy"
                note = f"{odd} disagree with the other two"
            else:
                status = FAIL
                if f is not None and s is not None and agree(f, s, atol, rtol):
                    note = "autograd is the odd one out"
        rows.append(Row(name, index, a, f, s, abs_err, rel_err, status, note))
    status = worst_status(r.status for r in rows)
    result = InputResult(name, tuple(auto.shape), status, rows, autograd=auto, finite=fin, symbolic=sym)
    reference = fin if fin is not None else sym
    if status == FAIL and reference is not None:
        result.diagnosis = diagnose(auto, reference, batch=batch, layout=layout, atol=atol, rtol=rtol)
    return result
