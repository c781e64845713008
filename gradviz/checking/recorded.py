"""Recorded graphs as Subjects: gv.check's Values and Tensors, gv.Functions, and front ends that record.

A fresh graph is recorded for every evaluation. The first evaluation's graph
is kept (`root`): its backward pass gives the gradients, SymPy differentiates
its symbolic twins, and the per-node checks walk it. A front end with its own
engine (gv.torch) hands gv.check a `gradviz_subject` recorder with the same
three methods (record, forward, autograd).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradvizError, GradvizTypeError, describe
from ..graph import topological_order
from ..tensor import Tensor, as_array
from ..value import Value
from .adapters.reading import positional_names
from .carry_labels import carry_labels
from .subject import PARAMETER, BackwardFailed, Input, Subject, UserCodeError


class UserCodeRaised(UserCodeError, GradvizError):
    """The checked function raised: a finding (an ERROR report), not a crash of the check."""

    def __init__(self, message: str):
        super().__init__(message, "ERROR")


NUMPY_FUNCTION_HINT = (
    "gv.check needs a function that builds its result with gradviz operations (x.tanh(), x @ W, gv.F.relu(x)). "
    "To check numpy code, give its gradient too: gv.check_grad_fn(f, grad_f, x), "
    "gv.check_pair(forward, backward, *args) or gv.check_layer(layer, x)")


def graph_inputs(inputs: Sequence, params: Sequence | None, names: Sequence[str] = ()) -> list[Input]:
    """The checked arrays of gv.check, by label: its arguments, then the parameters it uses from outside.

    An unlabelled argument takes the name of the function's parameter it is passed to (`names`), else x0, x1...
    """
    specs = []
    for i, x in enumerate(inputs):
        default = names[i] if i < len(names) else f"x{i}"
        if isinstance(x, Value):
            specs.append(Input(x.label or default, np.array(x.data, dtype=np.float64), scalar=True))
        elif isinstance(x, Tensor):
            specs.append(Input(x.label or default, np.array(x.data, dtype=np.float64),
                               float32=x.data.dtype == np.float32))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            specs.append(Input(default, np.array(float(x)), scalar=True))
        else:
            array = as_array(x, f"input {i} of check()")
            specs.append(Input(default, np.array(array, dtype=np.float64), float32=array.dtype == np.float32))
    for j, p in enumerate(params or ()):
        if not isinstance(p, (Value, Tensor)):
            raise GradvizTypeError(f"params must be Values or Tensors, got {describe(p)}")
        specs.append(Input(p.label or f"param{j}", np.array(p.data, dtype=np.float64), role=PARAMETER, node=p,
                           scalar=isinstance(p, Value),
                           float32=getattr(p.data, "dtype", None) == np.float32))
    seen: dict[str, int] = {}
    for s in specs:  # two inputs labelled alike stay apart in the report
        if s.name in seen:
            seen[s.name] += 1
            s.name = f"{s.name}#{seen[s.name]}"
        else:
            seen[s.name] = 0
    return specs


class GradvizRecorder:
    """Evaluates the user's function on given arrays with gradviz's engine, recording a fresh graph each time."""

    def __init__(self, fn: Callable, specs: list[Input], n_inputs: int):
        self.fn, self.specs, self.n_inputs = fn, specs, n_inputs
        self.name = getattr(fn, "__name__", "the checked function")

    def record(self, arrays: list[np.ndarray]):
        leaves = []
        for spec, a in zip(self.specs, arrays):
            if spec.node is not None:
                spec.node.data = float(a) if isinstance(spec.node, Value) else a
                leaves.append(spec.node)
            elif spec.scalar:
                leaves.append(Value(float(a), label=spec.name))
            else:
                leaves.append(Tensor(a, label=spec.name))
        try:
            out = self.fn(*leaves[: self.n_inputs])
        except GradvizError:
            raise
        except TypeError as exc:
            if "does not support ufuncs" in str(exc):  # numpy called on gradviz Tensors: a usage mistake
                raise GradvizTypeError(f"{self.name} calls numpy functions on the Tensors it receives; "
                                       f"{NUMPY_FUNCTION_HINT}") from None
            raise UserCodeRaised(f"the checked function raised {type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise UserCodeRaised(f"the checked function raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(out, (Value, Tensor)):
            raise GradvizTypeError(
                f"{self.name} must return a gradviz Value or Tensor, got {describe(out)}; {NUMPY_FUNCTION_HINT}")
        return out, leaves

    def forward(self, arrays: list[np.ndarray]) -> np.ndarray:
        out, _ = self.record(arrays)
        return np.asarray(out.data, dtype=np.float64)

    def autograd(self, out, leaves: list, arrays: list[np.ndarray], cotangent) -> list[np.ndarray]:
        """Gradients of sum(out * R) w.r.t. each input, backpropagated through the recorded graph.

        Parameters' own gradients are saved and restored: a check leaves the user's model as it was.
        """
        saved = [(s.node, s.node.grad) for s in self.specs if s.node is not None]
        for node, _ in saved:
            node.zero_grad()
        try:
            if isinstance(out, Tensor):
                out.backward(None if out.size == 1 and np.ndim(cotangent) == 0 else
                             np.broadcast_to(cotangent, out.shape) * np.ones(out.shape))
            else:
                out.backward()
            return [np.array(leaf.grad, dtype=np.float64).reshape(np.shape(a)) for leaf, a in zip(leaves, arrays)]
        finally:
            for node, grad in saved:
                node.grad = grad


class RecordedSubject(Subject):
    """A Subject whose forward records a graph and whose VJP is that graph's backward pass."""

    graph = True

    def __init__(self, name: str, specs: list[Input], recorder: Any):
        super().__init__()
        self.name, self.inputs, self.recorder = name, specs, recorder
        self.leaves: list = []
        self.user_inputs: list = []
        self._originals = [(s.node, s.node.data) for s in specs if s.node is not None]

    @property
    def code(self) -> tuple:
        """The forward and backward of the user's own ops in the recorded graph (read by the diagnosis)."""
        if self._code is None:
            ops = {}
            for node in topological_order(self.root) if hasattr(self.root, "_parents") else ():
                op = getattr(node, "_op", None)
                if op is not None and not op.builtin:
                    ops[op.name] = op
            self._code = tuple(f for op in ops.values() for f in (op.forward, op.backward))
        return self._code

    @code.setter
    def code(self, value: tuple) -> None:
        self._code = tuple(value) or None  # (nothing given: found in the graph when asked)

    def first(self, arrays: list[np.ndarray]) -> np.ndarray:
        self.root, self.leaves = self.recorder.record(arrays)
        if self.user_inputs and isinstance(self.root, (Value, Tensor)):
            carry_labels(self.root, self.leaves, self.user_inputs)
        self._arrays = arrays
        return np.asarray(self.root.data, dtype=np.float64)

    def output(self, arrays: list[np.ndarray]) -> np.ndarray:
        return self.recorder.forward(arrays)

    def gradients(self, cotangent) -> list[Any]:
        try:
            return self.recorder.autograd(self.root, self.leaves, self._arrays,
                                          1.0 if cotangent is None else cotangent)
        except UserCodeError:
            raise
        except Exception as exc:  # a user op's backward raised or returned unusable gradients
            raise BackwardFailed(str(exc)) from exc

    def finish(self) -> list[str]:
        for node, data in self._originals:  # parameters are perturbed in place: put them back
            node.data = data
        return []


def graph_subject(fn: Callable, inputs: Sequence, params: Sequence | None, name: str | None) -> RecordedSubject:
    """gv.check's subject: the user's function on gradviz Values/Tensors, or a front end's own recorder."""
    if isinstance(fn, (Value, Tensor)):  # micrograd's habit: the graph's output, where the function belongs
        raise GradvizTypeError(
            f"gv.check needs the function that computes the output, not the output itself ({fn!r}): "
            "it re-runs the function at nearby points. Wrap the code that built it, e.g. "
            "gv.check(lambda x, w: (x * w).tanh(), x, w); to see the graph you built, gv.draw(output)")
    if not callable(fn) and not hasattr(fn, "gradviz_subject"):  # a front end (gv.torch) brings its own recorder
        raise GradvizTypeError(f"gv.check's first argument is the function to check, got {describe(fn)}; "
                               "e.g. gv.check(lambda x: (x * x).tanh(), x)")
    make = getattr(fn, "gradviz_subject", None)
    specs = graph_inputs(inputs, params, positional_names(fn) if make is None else ())
    recorder = make(specs) if make is not None else GradvizRecorder(fn, specs, len(inputs))
    subject = RecordedSubject(name or getattr(fn, "__name__", "function"), specs, recorder)
    subject.framework = getattr(recorder, "framework", subject.framework)  # gv.torch's recorder says "torch"
    # the user's own nodes, by position: the recorded graph takes the names they gave results computed from them
    subject.user_inputs = [x if isinstance(x, (Value, Tensor)) else None for x in inputs] + list(params or ())
    return subject
