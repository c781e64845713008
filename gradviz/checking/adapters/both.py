"""One function returning a cost and its gradients together, in either order and in any container.

    grads, cost = propagate(w, b, X, Y)           grads = {"dw": ..., "db": ...}
    cost, grads = compute_cost_and_grads(params, X, y)
    loss, (dW1, db1) = loss_and_grads(W1, b1, X)

The cost is the one number among the returned values; the gradients are the
rest, matched to the float arrays (and the arrays inside dict arguments) by
the one name vocabulary, then by position and shape (assign.py).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from .assign import assign
from .forward_call import ForwardCall, is_numeric_output
from .reading import Reading, UserCodeError, as_array, no_float_array, returned_items, user_name


def _loss_then_array(returned: Any, first_size: int | None = None) -> bool:
    """(loss, grad) with one gradient array the size of the first float argument: the named convention."""
    return isinstance(returned, tuple) and len(returned) == 2 and is_numeric_output(returned[0]) \
        and np.size(returned[0]) == 1 and isinstance(returned[1], np.ndarray) \
        and (first_size is None or returned[1].size == first_size)


def _cost_and_gradients(returned: Any) -> tuple[int, Any] | None:
    """(index of the cost, the gradients) when the result is a cost and gradients, else None."""
    if not isinstance(returned, (tuple, list)) or len(returned) < 2:
        return None
    costs = [i for i, r in enumerate(returned) if is_numeric_output(r) and np.size(r) == 1]
    if not costs:
        return None
    k = costs[0]
    rest = [r for i, r in enumerate(returned) if i != k]
    return k, rest[0] if len(rest) == 1 else tuple(rest)


def both_structured(fn: Callable, args: tuple, wrt, timeout: float | None) -> Reading:
    name = user_name(fn)
    fc = ForwardCall(fn, args, {}, wrt, timeout)
    if not fc.leaves:
        raise no_float_array(name, fc.arguments)
    leaves, shapes = list(fc.arrays), {n: a.shape for n, a in fc.arrays.items()}
    labels = returned_items(fn)

    def split(current):
        found = _cost_and_gradients(fc(current))
        if found is None:
            raise UserCodeError(f"{name} did not return a cost and its gradients")
        return found

    first_k, first_grads = split({n: a.copy() for n, a in fc.arrays.items()})
    layout = assign(first_grads, leaves, fc.top_level, shapes, None)
    if layout.problem:
        raise GradvizError(f"{name}: {layout.problem}; say which with wrt= (--wrt NAME)")
    kept = [n for n in leaves if n not in layout.dropped and (n in layout.grads or n not in fc.top_level
                                                               or not layout.named)]
    arrays = {n: fc.arrays[n] for n in kept}

    def forward(current):
        k, _ = split(current)
        return as_array(name, fc.elements(fc.last_result)[k]).reshape(())

    def vjp(dout):
        _, grads = split({n: a.copy() for n, a in arrays.items()})
        return {n: g for n, g in assign(grads, leaves, fc.top_level, shapes, None).grads.items() if n in arrays}

    cost_name = labels[first_k] if labels and len(labels) > first_k else f"returned value {first_k + 1}"
    held = [n for n in leaves if n not in arrays]
    notes = [f"binding: {cost_name} is the cost; " + ", ".join(f"{layout.keys.get(n, n + ' by position')} <- {n}"
                                                              for n in kept if n in layout.grads)]
    if held:
        notes.append(f"{', '.join(held)}: {name} returns no gradient for {'it' if len(held) == 1 else 'them'}; "
                     "held constant (--wrt NAME differentiates an array)")
    return Reading(name=name, convention=f"a function returning a cost and its gradients together ({name})",
                   override="wrt= (--wrt NAME) names the differentiated arrays", arrays=arrays, forward=forward,
                   vjp=vjp, backward_name=name, grad_names=dict(layout.keys), inputs=(), loss=True, notes=notes,
                   warnings=list(fc.warnings), constants={n: v for n, v in fc.arguments.items() if n not in arrays},
                   named=set(layout.named), cost_index=first_k)
