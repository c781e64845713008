"""A backward that starts from the cost of the forward's output: deeplearning.ai's L_model_backward(AL, Y, caches).

    AL, caches = L_model_forward(X, parameters)
    grads = L_model_backward(AL, Y, caches)      dAL = -(Y / AL - (1 - Y) / (1 - AL)), the derivative of
    cost = compute_cost(AL, Y)                   this cost, written into the backward

Such a backward takes the forward's output itself, not an upstream gradient: what it returns is the gradient
of a cost of that output and the data. The cost is the function beside the pair that takes exactly the
backward's output parameter and its data parameters, by name (compute_cost(AL, Y)) and says it is a cost or
a loss; the pair is then checked as that cost of the forward's arguments.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from .reading import positional_names, user_name
from .structure import Plan

COST_WORDS = ("cost", "loss", "entropy", "error", "mse")


def cost_plans(forward: Callable, backward: Callable, found: list[Plan], labels: list[str],
               data: set[str]) -> list[tuple[Plan, Callable, list[str]]]:
    """(plan, cost function, its other arguments) for each plan whose one upstream parameter is a cost's input."""
    out = []
    for plan in found:
        if len(plan.upstream) != 1 or len(plan.outputs) != 1:
            continue
        param = plan.upstream[0]
        others = [p for p, (kind, what) in plan.sources.items() if kind in ("setting", "argument") and p in data]
        cost = find_cost(forward, backward, [param, *others])
        if cost is None:
            continue
        sources = {param: ("returned", plan.outputs[0]), **plan.sources}
        out.append((Plan(outputs=list(plan.outputs), upstream=[], sources=sources, passed=list(plan.passed),
                         named=True), cost, others))
    return out


def find_cost(forward: Callable, backward: Callable, params: list[str]) -> Callable | None:
    """The one function beside the pair taking exactly `params` by name, whose name says it is a cost."""
    found = []
    for fn in (forward, backward):
        module = inspect.getmodule(fn)
        for name, value in vars(module).items() if module is not None else ():
            if inspect.isfunction(value) and value not in (forward, backward) and value not in found \
                    and any(w in name.lower() for w in COST_WORDS) and _takes(value, params):
                found.append(value)
    return found[0] if len(found) == 1 else None


def _takes(fn: Callable, params: list[str]) -> bool:
    try:
        required = [p.name for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
    except (TypeError, ValueError):
        return False
    return sorted(required) == sorted(params) and sorted(positional_names(fn)[:len(params)]) == sorted(params)


def cost_value(cost: Callable, output: Any, param: str, others: dict[str, Any]) -> Any:
    """cost(AL=output, Y=...) by the cost's own parameter names."""
    return cost(**{param: output, **others})


def cost_note(cost: Callable, backward: Callable, param: str, label: str) -> str:
    return (f"{user_name(backward)} takes {label} itself as {param} and starts from the derivative of a cost: "
            f"checked as the gradient of {user_name(cost)}({', '.join(positional_names(cost))}), the cost beside it "
            "taking the same arguments")
