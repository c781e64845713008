"""Function pairs: `out, cache = f_forward(x, w, b, param)`; `dx, dw, db = f_backward(dout, cache)`,
or the explicit-argument style `conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1))`.

Gradients belong to the forward's float-array arguments in order (or by the
names in backward's `return dx, dw, db`); everything else (dicts such as
conv_param, strings, tuples, integer labels, activation functions) passes
through untouched. Each function receives only the settings it accepts.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from ..names import match
from ..names import strip as strip_grad_prefix
from .reading import (Problem, Reading, UserCodeError, accepts, as_array, call, float64_copy, is_float_array,
                      no_float_array, positional_names, returned_names, user_name)

OUTPUT_NAMES = ("out", "output", "Z", "A", "y", "outputs")


def split_settings(fn: Callable, kwargs: dict) -> dict:
    return {k: v for k, v in kwargs.items() if accepts(fn, k)}


def differentiable(bound: dict, wrt, what: str) -> list[str]:
    floats = [n for n, v in bound.items() if is_float_array(v)]
    if wrt is None:
        return floats
    wanted = [wrt] if isinstance(wrt, str) else list(wrt)
    unknown = [w for w in wanted if w not in bound]
    if unknown:
        raise GradvizError(f"wrt={unknown[0]!r}: {what} has no argument {unknown[0]}; its arguments are "
                           f"{', '.join(bound)}")
    return wanted


def pair_subject(forward: Callable, backward: Callable, args: tuple, kwargs: dict, *, wrt=None,
                 timeout: float | None = None, batch_axis: int = 0, layout: str | None = None) -> Reading:
    fname, bname = user_name(forward), user_name(backward)
    for fn, role in ((forward, "forward"), (backward, "backward")):
        if not callable(fn):
            raise GradvizError(f"check_pair needs two functions; the {role} given is {type(fn).__name__}")
    unused = [k for k in kwargs if not accepts(forward, k) and not accepts(backward, k)]
    if unused:
        raise GradvizError(f"setting {unused[0]}= is accepted by neither {fname} nor {bname}")
    try:
        bound = inspect.signature(forward).bind(*args, **split_settings(forward, kwargs))
    except TypeError as exc:
        raise GradvizError(f"{fname}{inspect.signature(forward)} cannot take these arguments: {exc}") from None
    warns: list[str] = []
    names = differentiable(bound.arguments, wrt, fname)
    if not names:
        raise no_float_array(fname, bound.arguments)
    arrays = {n: float64_copy(n, bound.arguments[n], warns) for n in names}

    slots = _slots(forward, args, split_settings(forward, kwargs), names)

    def call_forward(current):
        call_args, call_kwargs = list(slots.args), dict(slots.kwargs)
        for n, (where, key) in slots.places.items():
            (call_args if where == "args" else call_kwargs)[key] = current[n]
        returned = call(fname, forward, *call_args, timeout=timeout, **call_kwargs)
        return returned, _Bound(slots.names, call_args, call_kwargs)

    probe, _ = call_forward({n: a.copy() for n, a in arrays.items()})
    cached = isinstance(probe, tuple) and len(probe) == 2
    bwd_params = positional_names(backward)
    cache_style = cached and len(bwd_params) == 2 and bwd_params[1] not in bound.arguments

    def run_forward(current):
        returned, _ = call_forward(current)
        return as_array(fname, returned[0] if cached else returned)

    notes: list[str] = []
    with_defaults = inspect.signature(forward).bind(*args, **split_settings(forward, kwargs))
    with_defaults.apply_defaults()
    routing = _route(backward, list(with_defaults.arguments), kwargs, cached, cache_style)
    if not cache_style:
        by_position = [f"{p} <- {fname}'s {src}" for p, (kind, src) in routing.items() if kind == "position"]
        if by_position:
            notes.append(f"{bname}'s arguments matched by position: {', '.join(by_position)} (rename them to match)")
    rnames = returned_names(backward)
    grad_names = {}
    if rnames:
        for g in rnames:
            if strip_grad_prefix(g) in arrays:
                grad_names[strip_grad_prefix(g)] = g

    defaults = dict(with_defaults.arguments)

    def vjp(dout):
        returned, bound_now = call_forward({n: a.copy() for n, a in arrays.items()})
        out, cache = (returned[0], returned[1]) if cached else (returned, None)
        call_kwargs = {}
        for p, (kind, src) in routing.items():
            value = {"cache": cache, "output": out}.get(kind) if kind in ("cache", "output") else \
                kwargs[src] if kind == "setting" else bound_now.arguments.get(src, defaults.get(src))
            call_kwargs[p] = value.copy() if isinstance(value, np.ndarray) else value
        call_kwargs.update({k: v for k, v in kwargs.items() if accepts(backward, k) and k not in call_kwargs})
        grads = call(bname, backward, dout, timeout=timeout, **call_kwargs)
        return _assign(grads, names, arrays, rnames, bname)

    kind = (f"a cache-style function pair ({fname} returns (out, cache); {bname}(dout, cache))" if cache_style
            else f"a function pair with explicit arguments ({bname} receives {', '.join(bwd_params[1:]) or 'dout'})")
    return Reading(name=f"{fname}/{bname}", convention=kind, override="wrt= (--wrt NAME) picks the arguments",
                   arrays=arrays, forward=run_forward, vjp=vjp, backward_name=bname, grad_names=grad_names,
                   inputs=(names[0],), batch_axis=batch_axis, layout=layout, notes=notes, warnings=warns,
                   constants={n: v for n, v in bound.arguments.items() if n not in arrays})


class _Slots:
    """Where each differentiated argument sits in the forward's call, worked out once (binding a signature on
    every one of a full check's evaluations cost more than the user's forward)."""

    def __init__(self, names: dict[str, Any], args: list, kwargs: dict, places: dict[str, tuple[str, Any]]):
        self.names, self.args, self.kwargs, self.places = names, args, kwargs, places


class _Bound:
    """The arguments one call received, by parameter name (what `bound.arguments` gave)."""

    def __init__(self, names: dict[str, Any], args: list, kwargs: dict):
        self.arguments = {n: (args[k] if where == "args" else kwargs[k]) for n, (where, k) in names.items()}


def _slots(forward: Callable, args: tuple, settings: dict, names: list[str]) -> _Slots:
    """Bind once with a marker per argument, and remember where each marker landed."""
    signature = inspect.signature(forward)
    bound = signature.bind(*args, **settings)
    variadic = {p.name for p in signature.parameters.values() if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    markers = {n: object() for n in bound.arguments if n not in variadic}
    marked = signature.bind(*args, **settings)
    for n, m in markers.items():
        marked.arguments[n] = m
    marked_args, marked_kwargs = list(marked.args), dict(marked.kwargs)
    located: dict[str, tuple[str, Any]] = {}
    for n, m in markers.items():
        hit = next((("args", k) for k, v in enumerate(marked_args) if v is m), None) or next(
            (("kwargs", k) for k, v in marked_kwargs.items() if v is m), None)
        if hit is not None:
            located[n] = hit
    call_args, call_kwargs = list(bound.args), dict(bound.kwargs)
    return _Slots(located, call_args, call_kwargs, {n: located[n] for n in names if n in located})


def _route(backward: Callable, forward_args: list[str], settings: dict, cached: bool, cache_style: bool) -> dict:
    """Where each of backward's arguments after dout comes from: a forward argument, the cache, a setting.

    Names match first; a required argument with no namesake takes the next
    unmatched forward argument (said in the report).
    """
    params = positional_names(backward)[1:]
    if cache_style:
        return {params[0]: ("cache", "")}
    required = {p.name for p in inspect.signature(backward).parameters.values() if p.default is inspect.Parameter.empty}
    routing, free = {}, [a for a in forward_args if a not in params]
    for p in params:
        if p in forward_args:
            routing[p] = ("argument", p)
        elif p in settings:
            routing[p] = ("setting", p)
        elif p == "cache" and cached:
            routing[p] = ("cache", "")
        elif p in OUTPUT_NAMES:
            routing[p] = ("output", "")
        elif free and p in required:
            routing[p] = ("position", free.pop(0))
    return routing


def _assign(grads: Any, names: list[str], arrays: dict, rnames: list[str] | None, bname: str) -> dict[str, Any]:
    """Map what backward returned onto the differentiated arrays, by order or by the user's names."""
    if isinstance(grads, dict):
        return match(grads, names)
    items = list(grads) if isinstance(grads, (tuple, list)) else [grads]
    if rnames and len(rnames) == len(items) and all(strip_grad_prefix(g) in arrays for g in rnames):
        pairs = {strip_grad_prefix(g): v for g, v in zip(rnames, items)}
    elif len(items) == len(names):
        pairs = dict(zip(names, items))
    elif len(items) > len(names):
        pairs = dict(zip(names, items))
    else:
        raise UserCodeError(f"{bname} returned {len(items)} gradient{'s' * (len(items) != 1)} for the "
                            f"{len(names)} float arrays {', '.join(names)}; return one per array "
                            "(or pick the differentiated ones with wrt=)")
    return {n: (Problem("FAIL", f"{bname} returned None for the gradient of {n}") if v is None else v)
            for n, v in pairs.items()}
