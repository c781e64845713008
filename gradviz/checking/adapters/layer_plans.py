"""The ways a layer class may be called: where its output is, and what each backward parameter receives.

    out = layer.forward(x)                       the output is returned
    out, cache = layer.forward(x)                the first array returned; the rest is the cache backward takes
    layer.forward(x) stores self.output          the output is an attribute
    layer.forward(x) appends to self.h_list      the output is the newest entry of a history list (recurrent layers)

    backward(dout[, x])                          the upstream gradient first (the named convention)
    backward(input, grad_output)                 the upstream gradient in another position
    backward(x, delta_h, activator)              the others bound by name: the input, the cache, the forward's
                                                 output, an attribute of the layer (self.activator), a learning rate,
                                                 another argument of the forward by its name (backward(dout, mask))

Each combination is one reading; the confirm stage (checking/confirm.py) keeps the one whose properties hold.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import GradvizError
from ..names import upstream_name
from .reading import is_float_array

OUTPUT_NAMES = ("output", "out", "outputs", "y", "Z", "A", "a", "activation")
LR_NAMES = ("learning_rate", "lr", "eta", "alpha", "step_size", "learningrate", "rate")
X_NAMES = ("x", "X", "input", "inputs", "inp", "input_array", "x_t", "xt", "a_prev", "A_prev", "features")
CACHE_NAMES = ("cache", "caches", "ctx", "saved", "memory")
UPSTREAM_PREFIXES = ("delta_", "grad_", "d_", "delta", "grad", "d")


@dataclass(frozen=True)
class Output:
    """Where the forward's output is: returned, the first of (out, cache), self.NAME, or self.NAME[-1]."""

    kind: str  # "return", "item", "attr", "list"
    name: str = ""
    certain: bool = True

    def read(self, obj: Any, returned: Any) -> Any:
        if self.kind == "item":
            return returned[0]
        if self.kind == "attr":
            return getattr(obj, self.name)
        if self.kind == "list":
            return getattr(obj, self.name)[-1]
        return returned

    def cache(self, returned: Any) -> Any:
        """The opaque rest of a returned (out, cache)."""
        return (returned[1] if len(returned) == 2 else tuple(returned[1:])) if self.kind == "item" else None

    def describe(self, what: str) -> str:
        return {"return": f"the output is what {what} returns",
                "item": f"the output is the first value {what} returns, the rest its cache",
                "attr": f"the output is self.{self.name}",
                "list": f"the output is self.{self.name}[-1], the newest entry {what} appends"}[self.kind]


@dataclass(frozen=True)
class Plan:
    """How backward is called: the parameter taking the upstream gradient, and what every other one receives."""

    dout: str
    sources: tuple[tuple[str, str], ...] = ()  # (parameter, "x" | "lr" | "cache" | "out" | "attr" | "in:NAME")
    certain: bool = False

    @property
    def learning_rate(self) -> str | None:
        return next((p for p, s in self.sources if s == "lr"), None)

    def describe(self, what: str) -> str:
        said = {"x": "the input", "lr": "a learning rate of 1", "cache": "the cache", "out": "the forward's output"}
        parts = [f"{self.dout} <- the upstream gradient"] + [
            f"{p} <- {said.get(s, f'the input {s[3:]}' if s.startswith('in:') else 'self.' + p)}"
            for p, s in self.sources]
        return f"{what}({', '.join(parts)})"


def outputs_of(obj: Any, returned: Any, written: set[str], grown: list[str], x: np.ndarray,
               asked: list[str] | None, douts: list[str]) -> list[Output]:
    """Every place the output may be, most likely first; `asked` (outputs=) names it."""
    if returned is not None and not asked:
        if isinstance(returned, (tuple, list)) and len(returned) >= 2 and is_float_array(returned[0]) \
                and not all(is_float_array(r) and np.shape(r) == np.shape(returned[0]) for r in returned):
            return [Output("item")]
        return [Output("return")]
    plain = [k for k in written if "[" not in k and is_float_array(getattr(obj, k, None))
             and not _same(getattr(obj, k), x)]
    plain.sort(key=lambda k: (k not in OUTPUT_NAMES, OUTPUT_NAMES.index(k) if k in OUTPUT_NAMES else 0))
    lists = [k for k in grown if not _same(getattr(obj, k)[-1], x)]
    found = [Output("attr", k) for k in plain] + [Output("list", k) for k in lists]
    if asked:
        chosen = [o for o in found if o.name in asked or o.name.removesuffix("_list") in asked]
        if not chosen:
            places = ", ".join(f"self.{o.name}" for o in found) or "none"
            raise GradvizError(f"outputs= (--outputs) names {', '.join(asked)}, but the forward's result is not "
                               f"there; the arrays it writes on the layer are {places}")
        return [Output(o.kind, o.name, True) for o in chosen]
    by_dout = [o for o in found if any(_names_output(d, o.name) for d in douts)]
    if by_dout:  # backward(x, delta_h, ...) after forward appends to self.h_list: delta_h says which
        return [Output(o.kind, o.name, True) for o in by_dout]
    named = [o for o in found if o.name in OUTPUT_NAMES]
    if named:  # self.output: the names say it, no other attribute is read as the output
        return [Output(named[0].kind, named[0].name, True)]
    return [Output(o.kind, o.name, len(found) == 1) for o in found]


def _same(a: Any, x: np.ndarray) -> bool:
    return a is x or (np.shape(a) == x.shape and np.array_equal(a, x))


def _names_output(param: str, attribute: str) -> bool:
    """delta_h names self.h_list and self.h; dstate names self.states."""
    stem = next((param[len(p):] for p in UPSTREAM_PREFIXES if param.startswith(p) and len(param) > len(p)), None)
    if not stem:
        return False
    base = attribute.lower().removesuffix("_list").removesuffix("s").removesuffix("_history")
    return stem.lower().removesuffix("_array") in (base, attribute.lower())


def backward_plans(obj: Any, bwd: Any, input_name: str, output: Output, dout: list[str] | None,
                   others: tuple[str, ...] = ()) -> list[Plan | tuple[str, str]]:
    """Every way to call backward, the named convention first; (position, why) when a position cannot be dout."""
    try:
        signature = inspect.signature(bwd).parameters.values()
    except (TypeError, ValueError):
        return [Plan("dout")]
    params = [p for p in signature if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not params:
        raise GradvizError(f"{getattr(bwd, '__qualname__', 'backward')} takes no parameter for the upstream gradient")
    names = [p.name for p in params]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    if dout:
        unknown = [d for d in dout if d not in names]
        if unknown or len(dout) != 1:
            raise GradvizError(f"dout= (--dout) names {', '.join(dout)}; a layer's backward takes one upstream "
                               f"gradient, one of its parameters {', '.join(names)}")
        positions = [dout[0]]
    else:
        positions = list(dict.fromkeys([names[0]] + required))
    plans: list[Plan | tuple[str, str]] = []
    for position in positions:
        sources, missing = [], []
        for name in names:
            if name == position:
                continue
            second = position == names[0] and len(names) > 1 and name == names[1]
            source = _source(obj, name, input_name, output, second, others)
            if name not in required:  # an optional parameter keeps its default unless it is a learning rate
                source = source if source == "lr" else None
            if source:
                sources.append((name, source))
            elif name in required:
                missing.append(name)
        if missing:
            plans.append((position, f"nothing to pass to {', '.join(missing)} (no input, cache, learning rate or "
                                    f"attribute self.{missing[0]} by that name)"))
            continue
        certain = bool(dout) or upstream_name(position) and position not in X_NAMES or len(required) <= 1
        plans.append(Plan(position, tuple(sources), certain))
    sure = [p for p in plans if isinstance(p, Plan) and p.certain]
    return sure[:1] or plans  # the names say which parameter is dout: no other is read as it


def _source(obj: Any, name: str, input_name: str, output: Output, second: bool, others: tuple = ()) -> str | None:
    """What a backward parameter other than the upstream gradient receives, by its name."""
    flat = name.lower().replace("_", "")
    if flat in {n.replace("_", "") for n in LR_NAMES}:
        return "lr"
    if name == input_name or name in X_NAMES and name not in others:
        return "x"
    if name in others:  # forward(x, h_prev) then backward(dh, h_prev): the forward's argument of that name
        return "in:" + name
    if output.kind == "item" and (name in CACHE_NAMES or "cache" in name.lower()):
        return "cache"
    if name in OUTPUT_NAMES or name in ("output_array", "y_hat", "h"):
        return "out"
    if name in getattr(obj, "__dict__", {}):
        return "attr"
    if output.kind == "item" and second:
        return "cache"
    if second:  # backward(dZ, A_prev): the named convention passes the input second, whatever its name
        return "x"
    return None
