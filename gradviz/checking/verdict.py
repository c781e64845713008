"""Per-element verdicts: autograd against the oracles, with kinks judged as subgradients."""

from __future__ import annotations

import copy
from typing import Callable

import numpy as np

from .diagnosis import Context, diagnose
from .finite import Differences
from .report import FAIL, NONDIFF, PASS, SHOULD_BE_ZERO, SKIPPED, InputResult, Row, worst_status


ZERO = 1e-8  # a reference this small (relative to the gradient's size) is a true 0 seen through round-off
INFINITE = "the derivative is infinite at this point (yours and SymPy agree): nothing finite to compare"
YOURS_ODD = "yours is the odd one out"  # the column holding the backward being checked is "yours"
OUTSIDE_SLOPES = "kink/tie: autograd "  # an element at a kink whose gradient lies outside its one-sided slopes


def agree(x, y, atol: float, rtol: float):
    return np.abs(x - y) <= atol + rtol * np.abs(y)


def judge(name: str, auto: np.ndarray, diffs: Differences | None, sym: np.ndarray | None,
          atol: float, rtol: float, *, batch: int | None = None, layout: str | None = None,
          context: Context | Callable[[], Context] | None = None) -> InputResult:
    """Rows and status for one input: PASS, FAIL, NONDIFF (a valid subgradient at a kink) or SKIPPED.

    An element FAILs only when autograd disagrees with every oracle available;
    when one oracle disagrees with the other two, the note names it. Decided
    with whole-array operations: this runs on every element of every input.
    """
    auto_in = np.asarray(auto, dtype=np.float64)
    shape = auto_in.shape
    # Masks are computed on flat 1-D views (boolean indexing of 0-d arrays is awkward).
    auto = auto_in.reshape(-1)
    fin = diffs.central.reshape(-1) if diffs is not None else None
    sym = np.asarray(sym, dtype=np.float64).reshape(-1) if sym is not None else None
    ref = fin if fin is not None else sym
    shape_flat = auto.shape
    status = np.full(shape_flat, SKIPPED, dtype=object)
    note = np.full(shape_flat, "", dtype=object)
    with np.errstate(invalid="ignore"):
        if ref is not None:
            abs_err = np.abs(auto - ref)
            # Where the true gradient is 0 a relative error means nothing (x / 1e-12): it is left out.
            zero_ref = np.abs(ref) <= ZERO * max(1.0, float(np.max(np.abs(ref), initial=0.0)))
            rel_err = np.where(zero_ref, np.nan, abs_err / np.where(zero_ref, 1.0, np.abs(ref)))
        else:
            abs_err = rel_err = np.full(shape_flat, np.nan)
        agree_f = agree(auto, fin, atol, rtol) if fin is not None else None
        agree_s = agree(auto, sym, atol, rtol) if sym is not None else None
    if agree_f is not None or agree_s is not None:
        both = [a for a in (agree_f, agree_s) if a is not None]
        all_agree = np.logical_and.reduce(both)
        any_agree = np.logical_or.reduce(both)
        status[:] = np.where(any_agree, PASS, FAIL)
        if agree_f is not None and agree_s is not None:
            note[any_agree & ~all_agree & ~agree_f] = "finite differences disagree with the other two"
            note[any_agree & ~all_agree & ~agree_s] = "SymPy disagree with the other two"
            note[~any_agree & agree(fin, sym, atol, rtol)] = YOURS_ODD
    kinked = None
    if diffs is not None:
        kinked = diffs.kinked(atol, rtol).reshape(-1)
        if kinked.any():
            lo = np.minimum(diffs.forward, diffs.backward).reshape(-1)
            hi = np.maximum(diffs.forward, diffs.backward).reshape(-1)
            tol = atol + rtol * np.maximum(np.abs(lo), np.abs(hi))
            inside = (lo - tol <= auto) & (auto <= hi + tol)
            for index in np.flatnonzero(kinked):
                a, l, h = auto[index], lo[index], hi[index]
                if inside[index]:
                    status[index] = NONDIFF
                    note[index] = f"kink/tie: one-sided slopes {l:.4g}..{h:.4g}, autograd picks a subgradient"
                else:
                    status[index] = FAIL
                    note[index] = f"{OUTSIDE_SLOPES}{a:.4g} is outside the one-sided slopes {l:.4g}..{h:.4g}"
    if ref is not None:
        note[zero_ref & (status == FAIL) & (note == "")] = SHOULD_BE_ZERO
    nonfinite = ~np.isfinite(auto)
    status[nonfinite] = FAIL
    note[nonfinite] = "autograd gave a non-finite gradient"
    if sym is not None:
        infinite = nonfinite & (auto == sym)  # the derivative itself is infinite here (sqrt at 0)
        status[infinite] = SKIPPED
        note[infinite] = INFINITE
    none = [None] * auto.size

    def build_rows() -> list[Row]:
        return [Row(name, index, a, f, s_, e, r, st, nt) for index, a, f, s_, e, r, st, nt in zip(
            np.ndindex(shape), auto.tolist(), fin.tolist() if fin is not None else none,
            sym.tolist() if sym is not None else none, abs_err.tolist(), rel_err.tolist(),
            status.tolist(), note.tolist())]

    fin_out = None if fin is None else fin.reshape(shape)
    sym_out = None if sym is None else sym.reshape(shape)
    result = InputResult(name, tuple(shape), worst_status(status.tolist()), build_rows,
                         autograd=auto_in, finite=fin_out, symbolic=sym_out, statuses=status, notes=note)
    if result.status == FAIL and ref is not None:
        known = context() if callable(context) else context  # (built only now: a passing input needs none)
        known = copy.copy(known) if known is not None else Context(batch=batch, layout=layout)
        known.name, known.atol, known.rtol = known.name or name, atol, rtol  # (as dataclasses.replace, cheaper)
        known.kinks = kinked.reshape(shape) if kinked is not None else known.kinks
        result.diagnosis = diagnose(auto_in, ref.reshape(shape), known)
    return result
