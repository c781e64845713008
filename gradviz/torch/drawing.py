"""gv.torch.draw: torchviz's ``make_dot(output, params=...)``, drawn by gradviz.

An output computed without recording is drawn as torchviz draws it, by walking its grad_fn (gradfn.py).
A recorded one (gv.torch.record, gv.torch.recording) gives more than torchviz's walk: the forward graph, with
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
from .gradfn import draw_grad_fn, unused_options
from .tracer import twins


def draw(output: Any, params: dict[str, torch.Tensor] | None = None, *, report: Any = None,
         backward: bool = True, **draw_options: Any) -> Drawing:
    """Draw a torch computation: torchviz's picture of any output, or gradviz's of a recorded one.

    An output computed without recording is drawn from its grad_fn, as torchviz draws it (options: rankdir,
    show_saved). A recorded one (gv.torch.record's result, or a tensor computed in gv.torch.recording()) is
    drawn with every value and gradient.

    params: torchviz's name -> tensor mapping, e.g. dict(model.named_parameters()): their nodes are labelled
    with those names. backward: fill in gradients first (gradviz's backward over the recorded graph, each
    custom Function by its own backward) when none have been computed. report: a gv.torch.check Report,
    whose verdict is drawn on the nodes. Other options are gv.draw's (collapse, rankdir, show, ...).
    """
    if params is not None and not isinstance(params, dict):
        raise GradvizError(f"params must be a dict of name -> tensor (torchviz's form, e.g. "
                           f"dict(model.named_parameters())), got {describe(params)}")
    if isinstance(output, torch.Tensor) and twins.get(output) is None:
        return _draw_unrecorded(output, params, report, draw_options)
    root = _root_of(output)
    order = topological_order(root)
    if params:
        _label_params(params)
    if backward and root.requires_grad and all(n._grad is None for n in order):
        root.backward(np.ones(root.shape))
    return gradviz_draw(root, report=report, **draw_options)


def _draw_unrecorded(output: torch.Tensor, params: dict | None, report: Any, options: dict) -> Drawing:
    """torchviz's case: computed without recording, yet autograd's graph (grad_fn) still has its structure."""
    if output.grad_fn is None and not output.requires_grad:
        raise GradvizError(f"this tensor of shape {tuple(output.shape)} has no grad_fn: it was computed without "
                           "gradients (no input requires grad, or under torch.no_grad()), so there is no graph "
                           "to draw; compute it from tensors with requires_grad=True, or draw "
                           "gv.torch.record(model, x)")
    unused = unused_options(options)
    if report is not None or unused:
        raise GradvizError(f"{', '.join(unused) or 'report'} needs the recorded graph (this tensor was computed "
                           "without recording, and is drawn from its grad_fn): compute the output inside "
                           "`with gv.torch.recording(model):` or draw gv.torch.record(model, x)")
    return draw_grad_fn(output, params, **options)


def _root_of(output: Any) -> Tensor:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, torch.Tensor):
        return twins.get(output)
    raise GradvizError(f"gv.torch.draw needs a recorded graph or a torch tensor, got {describe(output)}")


def _label_params(params: dict[str, torch.Tensor]) -> None:
    for name, tensor in params.items():
        node = twins.get(tensor) if isinstance(tensor, torch.Tensor) else None
        if node is not None and node._op is None:
            node.label = name
            node.scope = node.scope or name.rpartition(".")[0]
