"""Where a layer's backward puts its gradients: returned, in a dict, stored on self, or where the user says.

    return dx                                  the input's gradient; the parameters' stored on self (self.dW)
    return dx, dh_prev                         one per forward input, by the returned names, else by position
    return dx, [dW, db] / return dx, dW, db    the parameters' after the inputs', by name, count or shape
    return {"dx": ..., "dW": ...}              a dict, keys matched by the one name vocabulary (checking/names.py)
    self.dLdW, self.grads[0], self.gradients["W"]   stored on self: the vocabulary, parallel lists, gradient dicts
    grads={"W": "nabla_W"} (--grad W=nabla_W)  the user's word: an attribute, a dict key, a returned name, a position
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..names import bare_name, match, target_of
from ..names import spellings as grad_spellings
from .layer_members import owner_of, split_member
from .layer_scalars import number_gradient
from .reading import Problem, UserCodeError, is_float_array

DX_NAMES = ("dinputs", "dinput", "dx", "dX", "dA_prev", "grad_input", "input_grad", "dA", "delta")
PREFERRED = (("weights", "biases"), ("W", "b"), ("w", "b"), ("weight", "bias"), ("kernel", "bias"),
             ("weights", "bias"), ("gamma", "beta"))
GRAD_LISTS = ("grads", "gradients", "dparams", "dparameters", "param_grads")


def sort_out(obj: Any, what: str, returned: Any, inputs: tuple[str, ...], candidates: dict,
             items: list[str | None] | None = None, shapes: dict | None = None) -> dict[str, Any]:
    """What backward gave: a gradient per differentiated input and per parameter, however it was handed back.

    A parameter whose gradient is not among what backward returned is looked for where it was stored."""
    out = _sort_out(obj, what, returned, inputs, candidates, items, shapes or {})
    left = {k: v for k, v in candidates.items() if k not in out}
    return {**out, **stored_grads(obj, left)} if left else out


def _sort_out(obj, what, returned, inputs, candidates, items, shapes) -> dict[str, Any]:
    if isinstance(returned, dict):  # one dict for everything: {"dx": ..., "dW": ..., "db": ...}
        out = match(returned, [*inputs, *candidates])
        if inputs and inputs[0] not in out:
            key = next((k for k in returned if k in DX_NAMES), None)
            if key is not None:
                out[inputs[0]] = returned[key]
        return out
    if len(inputs) >= 2 and isinstance(returned, (tuple, list)):
        return _several_inputs(obj, returned, inputs, candidates, items, shapes)
    grads: Any = None
    if isinstance(returned, tuple) and len(returned) >= 2:
        dx, grads = returned[0], (returned[1] if len(returned) == 2 and not is_float_array(returned[1])
                                  else list(returned[1:]))
    else:
        dx = returned
    out: dict[str, Any] = {}
    if inputs:
        if dx is None:
            dx = next((getattr(obj, n) for n in DX_NAMES if is_float_array(getattr(obj, n, None))), None)
            if dx is None:
                out[inputs[0]] = Problem("FAIL", f"{what} returned None and stored no input gradient on self "
                                                 f"(return it, or keep it as self.dinputs)")
        if dx is not None:
            out[inputs[0]] = dx
    elif dx is not None:  # no differentiated input (integer indices): what backward returns is the parameters'
        grads = [dx] + list(grads or []) if grads is None or isinstance(grads, list) else grads
    return {**out, **_parameter_grads(obj, what, grads, candidates)}


def _several_inputs(obj, returned, inputs, candidates, items, shapes) -> dict[str, Any]:
    """forward(x, h_prev) -> backward returns (dx, dh_prev[, dW, ...]): the returned names, then positions, then
    shapes (the first values fit the inputs in one other order only)."""
    values = list(returned)
    names = list(items or [])
    out: dict[str, Any] = {}
    if len(names) == len(values) and all(names):
        targets = [target_of(n, [*inputs, *candidates]) for n in names]
        if all(targets) and len(set(targets)) == len(targets) and all(t in targets for t in inputs):
            return {**dict(zip(targets, values)), **_parameter_grads(obj, "", None, {
                k: v for k, v in candidates.items() if k not in targets})}
    order = list(inputs)
    head = values[:len(inputs)]
    if shapes and any(np.shape(v) != shapes.get(n) for n, v in zip(order, head)):
        fits = [[n for n in inputs if shapes.get(n) == np.shape(v)] for v in head]
        if all(len(f) == 1 for f in fits) and len({f[0] for f in fits}) == len(inputs):
            order = [f[0] for f in fits]
    for name, value in zip(order, values):
        if value is not None:
            out[name] = value
    rest = values[len(inputs):]
    grads = rest[0] if len(rest) == 1 and not is_float_array(rest[0]) else rest
    return {**out, **_parameter_grads(obj, "", grads, candidates)}


def describe_inputs(items: list[str | None] | None, inputs: tuple[str, ...], candidates: dict) -> str:
    """How the gradients of several inputs are found, for the binding the report prints."""
    names = list(items or [])
    targets = [target_of(n, [*inputs, *candidates]) if n else None for n in names]
    if names and all(targets) and all(t in targets for t in inputs):
        return ", ".join(f"{names[targets.index(t)]} -> {t}" for t in inputs) + " (by the names it returns)"
    return f"its first {len(inputs)} returned values -> {', '.join(inputs)} (by position, or by shape)"


def _parameter_grads(obj, what, grads, candidates) -> dict[str, Any]:
    if grads is None or (isinstance(grads, (list, tuple)) and not grads):
        return stored_grads(obj, candidates)
    if isinstance(grads, dict):
        return match(grads, candidates)
    if is_float_array(grads):
        grads = [grads]
    grads = list(grads)
    names = list(candidates)
    if len(grads) == len(names):
        return dict(zip(names, grads))
    matched = _match_by_shape(grads, candidates)
    if matched is None:
        preferred = next((list(p) for p in PREFERRED if all(n in candidates for n in p)
                          and len(p) == len(grads)), None)
        if preferred is None:
            raise UserCodeError(f"{what or 'backward'} returned {len(grads)} parameter gradients for the "
                                f"{len(names)} float arrays on the layer ({', '.join(names)}); name the parameters "
                                "with params=", cause="unmatched")  # gradviz's reading, not the user's slip
        matched = dict(zip(preferred, grads))
    return matched


def _match_by_shape(grads, candidates) -> dict | None:
    if len(grads) > len(candidates) > 0:  # params= named some of them: each named array takes the one gradient its shape
        fits = {n: [g for g in grads if np.shape(g) == np.shape(v)] for n, v in candidates.items()}
        return {n: f[0] for n, f in fits.items()} if all(len(f) == 1 for f in fits.values()) else None
    out, free = {}, list(candidates)
    for g in grads:
        name = next((n for n in free if np.shape(candidates[n]) == np.shape(g)), None)
        if name is None:
            return None
        out[name] = g
        free.remove(name)
    return out


def stored_grads(obj, candidates) -> dict[str, Any]:
    """Gradients backward kept on self: self.dW / self.dLdW, grads["W"], and grads[i] beside params[i]."""
    out = {}
    holders = [getattr(obj, n) for n in ("grads", "gradients", "grad") if isinstance(getattr(obj, n, None), dict)]
    for name in candidates:
        if split_member(name)[0]:  # layers[0].W: the sub-layer that owns W keeps its gradient (layers[0].dW)
            owner = owner_of(obj, name)
            found = None if owner is None else next((getattr(owner[0], s) for s in grad_spellings(owner[1])
                                                     if is_float_array(getattr(owner[0], s, None))), None)
            if found is not None:
                out[name] = found.copy()
            continue
        found = next((getattr(obj, s) for s in grad_spellings(name) if is_float_array(getattr(obj, s, None))), None)
        if found is None and np.ndim(candidates[name]) == 0:  # PReLU's self.dalpha = float(...) for alpha
            found = next((number_gradient(getattr(obj, s, None)) for s in grad_spellings(name)
                          if number_gradient(getattr(obj, s, None)) is not None), None)
        if found is None and "[" in name:  # params['W'] -> params['dW'] or grads['dW']
            container = getattr(obj, name.split("[")[0], {})
            found = next((h.get(k) for h in holders + [container] for k in grad_spellings(name)
                          if isinstance(h, dict) and is_float_array(h.get(k))), None)
        for h in holders:
            if found is None:
                found = next((h[k] for k in [name, bare_name(name)] + grad_spellings(name)
                              if is_float_array(h.get(k))), None)
        if found is None:
            found = _parallel(obj, name, candidates[name])
        if found is not None:
            out[name] = found.copy()
    return out


def _parallel(obj, name: str, array: np.ndarray) -> np.ndarray | None:
    """params[i] -> grads[i]: the DLFS-2 style keeps parameters and gradients in two parallel lists."""
    owner, _, rest = name.partition("[")
    if not rest.endswith("]") or not rest[:-1].isdigit():
        return None
    i = int(rest[:-1])
    for holder in GRAD_LISTS:
        grads = getattr(obj, holder, None)
        if holder != owner and isinstance(grads, (list, tuple)) and i < len(grads) \
                and len(grads) == len(getattr(obj, owner, ())) and is_float_array(grads[i]) \
                and grads[i].shape == array.shape:
            return grads[i]
    return None


def said_grads(obj: Any, returned: Any, items: list[str | None] | None, said: dict[str, str],
               arrays: dict) -> dict[str, Any]:
    """The gradients the user located (grads= / --grad NAME=KEY): self.KEY, a dict key, a returned name, a position."""
    out: dict[str, Any] = {}
    values = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    for name, key in said.items():
        target = name if name in arrays else next((k for k in arrays if bare_name(k) == name), None)
        if target is None:
            continue
        if is_float_array(getattr(obj, key, None)):
            out[target] = getattr(obj, key).copy()
        elif isinstance(returned, dict) and key in returned:
            out[target] = returned[key]
        elif items and key in items and len(items) == len(values):
            out[target] = values[items.index(key)]
        elif key.isdigit() and 1 <= int(key) <= len(values):
            out[target] = values[int(key) - 1]
    return out


def unread(what: str, before: dict[str, int], after: dict, grads: dict, arrays: dict) -> str | None:
    """Why a parameter's missing gradient is a misreading: backward stored an array of its shape gradviz cannot name.

    `before` holds the ids of the float arrays on the layer before one backward, `after` the arrays after it; an
    array backward wrote that is no array gradviz knows, with the shape of a parameter left without a gradient, is
    where that gradient may well be: the reading is not confirmed, and the refusal says the flag."""
    missing = [n for n in arrays if n not in grads]
    stray = {k: v for k, v in after.items() if before.get(k) != id(v) and k not in arrays
             and target_of(k, arrays) is None}
    pairs = [(name, found[0]) for name in missing
             for found in [[k for k, v in stray.items() if np.shape(v) == np.shape(arrays[name])]] if found]
    if not pairs:
        return None
    stored = ", ".join(f"self.{k} (the shape of {n})" for n, k in pairs)
    flags = " ".join(f"--grad {bare_name(n)}={k}" for n, k in pairs)
    said = ", ".join(f"'{bare_name(n)}': '{k}'" for n, k in pairs)
    return (f"no gradient of {', '.join(n for n, _ in pairs)} by a name gradviz knows, while {what} stored {stored}: "
            f"if these are the gradients, say so with {flags} (grads={{{said}}})")
