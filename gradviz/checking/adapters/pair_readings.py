"""Every reading of a function pair, confirmed in order: the named conventions first, then structure.

The forward is called once first: when it raises on the user's own arguments
every reading would fail alike, so that is the user's ERROR, not a refusal.

The named conventions (pair.py: cache style, explicit arguments) are tried
first so code that read before reads the same way; the structural readings
(structured.py) follow. confirm.choose keeps the first reading whose
confirmation holds, or refuses with everything it tried.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ...errors import GradvizError
from ..confirm import Candidate, choose
from .pair import pair_subject, split_settings
from ..names import upstream_name
from .reading import Reading, positional_names, user_name
from .structured import pair_candidates


def read_pair(forward: Callable, backward: Callable, args: tuple, kwargs: dict, *, wrt=None,
              timeout: float | None = None, batch_axis: int = 0, layout: str | None = None, seed: int = 0,
              dout: list[str] | None = None, outputs: list[str] | None = None,
              grads: dict[str, str] | None = None) -> Reading:
    """The first confirmed reading of the pair (confirm.choose), or a GradvizError saying what was tried."""
    candidates = pair_readings(forward, backward, args, kwargs, wrt=wrt, timeout=timeout, batch_axis=batch_axis,
                               layout=layout, dout=dout, outputs=outputs, grads=grads)
    return choose(candidates, f"{user_name(forward)}/{user_name(backward)}", seed)


def pair_readings(forward: Callable, backward: Callable, args: tuple, kwargs: dict, *, wrt=None,
                  timeout: float | None = None, batch_axis: int = 0, layout: str | None = None,
                  dout: list[str] | None = None, outputs: list[str] | None = None,
                  grads: dict[str, str] | None = None) -> list[Candidate]:
    """Every reading gradviz may try for the pair, in the order it tries them."""
    for fn, role in ((forward, "forward"), (backward, "backward")):
        if not callable(fn):
            raise GradvizError(f"check_pair needs two functions; the {role} given is {type(fn).__name__}")
    fname, bname = user_name(forward), user_name(backward)
    said = dout is not None or outputs is not None or grads is not None
    structural, returned = pair_candidates(forward, backward, args, kwargs, wrt=wrt, timeout=timeout,
                                           batch_axis=batch_axis, layout=layout, dout=dout, outputs=outputs,
                                           grads=grads)
    candidates: list[Candidate] = []
    if not said:
        certain = _named_convention(forward, backward, kwargs, returned)

        def named_reading() -> Reading:
            reading = pair_subject(forward, backward, args, kwargs, wrt=wrt, timeout=timeout, batch_axis=batch_axis,
                                   layout=layout)
            # sizes the user stated: gradients named by `return dx, dw`, or all when the signature names everything
            reading.named = set(reading.arrays) if certain else set(reading.grad_names)
            reading.binding = _binding(forward, backward, reading)
            reading.notes.append(f"binding: {reading.binding}")
            return reading

        candidates.append(Candidate(f"{bname}({', '.join(positional_names(backward))}) as {fname}'s named "
                                    "convention", named_reading, certain=certain))
    return candidates + structural


def _named_convention(forward: Callable, backward: Callable, kwargs: dict, returned: Any) -> bool:
    """backward(dout, cache) after (out, cache), or backward(dout, *forward's arguments) after one array."""
    params = positional_names(backward)
    known = set(positional_names(forward)) | set(split_settings(backward, kwargs))
    if not params or params[0] in known or not upstream_name(params[0]):  # backward(X, Y, cache): no upstream
        return False
    pair = isinstance(returned, tuple) and len(returned) == 2
    if params[1:] == ["cache"]:
        return pair
    return isinstance(returned, np.ndarray) and all(p in known for p in params[1:])


def _binding(forward: Callable, backward: Callable, reading: Reading) -> str:
    """The named convention's binding in the user's names: dout <- upstream of out; cache <- cache; dx <- x."""
    params = positional_names(backward)
    known = set(positional_names(forward))
    parts = [f"{params[0]} <- upstream of {user_name(forward)}'s output"] if params else []
    parts += [f"{p} <- {p}" if p in known else f"{p} <- what {user_name(forward)} returned as {p}"
              for p in params[1:]]
    grads = [f"{reading.grad_names[n]} <- {n}" if n in reading.grad_names else f"{n} by position"
             for n in reading.arrays]
    return "; ".join(parts) + (f"; {', '.join(grads)}" if grads else "")
