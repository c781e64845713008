"""Op-table entries whose two numeric faces are torch itself: custom Functions and unsupported ops.

A custom ``torch.autograd.Function`` records as a user op (its forward and its
own backward, run through torch); a torch op that gradviz's table has no entry
for records as an opaque op whose backward is torch's. Neither has a SymPy
twin, so the per-node check compares each against a local finite difference of
its own forward: that is what localizes a wrong custom backward.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch.utils._pytree import tree_unflatten

from ..checking.adapters.reading import where
from ..ops.registry import OpDef, register

_serial = itertools.count()
_custom_ops: dict[type, OpDef] = {}
_opaque_ops: dict[str, OpDef] = {}


@dataclass(frozen=True)
class Slot:
    """Where the i-th recorded input goes in a call's flattened arguments."""

    index: int


@dataclass(eq=False)
class TorchCall:
    """One recorded call: the function, its arguments with the tensor inputs left as slots."""

    func: Callable
    spec: Any  # the pytree spec of (args, kwargs)
    flat: tuple  # flattened arguments; Slot(i) where input i goes
    select: int | None = None  # which element of a tuple result this node is
    needs: tuple | None = None  # which inputs needed a gradient when recorded (torch's needs_input_grad)

    def run(self, tensors: list):
        flat = [tensors[x.index] if isinstance(x, Slot) else x for x in self.flat]
        args, kwargs = tree_unflatten(flat, self.spec)
        out = self.func(*args, **kwargs)
        return out if self.select is None else out[self.select]

    def __repr__(self) -> str:  # the renderer keys formulas by repr(attrs): keep it stable
        return f"TorchCall({name_of(self.func)}, select={self.select})"


def name_of(func: Any) -> str:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        return owner.__name__
    return getattr(func, "__name__", None) or type(func).__name__


def _tensors(inputs) -> list:
    return [torch.as_tensor(np.asarray(x, dtype=np.float64)) for x in inputs]


def _forward(*inputs, call: TorchCall):
    with torch.no_grad():
        out = call.run(_tensors(inputs))
    return out.detach().to(torch.float64).numpy()


def _backward(grad, *inputs_and_out, call: TorchCall):
    """torch's own vector-Jacobian product of the call (for a custom Function: its backward)."""
    tensors = _tensors(inputs_and_out[:-1])
    needs = call.needs or (True,) * len(tensors)  # an input held fixed (wrt=, a buffer) gets no gradient, as in torch
    wanted = [t.requires_grad_() for t, need in zip(tensors, needs) if need]
    with torch.enable_grad():
        out = call.run(tensors)
    if not out.requires_grad or not wanted:
        return tuple(None for _ in tensors)
    cotangent = torch.as_tensor(np.asarray(grad, dtype=np.float64)).to(out.dtype).reshape(out.shape)
    try:
        found = iter(torch.autograd.grad(out, wanted, cotangent, allow_unused=True))
        grads = [next(found) if need else None for need in needs]
    except Exception as exc:
        located = _located(exc, call)
        if located is None:
            raise
        raise located from exc
    return tuple(None if g is None else g.detach().to(torch.float64).numpy() for g in grads)


def _located(exc: Exception, call: TorchCall) -> Exception | None:
    """torch's complaint about what a custom backward returned has no line of the user's: say where backward is."""
    owner = getattr(call.func, "__self__", None)
    if where(exc) or not (isinstance(owner, type) and issubclass(owner, torch.autograd.Function)):
        return None
    try:
        backward = inspect.unwrap(owner.backward)
        at = f"{inspect.getsourcefile(backward)}:{backward.__code__.co_firstlineno}"
    except (AttributeError, OSError, TypeError):
        return None
    return RuntimeError(f"{exc} ({owner.__name__}.backward is at {at})")


def custom_op(cls: type) -> OpDef:
    """The user op of a custom torch.autograd.Function subclass (one per class)."""
    op = _custom_ops.get(cls)
    if op is None:
        op = _custom_ops[cls] = register(OpDef(
            name=f"torch.{cls.__name__}#{next(_serial)}", symbol=cls.__name__, forward=_forward,
            backward=_backward, arity=None, builtin=False, framework="torch"))
    return op


def opaque_op(func: Callable) -> OpDef:
    """A torch op gradviz's table does not have: drawn with its name, checked by finite differences."""
    name = name_of(func)
    op = _opaque_ops.get(name)
    if op is None:
        op = _opaque_ops[name] = register(OpDef(
            name=f"torch.{name}#{next(_serial)}", symbol=name, forward=_forward, backward=_backward,
            arity=None, builtin=False, framework="torch"))
    return op
