"""gv.torch.draw: torchviz's ``make_dot(output, params=...)``, drawn by gradviz.

Unlike torchviz's grad_fn walk, the picture is the recorded forward graph:
values, gradients and shapes on every node, modules as clusters, big models
folded automatically, deterministic DOT, and a check's verdict on the nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import GradvizError, describe
from ..graph import topological_order
from ..rendering import Drawing
from ..rendering import draw as gradviz_draw
from ..tensor import Tensor
from .tracer import twins


def draw(output: Any, params: dict[str, torch.Tensor] | None = None, *, report: Any = None,
         backward: bool = True, **draw_options: Any) -> Drawing:
    """Draw a recorded torch computation (gv.torch.record's result, or a tensor computed in gv.torch.recording()).

    params: torchviz's name -> tensor mapping, e.g. dict(model.named_parameters()): their nodes are labelled
    with those names. backward: fill in gradients first (gradviz's backward over the recorded graph, each
    custom Function by its own backward) when none have been computed. report: a gv.torch.check Report,
    whose verdict is drawn on the nodes. Other options are gv.draw's (collapse, rankdir, show, ...).
    """
    root = _root_of(output)
    order = topological_order(root)
    if params:
        _label_params(params)
    if backward and root.requires_grad and all(n._grad is None for n in order):
        root.backward(np.ones(root.shape))
    return gradviz_draw(root, report=report, **draw_options)


def _root_of(output: Any) -> Tensor:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, torch.Tensor):
        twin = twins.get(output)
        if twin is not None:
            return twin
        raise GradvizError("this tensor was computed without recording, so its values are unknown to gradviz: "
                           "compute it inside `with gv.torch.recording(model):`, or draw "
                           "gv.torch.record(model, x)")
    raise GradvizError(f"gv.torch.draw needs a recorded graph or a torch tensor, got {describe(output)}")


def _label_params(params: dict[str, torch.Tensor]) -> None:
    if not isinstance(params, dict):
        raise GradvizError(f"params must be a dict of name -> tensor (torchviz's form, e.g. "
                           f"dict(model.named_parameters())), got {describe(params)}")
    for name, tensor in params.items():
        node = twins.get(tensor) if isinstance(tensor, torch.Tensor) else None
        if node is not None and node._op is None:
            node.label = name
            node.scope = node.scope or name.rpartition(".")[0]
