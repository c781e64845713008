"""A model whose loss method returns the loss and the gradients of its own parameters: CS231n's classifiers.

    loss, grads = model.loss(X, y)        grads = {"W1": ..., "b1": ...}, the model's self.params["W1"], ...

The gradients belong to arrays the model keeps (a params dict, attributes, its sub-layers: layer_members.py),
matched by the one name vocabulary (grads["W1"], grads["dW1"]). The model's own arrays are perturbed in place,
as the loss method reads them, and put back after; the data arguments are held constant.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ...errors import GradvizError, InputError
from ..names import match
from .both import _cost_and_gradients
from .layer_members import float_attributes
from .reading import Reading, UserCodeError, as_array, call


def model_loss_reading(obj: Any, method: str, args: tuple, timeout: float | None) -> Reading:
    """`obj.method(*args)` returning (loss, grads) over the model's own arrays, as a loss of those arrays."""
    cls = type(obj).__name__
    what = f"{cls}.{method}"
    fn = getattr(obj, method)
    try:
        bound = inspect.signature(fn).bind(*args)
    except TypeError as exc:
        raise GradvizError(f"{what}{inspect.signature(fn)} cannot take {len(args)} arguments: {exc}") from None
    owned = float_attributes(obj)
    saved = {n: a.copy() for n, a in owned.items()}

    def split() -> tuple[int, dict]:
        returned = call(what, fn, *bound.args, timeout=timeout, **bound.kwargs)
        found = _cost_and_gradients(returned)
        if found is None or not isinstance(found[1], dict):
            raise UserCodeError(f"{what} returned {type(returned).__name__}, not (loss, grads) with grads a dict",
                                cause="unmatched")
        return found

    try:
        index, first = split()
    finally:
        _put_back(owned, saved)
    matched = match(first, list(owned))
    if not matched:
        raise GradvizError(f"{what} returns gradients keyed {', '.join(map(str, first))}, and none of them names an "
                           f"array {cls} keeps ({', '.join(owned) or 'it keeps none'})")
    arrays = {n: owned[n] for n in owned if n in matched}
    low = [n for n, a in arrays.items() if a.dtype != np.float64]
    if low:
        raise InputError(f"{', '.join(f'{cls}.{n} ({arrays[n].dtype})' for n in low)}: parameters are perturbed in "
                         "place and compared at 1e-6, which needs float64; create them with .astype(np.float64)")
    keys = {n: next(str(k) for k in first if match({k: 0}, [n])) for n in arrays}

    def forward(current):
        """The values the checker asks for, written into the model's own arrays (usually they are those arrays)."""
        held = {n: b.copy() for n, b in arrays.items() if current.get(n, b) is not b}
        for n in held:
            np.copyto(arrays[n], current[n])
        try:
            return as_array(what, call(what, fn, *bound.args, timeout=timeout, **bound.kwargs)[index]).reshape(())
        finally:
            for n, old in held.items():
                np.copyto(arrays[n], old)

    def vjp(dout):
        _, grads = split()
        return {n: g for n, g in match(grads, list(arrays)).items() if n in arrays}

    def restore() -> list[str]:
        _put_back(owned, saved)
        return []

    data = [n for n, v in bound.arguments.items() if isinstance(v, np.ndarray)]
    notes = [f"binding: {what}({', '.join(bound.arguments)}) returns the loss and grads; "
             + ", ".join(f"grads[{keys[n]!r}] <- {n}" for n in arrays)]
    if data:
        notes.append(f"{', '.join(data)}: data, held constant ({what} returns no gradient for "
                     f"{'it' if len(data) == 1 else 'them'})")
    return Reading(name=cls, convention=f"a model's loss method returning (loss, grads) ({what})",
                   override="compute= (--forward NAME) names the method", arrays=arrays, forward=forward, vjp=vjp,
                   backward_name=what, grad_names={n: f"grads[{keys[n]!r}]" for n in arrays}, inputs=(),
                   loss=True, notes=notes, restore=restore, named=set(arrays),
                   constants=dict(bound.arguments), code=(obj,))


def _put_back(owned: dict[str, np.ndarray], saved: dict[str, np.ndarray]) -> None:
    for n, a in owned.items():
        if a.shape == saved[n].shape:
            np.copyto(a, saved[n])
