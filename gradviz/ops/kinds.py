"""Questions about the op table that the rest of gradviz derives its op lists from.

gv.F, the expression parser, the SPEC parser's activations, the torch mapping
and the activation diagnosis each list ops by asking the table (never by a
list of names of their own), so an op added to the table shows up in each of
them, or is listed there with the reason it does not (tests/test_op_consumers.py).
"""

from __future__ import annotations

import inspect

from .registry import OpDef


def attribute_names(op: OpDef) -> tuple[str, ...]:
    """An elementwise op's keyword attributes (clip: lo, hi; powc: exponent): forward's parameters after its inputs."""
    if op.arity is None:
        return ()
    try:
        parameters = list(inspect.signature(op.forward).parameters.values())
    except (TypeError, ValueError):  # a builtin or ufunc forward: inputs only
        return ()
    return tuple(p.name for p in parameters[op.arity:])


def is_unary_function(op: OpDef) -> bool:
    """An elementwise op of one input and no attributes (tanh, exp, relu): a function applied to each element."""
    return op.elementwise and op.arity == 1 and not attribute_names(op)
