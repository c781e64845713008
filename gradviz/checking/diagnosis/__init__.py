"""Say why a gradient is wrong: a library of hypotheses, each one small function.

    findings = diagnose(user_grad, true_grad, Context(name="dW", batch=5, ...))

Each hypothesis (user, reference, context) -> Finding | None lives in the
module of its family; `diagnose` runs them all and keeps the ones that
explain the difference. When none does, it says so, with where the largest
errors are, rather than guessing.
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .facts import Facts, facts_of
from .finding import NO_PATTERN, Finding, as_finding
from .registry import HYPOTHESES, hypothesis
from .structure import how_wrong, where_wrong
from .util import index_text
# The families, in the order their findings are listed when several fit.
from . import (numerics, factors, layout, reductions, images, activations, pooling, convolution,  # noqa: E402,F401
               jacobian, rules, chain, scatter, masks, signs, terms, samples)  # (importing registers them)
from . import conventions  # noqa: E402,F401  (calling conventions that look like bugs)

__all__ = ["Context", "Finding", "HYPOTHESES", "as_finding", "diagnose", "hypothesis", "NO_PATTERN"]


def diagnose(user, reference, context: Context | None = None, **known) -> list[Finding]:
    """Findings explaining how `user` differs from the trusted `reference` gradient.

    `known` fills a Context when none is given (batch=, layout=, atol=, rtol=, ...).
    Returns [] when the two agree: a gradient that passes is never diagnosed.
    """
    ctx = context if context is not None else Context(**known)
    user = np.asarray(user, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    key = ("findings", _digest(user), _digest(reference))
    answered = ctx.memo.get(key)  # by hypothesis, for the same numbers diagnosed again (parameters re-judged)
    if answered is None:
        if not np.isfinite(reference).all() or user.shape == reference.shape and ctx.close(user, reference):
            return []
        if not np.isfinite(user).all():
            return [numerics.not_finite(user, reference, ctx)]
        answered = ctx.memo[key] = {Facts: Facts(user, reference, ctx)}
    shared = ctx.memo["facts"] = answered[Facts]  # what several hypotheses measure, measured once for these numbers
    shared.user, shared.ref = user, reference  # (the same numbers, perhaps in other arrays)
    found: list[Finding] = []
    same_shape = user.shape == reference.shape
    for fn, any_shape in HYPOTHESES:
        if not same_shape and not any_shape:
            continue
        if fn in answered and getattr(fn, "memo", True):  # the same numbers diagnosed again (parameters re-judged)
            finding = answered[fn]
        else:
            finding = answered[fn] = fn(user, reference, ctx)  # a hypothesis that raises is a gradviz bug: never hidden
        if finding is not None and all(f.cause != finding.cause for f in found):
            found.append(finding)
    if not found:
        return [_no_pattern(user, reference, ctx)]
    found.sort(key=lambda f: -f.confidence)
    # A specific explanation (recomputed and reproduced) silences the vaguer ones it implies.
    return [f for f in found if f.confidence > found[0].confidence - 0.1]


def _no_pattern(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding:
    if user.shape != ref.shape:
        return Finding(f"no simple pattern: the gradient has shape {user.shape} where {ref.shape} was expected, "
                       "and no transpose or reshape of it is right", cause=NO_PATTERN,
                       evidence=f"shape {user.shape} vs {ref.shape}", confidence=0.0)
    err = np.abs(user - ref)
    wrong = ~facts_of(user, ref, ctx).right
    order = np.argsort(-np.where(wrong, err, -1.0), axis=None)[: min(3, int(wrong.sum()))]
    places = ", ".join(f"{index_text(np.unravel_index(i, user.shape)) if user.ndim else '()'} "
                       f"(yours {user.flat[i]:.4g}, true {ref.flat[i]:.4g})" for i in order)
    shape = f", {where_wrong(wrong, ctx)}: {how_wrong(user, ref, wrong)}" if user.ndim and wrong.any() else ""
    return Finding(f"no simple pattern: the largest errors are at {places}; "
                   f"{int(wrong.sum())} of {user.size} elements are wrong{shape}",
                   cause=NO_PATTERN, evidence=f"none of the {len(HYPOTHESES)} known causes reproduces these numbers",
                   confidence=0.0)


def _digest(a: np.ndarray) -> tuple:
    return a.shape, hash(a.tobytes())
