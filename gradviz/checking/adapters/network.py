"""A whole network whose backprop(x, y) takes the upstream gradient from its own cost_derivative (Nielsen's network.py).

    nabla_b, nabla_w = net.backprop(x, y)      delta = self.cost_derivative(activations[-1], y) * sigmoid_prime(z)

Such a backward has no upstream-gradient argument: the gradient enters through the method it calls on the
network's output. While it runs, that method answers the drawn upstream gradient instead, so `backprop` is
read as any VJP of `feedforward` (confirmed linear in it, like every reading). The gradients come back as lists
parallel to the network's own lists of arrays (nabla_b beside self.biases), matched by length and shapes.
What the cost's derivative itself is (cost_derivative's formula) is not checked: there is no cost to compare.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import numpy as np

from ...errors import GradvizError
from .layer_members import float_attributes
from .reading import Reading, UserCodeError, as_array, call, is_float_array, positional_names

UPSTREAM_METHODS = ("cost_derivative", "cost_prime", "loss_derivative", "loss_prime", "cost_grad", "loss_grad",
                    "dcost", "d_cost", "dloss", "d_loss", "output_error")
FORWARD_METHODS = ("feedforward", "feed_forward", "forward", "predict", "__call__")
BACKWARD_METHODS = ("backprop", "backpropagate", "backpropagation", "backward", "gradient")


def network_methods(obj: Any, forward: str | None, backward: str | None) -> tuple[str, str, str] | None:
    """(forward, backward, upstream method) when the backward takes no upstream and calls self.<cost_derivative>."""
    has = [n for n in (backward,) if n] or [n for n in BACKWARD_METHODS if callable(getattr(obj, n, None))]
    fwd = forward or next((n for n in FORWARD_METHODS if callable(getattr(obj, n, None))
                           and (n != "__call__" or hasattr(type(obj), "__call__"))), None)
    for bwd in has:
        method = getattr(obj, bwd, None)
        if fwd is None or not callable(method) or len(positional_names(method)) < 2:
            continue
        called = _self_calls(method)
        for helper in list(called):  # delta = self.output_delta(a, y, z), which calls self.cost_derivative
            if callable(getattr(obj, helper, None)):
                called |= _self_calls(getattr(obj, helper))
        upstream = next((n for n in UPSTREAM_METHODS if n in called and callable(getattr(obj, n, None))), None)
        if upstream is not None:
            return fwd, bwd, upstream
    return None


def _self_calls(method: Any) -> set[str]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return set()
    return {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name) and n.func.value.id == "self"}


def network_reading(obj: Any, values: dict[str, Any], methods: tuple[str, str, str],
                    timeout: float | None) -> Reading:
    """backprop(x, y) as the VJP of feedforward(x), the upstream gradient handed over by the upstream method."""
    cls = type(obj).__name__
    fwd_name, bwd_name, upstream = methods
    fwd, bwd = getattr(obj, fwd_name), getattr(obj, bwd_name)
    params = positional_names(bwd)
    given = dict(values)
    args = [given.pop(p) for p in params if p in given]
    args += [given.pop(k) for k in list(given)][:len(params) - len(args)]
    if len(args) < len(params) or not is_float_array(args[0]):
        raise GradvizError(f"{cls}.{bwd_name}({', '.join(params)}) needs {len(params)} inputs: give them with "
                           f"--input {params[0]}=SHAPE --input {params[1]}=SHAPE")
    x = np.array(args[0], dtype=np.float64)
    owned = float_attributes(obj)
    lists = {k: v for k, v in vars(obj).items() if isinstance(v, list) and v and all(map(is_float_array, v))}
    arrays = {n: a for n, a in owned.items() if n.split("[")[0] in lists}
    saved = {n: a.copy() for n, a in arrays.items()}
    if not arrays:
        raise GradvizError(f"{cls} keeps no lists of arrays for {cls}.{bwd_name}'s gradients to belong to")

    def forward(current):
        return as_array(f"{cls}.{fwd_name}", call(f"{cls}.{fwd_name}", fwd, x.copy(), timeout=timeout))

    def vjp(dout):
        setattr(obj, upstream, lambda *a, **k: np.array(dout, copy=True))
        try:
            returned = call(f"{cls}.{bwd_name}", bwd, x.copy(), *[np.copy(a) for a in args[1:]], timeout=timeout)
        finally:
            delattr(obj, upstream)
        return _parallel(returned, lists, f"{cls}.{bwd_name}")

    def restore() -> list[str]:
        for n, a in arrays.items():
            np.copyto(a, saved[n])
        return []

    notes = [f"the upstream gradient enters through {cls}.{upstream}, which returns the drawn upstream gradient while "
             f"{cls}.{bwd_name} runs: {bwd_name}'s chain rule is checked, {upstream}'s own formula is not",
             f"{params[0]} is {cls}.{fwd_name}'s input, held constant ({cls}.{bwd_name} returns no gradient for it); "
             f"{', '.join(params[1:])} passed to {cls}.{bwd_name} as given"]
    return Reading(name=cls, convention=f"a network's {bwd_name}({', '.join(params)}) fed by its {upstream}",
                   override="forward=/backward= (--forward NAME --backward NAME) name the methods", arrays=arrays,
                   forward=forward, vjp=vjp, backward_name=f"{cls}.{bwd_name}", inputs=(), notes=notes,
                   restore=restore, named=set(arrays), code=(obj,),
                   binding=f"{cls}.{bwd_name}({', '.join(params)}); the output is what {cls}.{fwd_name} returns")


def _parallel(returned: Any, lists: dict[str, list], what: str) -> dict[str, Any]:
    """(nabla_b, nabla_w) -> biases[i], weights[i]: each returned list beside the one list of its length and shapes."""
    groups = list(returned) if isinstance(returned, tuple) else [returned]
    out: dict[str, Any] = {}
    for group in groups:
        if not isinstance(group, (list, tuple)):
            continue
        shapes = [np.shape(g) for g in group]
        fits = [k for k, v in lists.items() if [a.shape for a in v] == shapes and k not in {n.split("[")[0] for n in out}]
        if len(fits) == 1:
            out.update({f"{fits[0]}[{i}]": g for i, g in enumerate(group)})
    if not out:
        raise UserCodeError(f"{what} returned no list of gradients beside {', '.join(lists)} (same length and shapes)",
                            cause="unmatched")
    return out
