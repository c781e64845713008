"""Calling conventions of course code that look like bugs against a summed-loss cotangent."""

from __future__ import annotations

import numpy as np

from .context import Context
from .facts import constant_ratio, facts_of
from .finding import Finding
from .registry import hypothesis


@hypothesis
def per_example_dout(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """deeplearning.ai: dZ holds per-example gradients, so 1/m is in dW and db but not in dA_prev.

    Fires for a parameter gradient that is exactly 1/m of the true one, where m
    is an axis of the layer's input, when every other parameter gradient is
    1/m too (`ctx.attrs["parameters"]`: (user, true) pairs) and the input
    gradient is right (`ctx.attrs["input_gradient_ok"]`): a lone dW / m is a bug.
    """
    if ctx.attrs.get("role") != "parameter" or not ctx.attrs.get("input_gradient_ok"):
        return None
    ratio = facts_of(user, ref, ctx).ratio
    if ratio is None or ratio <= 0:
        return None
    others = [constant_ratio(u, r) for u, r in ctx.attrs.get("parameters", ())]
    if any(q is None or abs(q - ratio) > 1e-3 * ratio for q in others):
        return None
    m = round(1.0 / ratio)
    sizes = {int(s) for a in ctx.inputs.values() for s in np.shape(a)} | ({ctx.batch} if ctx.batch else set())
    if m < 2 or m not in sizes or abs(ratio * m - 1.0) > 1e-3:
        return None
    return Finding(
        f"it is 1/{m} of the true gradient while the input gradient is right: the deeplearning.ai convention "
        f"(dZ holds per-example gradients; 1/m, m = {m} examples, is applied in the parameter gradients only); "
        "check it in that convention with per_example_dout=True (--per-example-dout)",
        cause="per_example_dout", evidence=f"yours / true = {ratio:.6g} = 1/{m}", confidence=0.97)


per_example_dout.memo = False  # reads what the other gradients' verdicts say: never answered from an earlier call
