"""A function pair read by structure: one Reading per Plan (structure.py), each confirmed before use.

Several outputs are checked together: the forward seen by the checker is
every output flattened and joined, and the random cotangent is split back into
one upstream gradient per output. Returned values the backward takes no
gradient for are passed through and said.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from ..confirm import Candidate
from .assign import assign
from .cost_pair import cost_note, cost_plans, cost_value
from .forward_call import ForwardCall
from .pair import split_settings
from .reading import (Reading, UserCodeError, accepts, as_array, call, no_float_array, positional_names,
                      returned_names, user_name)
from .structure import Plan, plans

TRIAL_SEED = 12345


def pair_candidates(forward: Callable, backward: Callable, args: tuple, kwargs: dict, *, wrt=None,
                    timeout: float | None = None, batch_axis: int = 0, layout: str | None = None,
                    dout: list[str] | None = None, outputs: list[str] | None = None,
                    grads: dict[str, str] | None = None) -> tuple[list[Candidate], Any]:
    """Every structural reading of the pair, most certain first, and what forward returned."""
    fc = ForwardCall(forward, args, split_settings(forward, kwargs), wrt, timeout)
    if not fc.leaves:
        raise no_float_array(fc.name, fc.arguments)
    returned = fc({n: a.copy() for n, a in fc.arrays.items()})  # raising here fails every reading alike: an ERROR
    elements = fc.elements(returned)
    labels = fc.labels(len(elements))
    settings = {k: v for k, v in kwargs.items() if accepts(backward, k)}
    found = plans(fc, backward, elements, settings, dout=dout, outputs=outputs)
    bname = user_name(backward)
    costs = [] if dout or outputs else cost_plans(forward, backward, found, labels, set(settings))
    return [Candidate(f"{bname}: {plan.describe(labels)}",
                      _builder(fc, backward, plan, settings, timeout, batch_axis, layout, grads, labels),
                      certain=plan.named) for plan in found] + [
        Candidate(f"{bname}: the gradient of {user_name(cost)}({', '.join(positional_names(cost))}) of "
                  f"{labels[plan.outputs[0]]}", _builder(fc, backward, plan, settings, timeout, batch_axis, layout,
                                                         grads, labels, (cost, others)), certain=True)
        for plan, cost, others in costs], returned


def _builder(fc, backward, plan, settings, timeout, batch_axis, layout, grad_map, labels, cost=None):
    return lambda: plan_reading(fc, backward, plan, settings, timeout=timeout, batch_axis=batch_axis, layout=layout,
                                grad_map=grad_map, labels=labels, cost=cost)


def plan_reading(fc: ForwardCall, backward: Callable, plan: Plan, settings: dict, *, timeout, batch_axis, layout,
                 grad_map, labels, cost: tuple | None = None) -> Reading:
    """One plan as a Reading; `cost` = (a cost function, its data arguments) when backward starts from its
    derivative at the forward's output (cost_pair.py)."""
    bname = user_name(backward)
    rnames = returned_names(backward)
    leaves = list(fc.arrays)
    shapes = {n: a.shape for n, a in fc.arrays.items()}
    loss = not plan.upstream

    def outputs_of(current):
        elements = fc.elements(fc(current))
        return elements, [elements[i] for i in plan.outputs]

    def run_forward(current):
        _, outs = outputs_of(current)
        arrays = [as_array(fc.name, o) for o in outs]
        if cost is not None:
            fn, others = cost
            data = {o: settings[o] if o in settings else fc.last_arguments.get(o) for o in others}
            name = next(p for p, (k, i) in plan.sources.items() if k == "returned" and i == plan.outputs[0])
            return as_array(user_name(fn), call(user_name(fn), cost_value, fn, outs[0], name, data,
                                                timeout=timeout)).reshape(())
        if loss:
            if arrays[0].size != 1:
                raise UserCodeError(f"{fc.name} returned shape {arrays[0].shape} where the cost belongs")
            return arrays[0].reshape(())
        return arrays[0] if len(arrays) == 1 else np.concatenate([a.ravel() for a in arrays])

    def raw_backward(dout):
        elements, outs = outputs_of({n: a.copy() for n, a in fc.arrays.items()})
        call_kwargs = {}
        if not loss:
            for param, piece in zip(plan.upstream, _split(dout, outs)):
                call_kwargs[param] = piece
        arguments = fc.last_arguments
        for param, (kind, what) in plan.sources.items():
            value = elements[what] if kind == "returned" else arguments.get(what) if kind == "argument" \
                else settings[what]
            call_kwargs[param] = value.copy() if isinstance(value, np.ndarray) else value
        call_kwargs.update({k: v for k, v in settings.items() if k not in call_kwargs})
        return call(bname, backward, timeout=timeout, **call_kwargs)

    trial_out = np.asarray(run_forward({n: a.copy() for n, a in fc.arrays.items()}), dtype=np.float64)
    trial_dout = None if loss else np.random.default_rng(TRIAL_SEED).normal(size=trial_out.shape)
    layout_of = assign(raw_backward(trial_dout), leaves, fc.top_level, shapes, rnames, grad_map)
    if layout_of.problem:
        raise GradvizError(layout_of.problem)
    kept = [n for n in leaves if n not in layout_of.dropped]
    arrays = {n: fc.arrays[n] for n in kept}

    def vjp(dout):
        assigned = assign(raw_backward(dout), leaves, fc.top_level, shapes, rnames, grad_map)
        if assigned.problem:
            raise UserCodeError(f"{bname}: {assigned.problem}")
        return {n: g for n, g in assigned.grads.items() if n in arrays}

    binding = plan.describe(labels)
    if cost is not None:
        binding = binding.replace(f"no upstream gradient ({labels[plan.outputs[0]]} is the cost)",
                                  f"no upstream gradient (the cost is {user_name(cost[0])})")
    keys = [f"{layout_of.keys[n]} <- {n}" if n in layout_of.keys else f"{n} by position and shape"
            for n in kept if n in layout_of.grads]
    notes = [f"binding: {binding}" + (f"; {', '.join(keys)}" if keys else "")]
    if cost is not None:
        notes.insert(0, cost_note(cost[0], backward, next(iter(plan.sources)), labels[plan.outputs[0]]))
    if layout_of.dropped:
        one = len(layout_of.dropped) == 1
        notes.append(f"{', '.join(layout_of.dropped)}: {bname} returns no gradient for {'it' if one else 'them'}, "
                     f"so {'it is' if one else 'they are'} held constant (--wrt NAME differentiates an array)")
    reading = Reading(name=f"{fc.name}/{bname}", convention=f"a function pair read by its structure ({bname} "
                      f"called as {_call_text(plan, labels)})",
                      override="--dout NAME, --outputs NAMES, --grad NAME=KEY and --wrt NAME say it otherwise",
                      arrays=arrays, forward=run_forward, vjp=vjp, backward_name=bname,
                      grad_names=dict(layout_of.keys), inputs=tuple(n for n in kept[:1] if n in fc.top_level),
                      loss=loss, batch_axis=batch_axis, layout=layout, notes=notes, warnings=list(fc.warnings),
                      constants={n: v for n, v in fc.arguments.items() if n not in arrays},
                      named=set(layout_of.named), binding=binding)
    return reading


def _call_text(plan: Plan, labels: list[str]) -> str:
    params = list(plan.upstream) + list(plan.sources)
    return f"({', '.join(params)})"


def _split(dout: Any, outs: list[Any]) -> list[Any]:
    """One upstream gradient per output, shaped like it (a float output gets a float)."""
    if len(outs) == 1:
        return [_like(dout, outs[0])]
    pieces, start = [], 0
    flat = np.asarray(dout).ravel()
    for o in outs:
        size = int(np.size(o))
        pieces.append(_like(flat[start:start + size].reshape(np.shape(o)), o))
        start += size
    return pieces


def _like(piece: Any, output: Any) -> Any:
    if isinstance(output, (float, np.floating)) and not isinstance(output, np.ndarray):
        return float(np.asarray(piece).reshape(()))
    return np.array(piece, dtype=np.float64)
