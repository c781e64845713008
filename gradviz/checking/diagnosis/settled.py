"""Gradients found wrong only when their kinks are judged jointly get the hypotheses too.

Each element of a max-pool sending its gradient to every tied maximum passes its own
one-sided test; only the joint subgradient test (settle.py) fails it, after the diagnosis
ran. A cause that reproduces the numbers (pool_all_ties) is then put before the kink finding.
"""

from __future__ import annotations

from .context import Context
from .finding import NO_PATTERN


def diagnose_settled(results: dict, contexts: dict[int, Context]) -> None:
    """results/contexts by input index; only results whose sole findings are kink findings are looked at again."""
    from . import diagnose

    for k, r in results.items():
        if r.status != "FAIL" or r.finite is None or not r.diagnosis or k not in contexts:
            continue
        if any(getattr(d, "cause", "") != "kink" for d in r.diagnosis):
            continue
        found = [f for f in diagnose(r.autograd, r.finite, contexts[k]) if f.cause not in (NO_PATTERN, "kink")]
        r.diagnosis = found + list(r.diagnosis) if found else r.diagnosis
