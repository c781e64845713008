"""A dropped term of the product or quotient rule, replayed on the op's SymPy twin.

For an elementwise op with a twin, every product u * v in its formula is
differentiated again with one factor held constant (the term the student
forgot), and every quotient with its denominator held constant; a replay
that reproduces the user's numbers names the term.
"""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .util import cotangent_like


def _slips(expr, target):
    """(sentence, expression with one term of the rule dropped) for each product and quotient in expr."""
    import sympy

    held = sympy.Dummy("held")
    for sub in sympy.preorder_traversal(expr):
        if isinstance(sub, sympy.Mul):
            factors = [f for f in sub.args if f.has(target)]
            if len(factors) >= 2:
                for f in factors:
                    if isinstance(f, sympy.Pow) and f.exp.is_negative:
                        continue  # a denominator: the quotient rule below speaks about it
                    frozen = sympy.Mul(*[held if a == f else a for a in sub.args])
                    yield (f"the product rule dropped the term where {f} is differentiated: "
                           f"d(u*v) = u'*v + u*v' needs both", expr.xreplace({sub: frozen}), f)
        if isinstance(sub, sympy.Pow) and sub.exp.is_negative and sub.base.has(target) and expr != sub:
            yield (f"the quotient rule dropped the term with the derivative of the denominator {sub.base}: "
                   "d(u/v) = (u'*v - u*v') / v**2", expr.xreplace({sub: held}), sub)


@hypothesis
def dropped_rule_term(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    if ctx.twin is None or ctx.name not in ctx.inputs:
        return None
    import sympy

    names = list(ctx.inputs)
    symbols = [sympy.Symbol(n, real=True) for n in names]  # the formula reads in the user's names
    expr = ctx.twin(*symbols)
    target = symbols[names.index(ctx.name)]
    values = [np.asarray(ctx.inputs[n], dtype=np.float64) for n in names]
    g = cotangent_like(ctx, user.shape)
    g = 1.0 if g is None else g
    for sentence, frozen, held_value in _slips(expr, target):
        held = next(s for s in frozen.free_symbols if isinstance(s, sympy.Dummy))
        derivative = sympy.diff(frozen, target).xreplace({held: held_value})
        with np.errstate(all="ignore"):
            candidate = np.broadcast_to(sympy.lambdify(symbols, derivative, modules="numpy")(*values) * g,
                                        user.shape)
        if np.all(np.isfinite(candidate)) and ctx.close(user, candidate) and not ctx.close(candidate, ref):
            return Finding(sentence, cause="dropped_rule_term", confidence=0.9,
                           evidence=f"differentiating the op's formula {expr} with that term left out "
                                    "reproduces yours on every element")
    return None
