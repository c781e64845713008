"""The chain rule forgotten: backward ignores the upstream gradient, or multiplies by it only in part.

A vector-Jacobian product is linear in dout. gradviz can test that directly: it calls the
user's backward again with dout doubled (`ctx.vjp`). A gradient that does not change, or
whose change is not the whole of it, names the part that ignores dout. Without a second
call (the context has no vjp), the elementwise form is checked: yours * dout == true.
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .facts import facts_of
from .registry import hypothesis
from .util import cotangent_like, nonzero, scale


def _scaled_response(ctx: Context, shape: tuple) -> np.ndarray | None:
    """Yours for 2 * dout, when the user's backward can be asked again."""
    if ctx.vjp is None or not isinstance(ctx.cotangent, np.ndarray):
        return None
    if "doubled" not in ctx.memo:  # one more backward per gradient, however often it is diagnosed
        ctx.memo["doubled"] = ctx.vjp(2.0 * np.asarray(ctx.cotangent, dtype=np.float64))
    again = ctx.memo["doubled"]
    return None if again is None or np.shape(again) != shape else np.asarray(again, dtype=np.float64)


@hypothesis
def chain_rule_forgotten(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    if not facts_of(user, ref, ctx).informative:
        return None
    doubled = _scaled_response(ctx, user.shape)
    if doubled is not None:
        constant = 2.0 * user - doubled  # the part of yours that does not scale with dout
        if not nonzero(constant, scale(user, ref)).any() or ctx.close(constant, np.zeros_like(constant)):
            return None  # linear in dout: the chain rule is applied (whatever else is wrong)
        if _proportional(constant, ctx.wrt):
            return None  # lam * W added in backward: the regularization hypothesis names that
        carried = _accumulated(ref, ctx)
        if carried is not None:
            return carried
        if ctx.close(doubled, user):
            return Finding("the upstream gradient is ignored: backward returns the same gradient when dout is "
                           "doubled, so the chain rule's dout * (local derivative) is missing its dout",
                           cause="chain_rule_forgotten", confidence=0.95,
                           evidence="called again with 2 * dout, backward returned exactly the same numbers")
        linear = user - constant
        if ctx.close(linear, ref):
            return Finding("one term of backward ignores the upstream gradient: it does not scale with dout; "
                           "multiply that term by dout too (the chain rule)", cause="chain_rule_forgotten",
                           confidence=0.9, evidence="called again with 2 * dout, the part of yours that scales "
                                                    "with dout is exactly the true gradient")
        squared = _quadratic(user, doubled, ref, ctx)
        if squared is not None:
            return squared
        return Finding("backward does not scale with the upstream gradient (the chain rule is applied only in "
                       "part), and the part that scales is wrong too", cause="chain_rule_forgotten",
                       confidence=0.7, evidence="called again with 2 * dout, yours did not double")
    g = cotangent_like(ctx, user.shape)
    if g is None or ctx.close(user * g, user):
        return None
    if ctx.close(user * g, ref):
        return Finding("the upstream gradient is ignored: yours * dout is the true gradient, so backward returns "
                       "the local derivative without multiplying by dout (the chain rule)",
                       cause="chain_rule_forgotten", confidence=0.9,
                       evidence="yours * dout equals the true gradient on every element")
    return None


def _accumulated(ref: np.ndarray, ctx: Context) -> Finding | None:
    """A backward that adds into a gradient it never zeroes (a total kept outside the object, which gradviz cannot
    put back between calls: a module-level dict, a class attribute): called with 3 * dout and then 5 * dout, its
    second answer exceeds the first by the true gradient for 5 * dout, where any VJP's answers are 3 : 5."""
    if ctx.close(ref, np.zeros_like(ref)):
        return None  # a true gradient of zero: growing by it says nothing
    if "repeated" not in ctx.memo:  # two more backwards, only for a gradient that did not scale with dout
        d = np.asarray(ctx.cotangent, dtype=np.float64)
        answers = []
        for factor in (3.0, 5.0):
            got = ctx.vjp(factor * d)
            answers.append(None if got is None else np.array(got, dtype=np.float64))  # a copy: the array may grow
        ctx.memo["repeated"] = answers
    first, second = ctx.memo["repeated"]
    if first is None or second is None or first.shape != ref.shape or second.shape != ref.shape \
            or ctx.close(second, 5.0 / 3.0 * first):
        return None  # linear in dout: nothing is carried between calls
    if ctx.close(second - first, 5.0 * ref):
        return Finding("backward adds into a gradient it never zeroes: each call returns the running total of "
                       "every call before it, not its own gradient; start from zero in each backward (assign with "
                       "= rather than +=, or zero the total first)", cause="accumulated_across_calls",
                       confidence=0.95, evidence="called with 3 * dout and then 5 * dout, the second answer exceeds "
                                                 "the first by exactly the true gradient for 5 * dout")
    return None


def _proportional(a: np.ndarray, b) -> bool:
    if not isinstance(b, np.ndarray) or b.shape != a.shape or not b.any():
        return False
    c = float((a * b).sum() / (b * b).sum())
    return bool(np.allclose(a, c * b, rtol=1e-6, atol=1e-9 * scale(a)))


def _quadratic(user: np.ndarray, doubled: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """A backward that grows with dout squared, whose part linear in dout is the true gradient: it reads a value
    dout has already changed in the same call, most often dx computed from weights the same backward updated
    (W -= lr * dW before dx = dout @ W.T). Yours for t * dout is then t * A + t**2 * B: the answers for 1 and 2
    give A and B, and a third call with 3 * dout must give 3 * A + 9 * B."""
    squared = (doubled - 2.0 * user) / 2.0
    linear = user - squared
    if not ctx.close(linear, ref):
        return None
    if "tripled" not in ctx.memo:
        got = ctx.vjp(3.0 * np.asarray(ctx.cotangent, dtype=np.float64))
        ctx.memo["tripled"] = None if got is None else np.array(got, dtype=np.float64)
    tripled = ctx.memo["tripled"]
    if tripled is None or tripled.shape != user.shape or not ctx.close(tripled, 3.0 * linear + 9.0 * squared):
        return None
    return Finding("backward grows with dout squared, and its part linear in dout is exactly the true gradient: "
                   "something it uses was already changed by this dout, most often dx computed from weights the same "
                   "backward has just updated (W -= lr * dW before dx = dout @ W.T); compute dx before the update",
                   cause="used_after_update", confidence=0.9,
                   evidence="called again with 2 * dout and 3 * dout, yours is t * (the true gradient) + t**2 * "
                            "(a remainder) on every element")
