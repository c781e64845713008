"""Layer classes, in every way courses write them, as one Reading.

    forward(x) -> out; backward(dout[, x]) -> dx | (dx, [dW, db]) | (dx, dW, db)   gradients returned
    forward(x) stores self.output; backward(dout) stores self.dinputs, self.dweights   results on self
    backward(dout, learning_rate) updates self.W in place and returns dx         a learning-rate updater
    backward(dout) calls self.W_opt.update(self.W, grad_W)                       an optimizer-based layer

Parameters are every float array on the object (and in its lists and dicts,
one level down) that forward does not write; the gradient of each is found
by what backward returns, stores or changes. Arrays with no gradient are
reported as not checked.
"""

from __future__ import annotations

import ast
import copy
import inspect
import textwrap
from typing import Any

import numpy as np

from ...errors import GradvizError, InputError
from .layer_grads import describe_inputs, said_grads, sort_out, unread
from .layer_inputs import Feed
from .layer_members import float_attributes, member_spellings
from .layer_penalty import declared_penalties, penalty_note, without_penalties
from .layer_plans import Output, Plan
from .layer_state import LayerState
from .reading import Problem, Reading, UserCodeError, as_array, call, is_float_array, returned_items
SELF_LR_NAMES = ("learning_rate", "lr", "eta", "learningrate", "step_size")  # not alpha (a slope), not rate
CONFIRM_LR = 1e-8  # confirming a layer that updates itself: a vanishing step, so dx computed after it stays linear
SGD_LR = 1.0  # the learning rate handed to backward(dout, learning_rate); p_before - p_after is then the gradient


class RecordingOptimizer:
    """Stands in for a layer's optimizer: remembers each (parameter, gradient) and changes nothing.

    update(param, grad, *more) takes the library's extra arguments (numpy-ml's parameter name); any other
    attribute the layer reads (its learning rate, its cache) is a copy of the user's own optimizer's, so the
    stand-in never makes correct code raise.
    """

    def __init__(self, record: list | None = None, like: Any = None):
        self.record = [] if record is None else record
        self._like = like

    def update(self, param, grad, *more, **named):
        self.record.append((param, np.array(grad, dtype=np.float64)))
        return param

    step = update

    def __getattr__(self, name: str) -> Any:
        like = self.__dict__.get("_like")
        if like is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(like, name)

    def __copy__(self):  # copy.copy(optimizer) per parameter, as ML-From-Scratch does: share the record
        return RecordingOptimizer(self.record, self._like)

    def __deepcopy__(self, memo):
        return RecordingOptimizer(self.record, self._like)

    def __repr__(self) -> str:
        return "<gradviz recording optimizer>"


def _copy_of(optimizer: Any) -> Any:
    """The user's optimizer as it was, for the stand-in to read from (its own state is never touched)."""
    try:
        return copy.deepcopy(optimizer)
    except Exception:  # an optimizer that cannot be copied is read as it is
        return optimizer


def called_attributes(method: Any) -> set[str]:
    """The attributes a method calls a method of (self.W_opt.update(...) -> W_opt); all of them when unreadable."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):  # no source to read: every attribute may be called
        return set(vars(getattr(method, "__self__", None)).keys()) if hasattr(method, "__self__") else set()
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            while isinstance(owner, (ast.Attribute, ast.Subscript)) and not _on_self(owner):
                owner = owner.value
            if _on_self(owner):
                called.add(owner.attr)
    return called


def _on_self(node: ast.AST) -> bool:
    """self.NAME"""
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"


def learning_rate_attribute(method: Any, obj: Any) -> str | None:
    """self.learning_rate when backward reads it and assigns to the layer: it updates its own parameters."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    read = {n.attr for n in ast.walk(tree) if _on_self(n) and isinstance(n.ctx, ast.Load)}
    assigns = any(isinstance(n, (ast.Assign, ast.AugAssign)) and any(
        _on_self(t) or (isinstance(t, ast.Subscript) and _on_self(t.value))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])) for n in ast.walk(tree))
    return next((k for k in SELF_LR_NAMES if k in read and assigns and isinstance(vars(obj).get(k), (int, float))
                 and not isinstance(vars(obj).get(k), bool)), None) if assigns else None


def prepare(obj: Any, input_shape: tuple, notes: list[str]) -> None:
    """Lifecycle methods some layer libraries need before a layer has parameters."""
    if callable(getattr(obj, "set_input_shape", None)) and not float_attributes(obj):
        call(f"{type(obj).__name__}.set_input_shape", obj.set_input_shape, tuple(input_shape[1:]))
        notes.append(f"called {type(obj).__name__}.set_input_shape({tuple(input_shape[1:])})")
    if callable(getattr(obj, "initialize", None)) and not float_attributes(obj):
        call(f"{type(obj).__name__}.initialize", obj.initialize, RecordingOptimizer())
        notes.append(f"called {type(obj).__name__}.initialize(optimizer) with gradviz's recording optimizer")


def layer_subject(obj: Any, feed: Feed, *, methods: tuple[str, str, str], output: Output, plan: Plan,
                  params=None, timeout: float | None = None, batch_axis: int = 0, layout: str | None = None,
                  notes: list[str] | None = None, grads_said: dict[str, str] | None = None,
                  labels: dict[str, np.ndarray] | None = None) -> Reading:
    """One reading of a layer: its methods, where its output is, and how its backward is called (layer_plans)."""
    cls = type(obj).__name__
    notes = list(notes or [])
    fwd_name, bwd_name, how = methods
    fwd, bwd = getattr(obj, fwd_name), getattr(obj, bwd_name)
    feed = feed.named(fwd)
    input_name = feed.first
    items = returned_items(bwd)
    lr_param = plan.learning_rate
    lr_attr = None if lr_param else learning_rate_attribute(bwd, obj)
    optimizers = {k: v for k, v in vars(obj).items() if type(v).__module__ != "builtins"  # a dict has update() too
                  and not isinstance(v, np.ndarray) and callable(getattr(v, "update", None)) and not inspect.isclass(v)}
    before_forward = float_attributes(obj)
    optimizers = {k: v for k, v in optimizers.items() if k in called_attributes(bwd)}  # others are left alone
    saved_state = {k: v for k, v in vars(obj).items()}
    state = LayerState(obj)  # before the first call: what forward and backward accumulate is put back each time
    saved_arrays = {k: v.copy() for k, v in before_forward.items()}
    args, kwargs = feed.call_args(fwd)
    call(f"{cls}.{fwd_name}", fwd, *args, timeout=timeout, **kwargs)
    after = float_attributes(obj)
    written = {k for k, v in after.items() if k not in before_forward or v is not before_forward[k]
               or not np.array_equal(v, saved_arrays[k])}
    state.adopt()  # what this first forward built (weights made on first use) stays; what later calls make goes
    state.reset()  # the probe must not leave anything changed (arrays keep their identity: they are the buffers)
    history = {k.split("[")[0] for k in written if k.endswith("]")}  # lists forward appends to: state, not weights
    candidates = _parameters(obj, params, {k: v for k, v in before_forward.items()
                                           if k.split("[")[0] not in history or params is not None}, written)
    updates = lr_param is not None or lr_attr is not None
    if lr_param and candidates:  # a parameter-free layer's backward(g, lr): nothing is said about parameters
        kind, override = "a learning-rate updater (backward(dout, learning_rate) updates the parameters)", \
            "params= names the parameters"
        notes.append(f"parameter gradients recovered from the update {cls}.{bwd_name}({lr_param}={SGD_LR:g}) makes "
                     f"(assumes p -= {lr_param} * grad); parameters restored")
    elif optimizers:
        kind, override = f"an optimizer-based layer ({', '.join('self.' + k for k in optimizers)} replaced by a " \
                         "recording optimizer)", "params= names the parameters"
    elif output.kind in ("attr", "list"):
        kind, override = "results kept on self (methods return None)", "forward=/backward= (--forward/--backward)"
    else:
        kind, override = f"a layer class ({fwd_name}()/{bwd_name}())", "forward=/backward= (--forward/--backward)"
    penalties = declared_penalties(obj, candidates) if params is None or candidates else {}
    if penalties:
        notes.append(penalty_note(cls, bwd_name, penalties))
    if lr_attr and candidates:
        notes.append(f"self.{lr_attr} set to {SGD_LR:g} while {cls}.{bwd_name} runs: a parameter it changes gives its "
                     "gradient (p -= lr * grad); parameters restored")
    if how == "detected" and (fwd_name, bwd_name) != ("forward", "backward"):
        notes.append(f"methods {fwd_name}()/{bwd_name}() detected (forward=/backward=, --forward/--backward "
                     "override)")
    binding = plan.describe(f"{cls}.{bwd_name}") + f"; {output.describe(cls + '.' + fwd_name)}"
    if len(feed.diff) >= 2 and (items is None or len(items) >= len(feed.diff)):
        binding += "; " + describe_inputs(items, feed.diff, candidates)
    notes.append(f"binding: {binding}")

    arrays = {n: feed.values[n] for n in feed.diff}
    arrays.update(candidates)
    if not arrays:
        raise InputError(f"{cls} has nothing to differentiate: its inputs {', '.join(feed.values)} are data "
                         "(integers, booleans or settings) and it holds no float parameter; pass float arrays to "
                         "check a gradient (x.astype(float))")
    data = [n for n, v in feed.values.items() if isinstance(v, np.ndarray) and v.dtype.kind in "iub"]
    if data:
        notes.append(f"{', '.join(data)}: integer or boolean data, passed as given and not differentiated "
                     "(pass a float array to check its gradient)")
    state.protect(arrays)
    last: dict[str, Any] = {}

    def run(current):
        state.reset()
        args, kwargs = feed.call_args(fwd, {n: a for n, a in current.items() if n in feed.diff})
        returned = call(f"{cls}.{fwd_name}", fwd, *args, timeout=timeout, **kwargs)
        return returned, output.read(obj, returned)

    def run_forward(current):
        out = run(current)[1]
        return as_array(f"{cls}.{fwd_name}", out)

    def confirm_vjp(dout):
        """Parameter gradients from a unit step (exact); the input's at a vanishing step, so a dx computed after
        the update (a bug the check reports) stays linear in dout."""
        grads = vjp(dout, SGD_LR)
        if any(n in grads for n in feed.diff):
            small = vjp(dout, CONFIRM_LR)
            grads.update({n: small.get(n) for n in feed.diff if n in grads})
        return grads

    def vjp(dout, step=SGD_LR):
        returned, out = run({n: feed.values[n].copy() for n in feed.diff})
        recorder = RecordingOptimizer()
        swapped = {k: getattr(obj, k) for k in optimizers}
        for k in optimizers:
            setattr(obj, k, RecordingOptimizer(recorder.record, _copy_of(swapped[k])))
        if lr_attr:
            swapped[lr_attr] = getattr(obj, lr_attr)
            setattr(obj, lr_attr, step)
        values = {k: v.copy() for k, v in candidates.items()}
        given = {"x": np.copy(feed.values[input_name]), "lr": step, "cache": output.cache(returned), "out": out,
                 **{"in:" + n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in feed.values.items()}}
        kwargs = {p: (getattr(obj, p) if s == "attr" else given[s]) for p, s in plan.sources}
        kwargs[plan.dout] = dout
        ids = {k: id(v) for k, v in float_attributes(obj).items()}
        try:
            returned = call(f"{cls}.{bwd_name}", bwd, timeout=timeout, **kwargs)
        finally:
            for k, v in swapped.items():
                setattr(obj, k, v)
        grads = sort_out(obj, f"{cls}.{bwd_name}", returned, tuple(n for n in arrays if n in feed.diff), candidates,
                         items, {n: np.shape(feed.values[n]) for n in feed.diff})
        grads.update(said_grads(obj, returned, items, grads_said or {}, arrays))
        last.update(before=ids, after=float_attributes(obj))
        for k, v in candidates.items():  # `self.W = self.W - lr * dW` rebinds instead of updating in place
            now = getattr(obj, k, v) if "[" not in k else v
            if now is not v:
                if updates and k not in grads and is_float_array(now):
                    grads[k] = (values[k] - now) / step
                setattr(obj, k, v)
        if updates:
            for k, v in candidates.items():
                if k not in grads and not np.array_equal(v, values[k]):
                    grads[k] = (values[k] - v) / step
                    np.copyto(v, values[k])
        for param, grad in recorder.record:
            name = next((k for k, v in candidates.items() if v is param), None) \
                or next((k for k, v in candidates.items() if k not in grads and np.shape(v) == np.shape(grad)), None)
            if name is not None:
                grads[name] = grad
        if penalties:
            grads = without_penalties(grads, candidates, penalties)
        return {k: g for k, g in grads.items() if k in arrays}

    def restore() -> list[str]:
        changed = []
        state.reset()
        for k, v in list(vars(obj).items()):
            if k not in saved_state:
                continue
            old = saved_state[k]
            if isinstance(old, np.ndarray) and k in saved_arrays and k not in written:
                if v is not old:
                    setattr(obj, k, old)
                if not np.array_equal(old, saved_arrays[k]):
                    changed.append(f"self.{k}")
                    np.copyto(old, saved_arrays[k])
        return changed

    if output.kind == "list":  # a recurrent layer's BPTT may compute its weights' gradients and not its input's
        try:
            trial = vjp(np.zeros(np.shape(run_forward(arrays))))
        except UserCodeError:
            trial = {}
        if _no_input_gradient(trial.get(input_name)) and len(trial) > 1:
            del arrays[input_name]
            notes.append(f"{cls}.{bwd_name} computes no gradient for its input {input_name}, which is held constant; "
                         "its parameters are checked")
    if len(feed.diff) >= 2:  # forward(x, mask) with a float mask: an input backward gives nothing for is data
        try:
            trial = vjp(np.zeros(np.shape(run_forward(arrays))))
        except UserCodeError:
            trial = {}
        held = [n for n in feed.diff if n not in trial and any(m in trial for m in feed.diff)]
        for n in held:
            del arrays[n]
        if held:
            notes.append(f"{cls}.{bwd_name} returns no gradient for {', '.join(held)}, held constant as data; "
                         f"the gradients it returns are checked")

    def why_unread() -> str | None:
        """After confirm's VJPs: an array left without a gradient while backward stored one of its shape."""
        return unread(f"{cls}.{bwd_name}", last["before"], last["after"], last.get("grads", {}), arrays) \
            if "before" in last else None

    certain = plan.certain and output.certain
    shown = _labelled(candidates, labels, set(feed.values))
    return Reading(name=cls, convention=kind, override=override, arrays={shown.get(k, k): v for k, v in arrays.items()},
                   forward=run_forward, vjp=_kept(vjp, last, shown),
                   backward_name=f"{cls}.{bwd_name}", inputs=tuple(n for n in feed.diff if n in arrays),
                   batch_axis=batch_axis, layout=layout,
                   notes=notes, restore=restore, named={shown.get(k, k) for k in arrays} if certain else set(),
                   binding=binding, confirm_vjp=_kept(confirm_vjp, last, shown) if updates else None,
                   unread=why_unread)


def _labelled(candidates: dict, labels: dict | None, taken: set) -> dict[str, str]:
    """params[0] -> W when the user named that very array W (--init W=...): the report uses the user's word.

    Only list entries: a dict entry (parameters['W']) already carries the user's own key."""
    out = {}
    for key, array in candidates.items():
        name = next((n for n, a in (labels or {}).items() if a is array), None)
        if key.endswith("]") and key[key.rindex("[") + 1:-1].isdigit() and name and name not in candidates and name not in taken and name not in out.values():
            out[key] = name
    return out


def _kept(vjp, last: dict, shown: dict):
    """The VJP, remembering its last gradients for the confirm stage's question about arrays left without one,
    and giving them under the names the report shows."""
    def kept(dout):
        grads = vjp(dout)
        last["grads"] = grads
        return {shown.get(k, k): g for k, g in grads.items()}

    return kept


def _no_input_gradient(grad: Any) -> bool:
    return isinstance(grad, Problem) and "stored no input gradient" in grad.message


def _parameters(obj, params, before, written) -> dict[str, np.ndarray]:
    if params is not None:
        out = {}
        for i, p in enumerate(params):
            if isinstance(p, str):
                value = before.get(p, getattr(obj, p, None))
                if not isinstance(value, np.ndarray):
                    raise GradvizError(f"{type(obj).__name__}.{p} is not a numpy array (it is {type(value).__name__})")
                out[p] = value
            elif isinstance(p, np.ndarray):
                out[next((k for k, v in before.items() if v is p), f"param{i}")] = p
            else:
                raise GradvizError(f"params must be attribute names or numpy arrays, got {type(p).__name__}")
        for name, p in out.items():
            if p.dtype != np.float64:
                raise InputError(f"parameter {name} is {p.dtype}; parameters are perturbed in place, so they must "
                                   "be float64 arrays (use .astype(np.float64) when creating them)")
        return out
    grad_like = {g for name in before for g in member_spellings(name)}
    kept = {k: v for k, v in before.items() if k not in written and k not in grad_like and not _gradient_holder(k)}
    low = [k for k, v in kept.items() if v.dtype != np.float64]
    if low:  # never a silent hole: these look like parameters, but cannot be perturbed precisely
        arrays = ", ".join(f"{type(obj).__name__}.{k} ({before[k].dtype})" for k in low)
        raise InputError(f"{arrays}: parameters are perturbed in place and compared at 1e-6, which needs float64; "
                           f"create them with .astype(np.float64) (float32 rounds each step to about 7 digits)")
    return kept


def _gradient_holder(key: str) -> bool:
    """gradients['W'], grads[0], dparams['b']: an entry of a container of gradients is no parameter."""
    container = key.split("[")[0].lower()
    return "[" in key and (container.startswith("grad") or container in ("dparams", "dparameters", "deltas"))
