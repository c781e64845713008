"""Drawing a torch output that was computed without recording: torchviz's walk over ``grad_fn``.

torchviz's ``make_dot(y, params=dict(model.named_parameters()))`` needs nothing but the output: autograd
already keeps the backward graph. The same walk here gives the same picture in gradviz's style: each
backward function as a grey box with torch's name, each leaf (a parameter) as a box with its name
from `params` and its shape, each tensor a backward function saved (``_saved_mat1``, ``_saved_result``,
or a custom Function's ``ctx.save_for_backward``) as an orange box with its shape, joined by a dotted
edge, and the output in green. Values are shown where torch keeps them: leaves (and their ``.grad``
once backward has run), saved tensors and the output; small ones in full, bigger ones as min / mean / max.
Iterative, so deep graphs do not hit Python's recursion limit; node ids follow the walk, so the same
program gives the same DOT text.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import GradvizError
from ..rendering.drawing import Drawing
from ..rendering.styles import FONT, FONT_SIZE, ROLE_COLORS, SMALL_FONT_SIZE

SAVED_PREFIX = "_saved_"
SMALL = 6  # elements shown in full up to this many
FUNCTION_FILL = "#d9d9d9"  # a backward function (torchviz: grey)
SAVED_FILL = "#ffe0b2"  # a tensor saved for backward (torchviz: orange)
OPTIONS = ("rankdir", "show_saved")


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def _values(t: torch.Tensor, word: str = "data") -> str:
    data = t.detach().to(torch.float64).cpu().numpy().reshape(-1)
    if data.size == 0:
        return ""
    if data.size <= SMALL:
        return f"{word} " + " ".join(f"{v:.4g}" for v in data)
    return f"{word} min {data.min():.3g} max {data.max():.3g}\\nmean {data.mean():.3g}"  # two lines: narrow boxes


def _label(*lines: str) -> str:
    return "\\n".join(line for line in lines if line)


def _leaf_label(t: torch.Tensor, name: str) -> str:
    grad = t.grad if t.requires_grad and isinstance(t.grad, torch.Tensor) else None
    return _label(name, _shape(t), _values(t), _values(grad, "grad") if grad is not None else "")


def draw_grad_fn(output: torch.Tensor, params: dict[str, torch.Tensor] | None = None,
                 show_saved: bool = True, rankdir: str = "TB") -> Drawing:
    """The backward graph of `output` as torchviz draws it, from `output.grad_fn`."""
    if rankdir == "auto":  # torchviz's layout: the output at the bottom
        rankdir = "TB"
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise GradvizError(f"rankdir must be one of auto, TB, LR, BT, RL; got {rankdir!r}")
    names = {id(t): name for name, t in (params or {}).items() if isinstance(t, torch.Tensor)}
    dot = Drawing("gradviz", format="svg",
                  graph_attr={"rankdir": rankdir, "nodesep": "0.2", "ranksep": "0.3", "fontname": FONT},
                  node_attr={"fontname": FONT, "fontsize": str(FONT_SIZE), "shape": "box", "style": "filled"},
                  edge_attr={"fontname": FONT, "fontsize": str(SMALL_FONT_SIZE), "arrowsize": "0.7"})
    ids: dict[int, str] = {}

    def node_id(obj: Any) -> str:
        return ids.setdefault(id(obj), f"n{len(ids)}")

    root = output.grad_fn
    if root is None:  # a leaf that requires grad: torchviz draws it alone
        dot.node("out", _leaf_label(output, names.get(id(output), "output")), fillcolor=ROLE_COLORS["output"])
        return dot
    dot.node("out", _label(names.get(id(output), "output"), _shape(output), _values(output)),
             fillcolor=ROLE_COLORS["output"])
    dot.edge(node_id(root), "out")
    stack, seen = [root], set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        here = node_id(fn)
        variable = getattr(fn, "variable", None)
        if isinstance(variable, torch.Tensor):  # AccumulateGrad: a leaf, usually a parameter
            name = names.get(id(variable), "")
            dot.node(here, _leaf_label(variable, name),
                     fillcolor=ROLE_COLORS["parameter"] if name else ROLE_COLORS["input"])
        else:
            dot.node(here, type(fn).__name__, fillcolor=FUNCTION_FILL)
            if show_saved:
                _saved_tensors(dot, fn, here, names)
        for child, _ in fn.next_functions:
            if child is not None:
                dot.edge(node_id(child), here)
                stack.append(child)
    return dot


def _saved(fn: Any) -> list[tuple[str, torch.Tensor]]:
    """(name, tensor) for what `fn` keeps for backward: torch's `_saved_*` attributes, a custom Function's
    ctx.save_for_backward; freed ones (after backward without retain_graph) are left out."""
    found = []
    for attr in sorted(a for a in dir(fn) if a.startswith(SAVED_PREFIX)):
        try:
            value = getattr(fn, attr)
        except RuntimeError:  # freed after backward(retain_graph=False)
            continue
        if isinstance(value, torch.Tensor):
            found.append((attr[len(SAVED_PREFIX):], value))
    if not found and hasattr(fn, "saved_tensors"):  # a torch.autograd.Function of the user's
        try:
            found = [(f"saved {k}", t) for k, t in enumerate(fn.saved_tensors) if isinstance(t, torch.Tensor)]
        except RuntimeError:
            pass
    return found


def _saved_tensors(dot: Drawing, fn: Any, here: str, names: dict[int, str]) -> None:
    """torchviz's orange boxes: the tensors a backward function keeps, joined to it by a dotted edge."""
    for attr, value in _saved(fn):
        saved = f"{here}_{attr.replace(' ', '_')}"
        dot.node(saved, _label(names.get(id(value)) or attr, _shape(value), _values(value)), fillcolor=SAVED_FILL)
        dot.edge(saved, here, style="dotted", dir="none")


def unused_options(options: dict) -> list[str]:
    """The drawing options a grad_fn walk cannot honour (they need the recorded graph)."""
    return sorted(set(options) - set(OPTIONS))

