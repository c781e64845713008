"""A penalty the layer declares and its backward adds to the parameter gradients (the nnfs book's regularizers).

    Layer_Dense(4, 3, weight_regularizer_l2=5e-4)      backward: self.dweights += 2 * self.weight_regularizer_l2 * W

The forward does not compute the penalty (the book's loss adds `l2 * sum(W**2)` itself), so the layer's
`dweights` is the gradient of its output *plus* the penalty's. A layer that says so by an attribute,
`weight_regularizer_l2` / `bias_regularizer_l1` (or `l2`/`l1`, `kernel_regularizer_l2`) with a value above 0,
is checked that way: the declared penalty's gradient (L2: 2 * l2 * W, the gradient of l2 * sum(W**2); L1:
l1 * sign(W)) is taken off the parameter's gradient before it is compared, and the note says so. A backward
that adds a different amount, or forgets it, still fails on that parameter.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

WEIGHT_NAMES = ("weights", "weight", "W", "w", "kernel")
BIAS_NAMES = ("biases", "bias", "b")
DECLARED = re.compile(r"^(?:(weight|kernel|bias)_)?(?:regularizer_)?(l1|l2)(?:_regularizer|_reg|_lambda)?$")


def declared_penalties(obj: Any, candidates: dict[str, np.ndarray]) -> dict[str, tuple[str, str, float]]:
    """{parameter: (attribute, "l1"|"l2", strength)} for each penalty the layer declares on a parameter it has."""
    out: dict[str, tuple[str, str, float]] = {}
    for attr, value in vars(obj).items():
        match = DECLARED.match(attr)
        if not match or isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            continue
        owner, kind = match.groups()
        names = BIAS_NAMES if owner == "bias" else WEIGHT_NAMES
        param = next((n for n in names if n in candidates), None)
        if param is not None and param not in out:
            out[param] = (attr, kind, float(value))
    return out


def penalty_gradient(kind: str, strength: float, param: np.ndarray) -> np.ndarray:
    return 2 * strength * param if kind == "l2" else strength * np.sign(param)


def without_penalties(grads: dict[str, Any], candidates: dict[str, np.ndarray],
                      penalties: dict[str, tuple[str, str, float]]) -> dict[str, Any]:
    """The parameter gradients with each declared penalty's gradient taken off (at the parameter's current value)."""
    out = dict(grads)
    for name, (_, kind, strength) in penalties.items():
        g = out.get(name)
        if isinstance(g, np.ndarray) and g.shape == candidates[name].shape:
            out[name] = g - penalty_gradient(kind, strength, candidates[name])
    return out


def penalty_note(cls: str, bwd: str, penalties: dict[str, tuple[str, str, float]]) -> str:
    said = "; ".join(f"{p}: {a} = {s:g} (the gradient of {a} * sum({'|' + p + '|' if k == 'l1' else p + '**2'}), "
                     f"{'2 * ' if k == 'l2' else ''}{a} * {p if k == 'l2' else 'sign(' + p + ')'})"
                     for p, (a, k, s) in penalties.items())
    return (f"{cls} declares a penalty its forward does not compute (the loss adds it): its gradient belongs in "
            f"what {cls}.{bwd} gives, and is taken off before the comparison; {said}")
