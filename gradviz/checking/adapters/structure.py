"""Readings of a forward/backward function pair proposed from structure, never from one fixed spelling.

A Plan says how backward is called: which returned values are outputs, which
backward parameters take their upstream gradients (anywhere in its signature,
several for several outputs: lstm_step_backward(dnext_h, dnext_c, cache)), and
where every other parameter comes from (a forward argument of the same name, a
returned value such as the cache wherever it sits, a setting). A backward that
takes no upstream gradient (backward_propagation(X, Y, cache) of a cost) is a
plan with no outputs but the cost. `plans()` lists every plan in the order
gradviz tries them; confirm.py keeps the first whose reading is confirmed.
"""

from __future__ import annotations

import inspect
from itertools import permutations
from dataclasses import dataclass, field
from typing import Any, Callable

from ..names import target_of
from .forward_call import ForwardCall, is_numeric_output
from .reading import positional_names

MAX_PLANS = 24
MAX_OUTPUTS = 3  # upstream gradients tried by position (more are read by name only)


@dataclass
class Plan:
    """One way of calling backward after forward."""

    outputs: list[int]  # returned values taken as outputs, in the order of `upstream`
    upstream: list[str]  # backward's parameters that receive their upstream gradients
    sources: dict[str, tuple[str, Any]] = field(default_factory=dict)  # ("argument"|"returned"|"setting", what)
    passed: list[int] = field(default_factory=list)  # returned arrays without an upstream gradient
    named: bool = False  # the upstream gradients and the other parameters were bound by the user's names

    def key(self) -> tuple:
        return tuple(self.outputs), tuple(self.upstream), tuple(sorted(self.sources.items(), key=str))

    def describe(self, labels: list[str]) -> str:
        if self.upstream:
            up = (f"{', '.join(self.upstream)} <- upstream of {', '.join(labels[i] for i in self.outputs)}")
        else:
            up = f"no upstream gradient ({labels[self.outputs[0]]} is the cost)"
        rest = [f"{p} <- {_source_text(s, labels)}" for p, s in self.sources.items()]
        passed = [f"{labels[i]} passed through" for i in self.passed]
        return "; ".join([up] + rest + passed)


def _source_text(source: tuple[str, Any], labels: list[str]) -> str:
    kind, what = source
    if kind == "returned":
        return labels[what]
    return f"the setting {what}" if kind == "setting" else what


def backward_parameters(backward: Callable) -> list[tuple[str, bool]]:
    """(name, required) of backward's positional parameters."""
    try:
        params = inspect.signature(backward).parameters.values()
    except (TypeError, ValueError):
        return []
    names = set(positional_names(backward))
    return [(p.name, p.default is inspect.Parameter.empty) for p in params if p.name in names]


def plans(fc: ForwardCall, backward: Callable, elements: list[Any], settings: dict, *,
          dout: list[str] | None = None, outputs: list[str] | None = None) -> list[Plan]:
    """Every plausible way to call backward, most certain first (names, then positions)."""
    params = backward_parameters(backward)
    labels = fc.labels(len(elements))
    arrays = [i for i, e in enumerate(elements) if is_numeric_output(e)]
    by_name: dict[str, tuple[str, Any]] = {}
    upstream_named: dict[str, int] = {}
    for p, _ in params:
        if p in fc.arguments:
            by_name[p] = ("argument", p)
        elif p in settings:
            by_name[p] = ("setting", p)
        elif p in labels:  # returned twice (`return probs, preds, probs`): the later one is the cache
            by_name[p] = ("returned", len(labels) - 1 - labels[::-1].index(p))
        else:
            target = target_of(p, [labels[i] for i in arrays])
            if target is not None and target != p:
                upstream_named[p] = labels.index(target)
    free = [p for p, _ in params if p not in by_name]
    proposals: list[tuple[list[int], list[str]]] = []
    if upstream_named:
        proposals.append((list(upstream_named.values()), list(upstream_named)))
    for k in range(1, min(len(free), len(arrays), MAX_OUTPUTS) + 1):  # the first k free parameters, k outputs
        for order in permutations(arrays[:k]):  # in every order: ambiguity is found, not guessed away
            proposals.append((list(order), free[:k]))
    for p in free:  # one upstream gradient in any position (backward(x, delta_h, activator)), for any output
        for i in arrays:
            proposals.append(([i], [p]))
    scalar = [i for i in arrays if _size(elements[i]) == 1]
    if scalar:
        proposals.append(([scalar[0]], []))
    found: dict[tuple, Plan] = {}
    for outs, ups in proposals:
        plan = _complete(outs, ups, params, by_name, elements, arrays, fc)
        if plan is None or not _wanted(plan, dout, outputs, labels) or _contradicts(plan, upstream_named):
            continue
        found.setdefault(plan.key(), plan)
    ordered = sorted(found.values(), key=lambda pl: (not pl.named, not pl.upstream and bool(upstream_named)))
    return ordered[:MAX_PLANS]


def _complete(outs: list[int], ups: list[str], params, by_name, elements, arrays, fc) -> Plan | None:
    """Bind every other parameter: by name, then the unused returned values, then unused forward arguments."""
    plan = Plan(outputs=list(outs), upstream=list(ups))
    used = set(outs)
    used.update(s[1] for s in by_name.values() if s[0] == "returned")
    leftovers = sorted((i for i in range(len(elements)) if i not in used),
                       key=lambda i: is_numeric_output(elements[i]))  # the opaque cache before arrays
    unnamed_args = [a for a in fc.arguments if a not in {p for p, _ in params}]
    positional = False
    for p, required in params:
        if p in ups:
            continue
        if p in by_name:
            plan.sources[p] = by_name[p]
        elif leftovers and required:
            plan.sources[p] = ("returned", leftovers.pop(0))
            positional = positional or p != "cache" and not _only_leftover(elements, outs, by_name, params, ups)
        elif unnamed_args and required:
            plan.sources[p] = ("argument", unnamed_args.pop(0))
            positional = True
        elif required:
            return None
    taken = {s[1] for s in plan.sources.values() if s[0] == "returned"}
    plan.passed = [i for i in arrays if i not in used and i not in taken]
    plan.named = not positional and (not ups or _named_upstream(ups, outs, fc, len(elements)))
    return plan


def _contradicts(plan: Plan, upstream_named: dict[str, int]) -> bool:
    """dnext_h given the upstream of next_c: a reading against the user's own names is never tried."""
    if any(upstream_named.get(u, o) != o for u, o in zip(plan.upstream, plan.outputs)):
        return True
    return any(kind == "returned" and p in upstream_named for p, (kind, _) in plan.sources.items())


def _only_leftover(elements, outs, by_name, params, ups) -> bool:
    """One returned value left for one parameter left: the cache, wherever it sits."""
    named_returns = {s[1] for s in by_name.values() if s[0] == "returned"}
    left = [i for i in range(len(elements)) if i not in outs and i not in named_returns
            and not is_numeric_output(elements[i])]
    rest = [p for p, required in params if p not in ups and p not in by_name and required]
    return len(left) == 1 and len(rest) == 1


def _named_upstream(ups: list[str], outs: list[int], fc: ForwardCall, count: int) -> bool:
    labels = fc.labels(count)
    return all(target_of(u, [labels[o]]) is not None for u, o in zip(ups, outs))


def _wanted(plan: Plan, dout: list[str] | None, outputs: list[str] | None, labels: list[str]) -> bool:
    if dout is not None and plan.upstream != dout:
        return False
    if outputs is not None and [labels[i] for i in plan.outputs] != outputs and \
            [str(i + 1) for i in plan.outputs] != outputs:
        return False
    return True


def _size(value: Any) -> int:
    try:
        return int(getattr(value, "size", 1))
    except TypeError:
        return 1
