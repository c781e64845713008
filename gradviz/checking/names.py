"""One vocabulary for matching gradient names to the arrays they belong to, used by every adapter.

Course code names the gradient of `W` as dW, W_grad, grad_W, d_W, dW1 for W1,
dLdW, dL_dW or dJ_dW (the derivative of the loss L or cost J written out), a dict key ("dW", "W1_grad"), an attribute (self.dweights for self.weights)
or an entry of a nested dict (grads["layer1"]["dW"]). Every adapter asks this
module, so a spelling learnt once is understood everywhere.
"""

from __future__ import annotations

from typing import Any, Iterable

# d<loss>d<name>: dLdW, dL_dW, dJdW, dJ_dW, dEdW (CMU 11-785 and textbook notation), before the bare d
LOSS_PREFIXES = tuple(f"d{loss}{sep}d" for loss in "LJEC" for sep in ("_", ""))
PREFIXES = LOSS_PREFIXES + ("grad_", "d_", "grad", "d")  # longest first: grad_W before gW-like accidents
SUFFIXES = ("_gradient", "_grad", "_d", "grad")


def bare_name(name: str) -> str:
    """params['W'] -> W, layer.W -> W, layers[0] -> layers[0]: the key course code uses for an array."""
    name = str(name)
    if "[" in name and name.endswith("]"):
        key = name.rsplit("[", 1)[1][:-1]
        if key[:1] in "'\"" and key[-1:] == key[:1]:
            return key[1:-1]
        return name
    return name.rsplit(".", 1)[-1]


def spellings(name: str) -> list[str]:
    """Where course code keeps the gradient of array `name` (W -> dW, grad_W, W_grad, ...)."""
    name = bare_name(name)
    if "[" in name:
        return []
    return [p + name for p in PREFIXES] + [name + s for s in SUFFIXES]


def strip(key: str) -> str:
    """dA_prev -> A_prev, grad_W -> W, W_grad -> W, d_x -> x: the array a gradient's name refers to."""
    key = str(key)
    for suffix in SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    for prefix in PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix):]
    return key


UPSTREAM_WORDS = ("grad", "delta", "upstream", "dout", "err", "top_diff", "dl", "sensitivity")


def upstream_name(name: str) -> bool:
    """dout, dA, dZ, dy, grad_output, delta_h, dLdy: a parameter name that says it holds an upstream gradient."""
    lowered = name.lower()
    return strip(name) != name or any(w in lowered for w in UPSTREAM_WORDS)


def target_of(key: Any, names: Iterable[str]) -> str | None:
    """Which of `names` the gradient called `key` belongs to, or None.

    Exact names first (a dict keyed by the arrays' own names), then the
    gradient spellings, then the same ignoring case when that is unambiguous
    (dX for x).
    """
    names = list(names)
    key = str(key)
    by_bare = {bare_name(n): n for n in names}
    for n in names:
        if key == n or key == bare_name(n):
            return n
    for n in names:
        if key in spellings(n):
            return n
    stripped = strip(key)
    if stripped in by_bare:
        return by_bare[stripped]
    folded = [n for b, n in by_bare.items() if b.lower() == stripped.lower() or b.lower() == key.lower()]
    return folded[0] if len(folded) == 1 else None


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """A nested dict of gradients as {leaf key: value}; the innermost key names the gradient."""
    if not isinstance(value, dict):
        return {path: value}
    out: dict[str, Any] = {}
    for k, v in value.items():
        if isinstance(v, dict):
            out.update(flatten(v, str(k)))
        else:
            out[str(k)] = v
    return out


def match(grads: dict, names: Iterable[str]) -> dict[str, Any]:
    """A gradient dict (nested or flat) matched onto the arrays' names; unmatched keys are dropped."""
    names = list(names)
    out: dict[str, Any] = {}
    for key, value in flatten(grads).items():
        target = target_of(key, names)
        if target is not None and target not in out:
            out[target] = value
    return out
