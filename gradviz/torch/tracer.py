"""gv.torch.record: run torch code and record it as a gradviz graph.

Every torch call is intercepted with a ``TorchFunctionMode``; a call that
gradviz's op table covers becomes the same gradviz op (so SymPy, drawing and
``gv.symbolic`` work on it), a custom ``torch.autograd.Function`` becomes a user
op whose backward is its own, and anything else becomes an opaque node with
torch's name and torch's backward. Module names become scopes, parameter
names become labels.
"""

from __future__ import annotations

import functools
import inspect
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from .. import graph
from .. import tensor as tensor_mod
from ..errors import GradvizError, describe
from ..functional import concatenate
from ..tensor import Tensor
from .mapping import IDENTITY, RULES, Direct
from .torchops import Slot, TorchCall, custom_op, opaque_op

_ORIGINAL_APPLY = torch.autograd.Function.__dict__["apply"]  # a classmethod
_active: list["Recorder"] = []


class _TwinMap:
    """torch tensor -> its gradviz node, by identity (tensors compare elementwise) and weakly held."""

    def __init__(self):
        self._map: dict[int, tuple[weakref.ref, Tensor]] = {}

    def __setitem__(self, t: torch.Tensor, node: Tensor) -> None:
        key = id(t)
        self._map[key] = (weakref.ref(t, lambda _, key=key: self._map.pop(key, None)), node)

    def get(self, t: torch.Tensor) -> Tensor | None:
        hit = self._map.get(id(t))
        return hit[1] if hit is not None and hit[0]() is t else None


twins = _TwinMap()  # the gradviz twin of each torch tensor computed while recording (for gv.torch.draw)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A copy on the CPU: float32 stays float32 (as gv.Tensor keeps it), anything else becomes float64.

    A copy, because torch code may later change the tensor in place (ReLU(inplace=True)).
    """
    dtype = t.dtype if t.dtype in (torch.float32, torch.float64) else torch.float64
    return t.detach().to("cpu", dtype, copy=True).numpy()


class Recorder(TorchFunctionMode):
    """Builds the gradviz twin of every float tensor torch computes while it is active."""

    def __init__(self, names: dict[int, tuple[str, str]] | None = None):
        super().__init__()
        self.names = dict(names or {})  # id(tensor) -> (label, scope) for inputs and parameters
        self.nodes: dict[int, tuple[torch.Tensor, Tensor]] = {}  # the torch tensor is kept: ids stay unique
        self.suspended = 0  # > 0 inside a custom Function's forward and inside our own bookkeeping
        self.opaque: list[str] = []  # names of ops recorded without a gradviz equivalent
        self.held: set[int] = set()  # ids of tensors held fixed (gv.torch.check's wrt=): never differentiated

    # -- tensors and nodes ----------------------------------------------------------------
    def node_of(self, t: torch.Tensor) -> Tensor:
        """The gradviz node of a torch tensor; a tensor seen for the first time is a leaf."""
        hit = self.nodes.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        label, path = self.names.get(id(t), (None, None))
        self.suspended += 1  # reading the tensor is a torch call too
        try:
            data = to_numpy(t)
        finally:
            self.suspended -= 1
        leaf = tensor_mod._record(data, None, ())  # a fresh copy already: no second one
        leaf.label, leaf.requires_grad = label, id(t) not in self.held and (label is not None or t.requires_grad)
        if path is not None:
            leaf.scope = path
        self._remember(t, leaf)
        return leaf

    def _remember(self, t: torch.Tensor, node: Tensor) -> None:
        self.nodes[id(t)] = (t, node)
        twins[t] = node

    def _gradviz_arg(self, x):
        """A call argument as a mapping rule takes it: float tensors as nodes, integer tensors as arrays."""
        if isinstance(x, torch.Tensor):
            return self.node_of(x) if x.is_floating_point() else x.detach().cpu().numpy()
        if type(x) in (list, tuple):  # torch.cat([a, b]) and the like; deeper nesting records as opaque
            return type(x)(self._gradviz_arg(v) for v in x)
        return x

    # -- interception ---------------------------------------------------------------------
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if not self.suspended:
            self.suspended += 1
            try:
                self.record_call(func, _name(func), args, kwargs, out, None)
            finally:
                self.suspended -= 1
        return out

    def record_call(self, func: Callable, name: str, args: tuple, kwargs: dict, out: Any, op) -> None:
        """Add the node(s) of one call whose result is `out` (op: a custom Function's user op)."""
        if isinstance(out, torch.Tensor):
            results = [(out, None)]
        elif isinstance(out, (tuple, list)) and any(isinstance(t, torch.Tensor) for t in out):
            results = [(t, i) for i, t in enumerate(out) if isinstance(t, torch.Tensor)]
        else:
            return  # sizes, dtypes, booleans: nothing to record
        first = args[0] if args and isinstance(args[0], torch.Tensor) else None
        for result, select in results:
            if not result.is_floating_point():
                continue  # indices, masks: constants wherever they are used
            if op is None and select is None and first is not None and name in IDENTITY:
                node = self.node_of(first)
            else:
                node = self._mapped(name, args, kwargs, result) if op is None and select is None else None
                if node is None:
                    node = self._opaque(func, name, args, kwargs, result, select, op)
            self._remember(result, node)

    def _mapped(self, name: str, args: tuple, kwargs: dict, result: torch.Tensor) -> Tensor | None:
        rule = RULES.get(name)
        if rule is None:
            return None
        try:
            convert = self._gradviz_arg
            node = rule(_Result(tuple(result.shape)), *[convert(a) for a in args],
                        **{k: convert(v) for k, v in kwargs.items()})
        except Exception:  # Unmapped, or a rule that does not fit this call: record it as opaque instead
            return None
        if isinstance(node, Direct):  # the op's output is torch's result: nothing is computed twice
            parents = tuple(p if isinstance(p, Tensor) else tensor_mod._const(p) for p in node.parents)
            return tensor_mod._record(to_numpy(result), node.op, parents, node.attrs)
        if not isinstance(node, Tensor) or node.shape != tuple(result.shape):
            return None
        return node

    def _opaque(self, func, name, args, kwargs, result, select, op) -> Tensor:
        flat, spec = tree_flatten((list(args), kwargs))
        parents, slots, needs = [], [], []
        for x in flat:
            if isinstance(x, torch.Tensor) and x.is_floating_point():
                slots.append(Slot(len(parents)))
                parents.append(self.node_of(x))
                needs.append(parents[-1].requires_grad)  # an input, a parameter, or computed from one
            else:
                slots.append(x)
        if op is None:
            op = opaque_op(func)
            if name not in self.opaque:
                self.opaque.append(name)
        call = TorchCall(func, spec, tuple(slots), select, tuple(needs))
        return tensor_mod._record(to_numpy(result), op, tuple(parents), {"call": call})


class _Result:
    """What a mapping rule may know of the torch result: its shape."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        self.shape = shape


def _name(func: Any) -> str:
    name = getattr(func, "__name__", "") or type(func).__name__
    if name == "__get__":  # a property such as Tensor.T
        name = getattr(getattr(func, "__self__", None), "__name__", name)
    return name


def _recording_apply(cls, *args, **kwargs):
    """Function.apply while recording: the custom Function becomes one user op, its insides are not recorded."""
    apply = _ORIGINAL_APPLY.__get__(None, cls)
    recorder = _active[-1] if _active else None
    if recorder is None or recorder.suspended:
        return apply(*args, **kwargs)
    recorder.suspended += 1
    try:
        out = apply(*args, **kwargs)
        recorder.record_call(apply, cls.__name__, args, kwargs, out, custom_op(cls))
    finally:
        recorder.suspended -= 1
    return out


@contextmanager
def recording(module: torch.nn.Module | None = None,
              names: dict[int, tuple[str, str]] | None = None) -> Iterator[Recorder]:
    """Record every torch call inside the block; `module`'s submodule names become scopes.

    >>> with gv.torch.recording(model) as rec:      # doctest: +SKIP
    ...     loss = model(x).sum()
    >>> gv.torch.draw(loss)
    """
    recorder = Recorder(names)
    hooks = []
    depth = len(graph._scope_stack)
    if module is not None:
        for pname, p in module.named_parameters():
            recorder.names.setdefault(id(p), (pname, pname.rpartition(".")[0]))
        paths = {id(sub): mname for mname, sub in module.named_modules() if mname}
        hooks = [register_module_forward_pre_hook(_enter_scope(paths, module, recorder)),
                 register_module_forward_hook(_leave_scope(paths))]
    _active.append(recorder)
    torch.autograd.Function.apply = classmethod(_recording_apply)
    try:
        with recorder:
            yield recorder
    finally:
        _active.pop()
        if not _active:
            torch.autograd.Function.apply = _ORIGINAL_APPLY
        for hook in hooks:
            hook.remove()
        del graph._scope_stack[depth:]


def _enter_scope(paths: dict[int, str], root: torch.nn.Module, recorder: Recorder):
    def enter(module, inputs):
        path = paths.get(id(module))
        if path is not None:
            graph._scope_stack.append(path)
        elif module is root:  # the model's own inputs are labelled by its forward's parameter names
            for name, t in zip(input_names(root, len(inputs)), inputs):
                if isinstance(t, torch.Tensor):
                    recorder.names.setdefault(id(t), (name, ""))
    return enter


def _leave_scope(paths: dict[int, str]):
    def leave(module, inputs, output):
        if id(module) in paths and len(graph._scope_stack) > 1:
            graph._scope_stack.pop()
    return leave


def input_names(fn: Callable, count: int) -> list[str]:
    """The names of fn's first `count` parameters (forward's, for a module or a custom Function)."""
    names = list(_parameter_names(type(fn).forward if isinstance(fn, torch.nn.Module) else fn)[:count])
    return names + [f"x{i}" for i in range(len(names), count)]


@functools.lru_cache(maxsize=256)
def _parameter_names(target: Callable) -> tuple[str, ...]:
    try:
        params = (function_inputs(target) if isinstance(target, type) and issubclass(target, torch.autograd.Function)
                  else list(inspect.signature(target).parameters.values()))
    except (TypeError, ValueError):
        return ()
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return tuple(names[1:] if names[:1] == ["self"] else names)


def function_inputs(cls: type) -> list[inspect.Parameter]:
    """The inputs of a custom Function's forward: after ctx, unless it uses setup_context (no ctx)."""
    params = list(inspect.signature(cls.forward).parameters.values())
    uses_setup_context = getattr(cls, "setup_context", None) is not getattr(torch.autograd.Function,
                                                                           "setup_context", None)
    return params if uses_setup_context else params[1:]


def callable_of(fn_or_module: Any) -> Callable:
    if isinstance(fn_or_module, type) and issubclass(fn_or_module, torch.autograd.Function):
        function = fn_or_module

        def apply(*args):  # looked up at call time, so that recording sees it
            return function.apply(*args)
        apply.__name__ = function.__name__
        return apply
    if not callable(fn_or_module):
        raise GradvizError(f"expected a torch function, an nn.Module or a torch.autograd.Function subclass, "
                           f"got {describe(fn_or_module)}")
    return fn_or_module


def record(fn_or_module: Any, *tensors: Any) -> Tensor:
    """Run `fn_or_module(*tensors)` and return the gradviz node of its output tensor.

    Several outputs (a tuple) give one node joining the float ones, each flattened; integer ones are left out.

    The result works with gv.draw, gv.render, gv.animate_backward, gv.to_networkx
    and gv.symbolic; call `.backward()` on it for gradients (custom Functions use
    their own backward).
    """
    fn = callable_of(fn_or_module)
    names = {id(t): (name, "") for name, t in zip(input_names(fn_or_module, len(tensors)), tensors)
             if isinstance(t, torch.Tensor)}
    module = fn_or_module if isinstance(fn_or_module, torch.nn.Module) else None
    with recording(module, names) as recorder:
        for t in tensors:
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                recorder.node_of(t)
        try:
            out = fn(*tensors)
        except GradvizError:
            raise
        except Exception as exc:
            raise GradvizError(f"the recorded function raised {type(exc).__name__}: {exc}") from exc
    if isinstance(out, torch.Tensor) and out.is_floating_point():
        return recorder.node_of(out)
    floats = [t for t in out if isinstance(t, torch.Tensor) and t.is_floating_point()] \
        if isinstance(out, (tuple, list)) else []
    if not floats:
        raise GradvizError(f"record() needs the function to return a float tensor (or a tuple of tensors), got "
                           f"{describe(out)}; return the tensor to draw (e.g. lambda x: model(x)[0])")
    nodes = [recorder.node_of(t) for t in floats]  # several outputs (values, indices): the float ones, joined
    return nodes[0] if len(nodes) == 1 else concatenate([n.reshape(-1) for n in nodes])

