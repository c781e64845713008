"""Every reading of a layer class, confirmed before any verdict (checking/confirm.py).

A reading is a method pair (layer_methods.py), a place for the output and a way to call backward
(layer_plans.py). The forward is probed once per method pair on a fresh copy of the layer's state: what it
returns, the attributes it writes and the history lists it appends to say where the output may be. The
readings are tried in order; the first confirmed one is checked, two that hold and disagree, or none, is a
refusal naming dout= / outputs= / forward=, backward= / params= (their command-line flags).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import GradvizError
from ..confirm import Candidate, choose
from .layer import layer_subject, prepare
from .layer_members import float_attributes
from .layer_scalars import hold_as_arrays, scalar_parameters
from .network import network_methods, network_reading
from .layer_inputs import Feed
from .layer_methods import method_pairs
from .layer_plans import Output, Plan, backward_plans, outputs_of
from .layer_state import LayerState
from .reading import Reading, UserCodeError, call, is_float_array, positional_names

LAYER_HOW = ("say how it is called: dout= (--dout NAME) names the backward parameter taking the upstream gradient, "
             "outputs= (--outputs NAME) the attribute holding the forward's output, forward=/backward= "
             "(--forward NAME --backward NAME) the methods, params= (--params NAMES) the parameters, grads= "
             "(--grad NAME=ATTRIBUTE) where backward keeps a parameter's gradient")


def read_layer(obj: Any, x: Any, *, seed: int = 0, **options: Any) -> Reading:
    """The first confirmed reading of the layer, or a GradvizError saying what was tried and how to say it."""
    return choose(layer_readings(obj, x, **options), type(obj).__name__, seed, how=LAYER_HOW)


def layer_readings(obj: Any, x: Any, *, params=None, forward: str | None = None, backward: str | None = None,
                   dout: list[str] | None = None, outputs: list[str] | None = None, timeout: float | None = None,
                   batch_axis: int = 0, layout: str | None = None,
                   grads: dict[str, str] | None = None, labels: dict | None = None) -> list[Candidate]:
    """Every reading gradviz may try for the layer, in the order it tries them.

    `x` is the input array, or a dict of the forward's arguments by name (layer_inputs.py); `grads` says
    where backward keeps the gradient of a parameter gradviz cannot name ({"W": "nabla_W"}); `labels` the user's
    names of arrays the layer keeps in lists ({"W": W}: params[0] is reported as W)."""
    cls = type(obj).__name__
    notes: list[str] = []
    given = x if isinstance(x, Feed) else Feed.of(x, [])
    prepare(obj, given.first_array().shape, notes)
    network = network_methods(obj, forward, backward) if dout is None and params is None else None
    if network is not None:  # backprop(x, y) fed by self.cost_derivative: the network adapter
        return [Candidate(f"{cls}.{network[1]} fed by {cls}.{network[2]}",
                          lambda: network_reading(obj, given.values, network, timeout), certain=True)]
    pairs = method_pairs(obj, forward, backward)
    if params is None:
        _build(obj, pairs[0][0], given, timeout, notes)
        hold_as_arrays(obj, scalar_parameters(obj, getattr(obj, pairs[0][1])), notes)
    candidates: list[Candidate] = []
    failures: list[UserCodeError] = []
    for methods in pairs:
        fwd_name, bwd_name, how = methods
        names = positional_names(getattr(obj, bwd_name))
        feed = given.named(getattr(obj, fwd_name))
        first = feed.first_array()
        try:
            found = _probe(obj, fwd_name, feed, timeout,
                           lambda r, w, g: outputs_of(obj, r, w, g, first, outputs, names))
        except UserCodeError as exc:  # raising on the user's own input fails every reading of this pair alike
            failures.append(exc)
            continue
        if not found:
            failures.append(UserCodeError(f"{cls}.{fwd_name} returned None and stored no output array on self "
                                          "(return the output, or keep it as self.output)"))
            continue
        input_name = feed.first
        others = tuple(n for n in feed.values if n != input_name)
        sure_of_methods = how == "as given" or methods == pairs[0] and (
            len(pairs) == 1 or methods[0] != "__call__" and all(p[0] == "__call__" for p in pairs[1:]))
        for output in found:
            for plan in backward_plans(obj, getattr(obj, bwd_name), input_name, output, dout, others):
                if isinstance(plan, tuple):
                    candidates.append(Candidate(f"{cls}.{bwd_name} with {plan[0]} as the upstream gradient; "
                                                f"{output.describe(cls + '.' + fwd_name)}", _unbuildable(plan[1])))
                    continue
                describe = f"{plan.describe(cls + '.' + bwd_name)}; {output.describe(cls + '.' + fwd_name)}"
                candidates.append(Candidate(describe, _builder(obj, feed, methods, output, plan, params, timeout,
                                                               batch_axis, layout, notes, grads, labels),
                                            certain=plan.certain and output.certain and sure_of_methods))
    if not candidates and failures:
        raise failures[0]  # the forward fails on the user's own input whatever the reading: the user's ERROR
    if len(candidates) == 1 and candidates[0].certain:
        candidates[0].only = True
    return candidates


def _build(obj: Any, fwd_name: str, given: Feed, timeout: float | None, notes: list[str]) -> None:
    """A layer that makes its parameters on its first call (Keras's `build()` from `__call__`) is called once first.

    What the first call made and the second kept as it was (the same array) is a parameter; what each call
    makes afresh (a cache of the input, the output) is not. Without such arrays the layer is put back as it was."""
    if float_attributes(obj):
        return
    state = LayerState(obj)
    fwd = getattr(obj, fwd_name)
    feed = given.named(fwd)
    what = f"{type(obj).__name__}.{fwd_name}"
    try:
        args, kwargs = feed.call_args(fwd)
        call(what, fwd, *args, timeout=timeout, **kwargs)
        first = float_attributes(obj)
        args, kwargs = feed.call_args(fwd)
        call(what, fwd, *args, timeout=timeout, **kwargs)
    except UserCodeError:  # the readings call it again and report what it raises
        state.reset()
        return
    second = float_attributes(obj)
    made = [k for k, v in first.items() if second.get(k) is v]
    if made:
        notes.append(f"{what} made {', '.join(made)} on its first call: it was called once before the check, "
                     "and they are its parameters")
    else:
        state.reset()


def _probe(obj: Any, fwd_name: str, feed: Feed, timeout: float | None, places) -> list[Output]:
    """Where the output may be, from what forward returns, writes and appends to; the layer put back after."""
    state = LayerState(obj)
    before = float_attributes(obj)
    saved = {k: v.copy() for k, v in before.items()}
    lengths = {k: len(v) for k, v in vars(obj).items() if isinstance(v, list)}
    try:
        fwd = getattr(obj, fwd_name)
        args, kwargs = feed.call_args(fwd)
        returned = call(f"{type(obj).__name__}.{fwd_name}", fwd, *args, timeout=timeout, **kwargs)
        after = float_attributes(obj)
        written = {k for k, v in after.items() if k not in before or v is not before[k]
                   or not np.array_equal(v, saved[k])}
        grown = [k for k, n in lengths.items() if isinstance(vars(obj).get(k), list) and len(vars(obj)[k]) > n
                 and is_float_array(vars(obj)[k][-1])]
        return places(returned, written, grown)
    finally:
        state.adopt()  # weights the first forward builds stay (layer_state.py)
        state.reset()


def _builder(obj, feed, methods, output: Output, plan: Plan, params, timeout, batch_axis, layout, notes, grads,
             labels):
    return lambda: layer_subject(obj, feed, methods=methods, output=output, plan=plan, params=params, timeout=timeout,
                                 batch_axis=batch_axis, layout=layout, notes=notes, grads_said=grads, labels=labels)


def _unbuildable(why: str):
    def build() -> Reading:
        raise GradvizError(why)

    return build
