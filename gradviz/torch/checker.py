"""gv.torch.check: torch's own backward against float64 finite differences and SymPy, as a gradviz Report.

The bridge supplies only a recorder to gradviz's one pipeline (checking/recorded.py):
its forward is the torch code run in float64, its autograd is
``torch.autograd.grad``, and its recorded graph (gv.torch.record) is what the
per-node checks walk, so the first wrong custom Function is named, kinks are
judged as subgradients and the diagnosis applies exactly as for gv.check.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..checking.adapters.reading import where
from ..checking.core import UserCodeRaised
from ..checking.core import check as gradviz_check
from ..checking.report import Report
from ..errors import GradvizError, describe
from ..functional import concatenate
from ..tensor import Tensor
from .tracer import callable_of, input_names, recording, to_numpy


def check(fn: Any, *tensors: Any, wrt: str | Sequence[str] | None = None, **options: Any) -> Report:
    """Check the gradients of `fn(*tensors)`: a torch function, an nn.Module or a torch.autograd.Function subclass.

    Every float tensor argument is checked, and for a module every parameter too
    (by its name in named_parameters()); other arguments (integer targets,
    settings) are held fixed. `wrt` names the ones to differentiate (arguments
    by forward's names, parameters by theirs); the other float tensors are then
    held fixed too, and the report says so. Options are gv.check's (eps, atol,
    rtol, mode, methods, seed, directions, name). float32 is warned about and
    upcast; CUDA tensors are checked on the CPU, with a note in the report.
    """
    target = _Target(fn, tensors, wrt)
    report = gradviz_check(target, *target.placeholders(), **{"name": target.__name__, **options})
    if target.opaque:
        report.warnings.append(f"torch ops without an op-table equivalent, recorded as opaque nodes and checked "
                               f"by finite differences of torch's forward: {', '.join(target.opaque)}")
    report.warnings.extend(target.notes)
    report.notes.extend(target.said)
    if "methods" not in options:  # SymPy was not asked for: that torch ops and Functions have no twin is no news
        report.warnings = [w for w in report.warnings if not _about_sympy_twins(w)]
    return report


def _about_sympy_twins(warning: str) -> bool:
    """The SymPy oracle's bookkeeping: skipped for an op without a twin, or how it composed the twins."""
    return (warning.startswith("SymPy oracle SKIPPED") and "symbolic twin" in warning) or \
        warning.startswith("the SymPy column composes")


class _Target:
    """What gv.check is handed: the user's torch code and, through gradviz_subject, how to run it."""

    def __init__(self, fn: Any, tensors: tuple, wrt: str | Sequence[str] | None = None):
        self.call = callable_of(fn)
        self.module = fn if isinstance(fn, torch.nn.Module) else None
        self.__name__ = getattr(fn, "__name__", None) or type(fn).__name__
        self.notes: list[str] = []  # warnings
        self.said: list[str] = []  # how the code was read (which outputs were checked)
        self.opaque: list[str] = []  # names of the torch ops the recording could not map
        self.args = [to_float64(self._on_cpu(t, name)) if isinstance(t, torch.Tensor) else t
                     for t, name in zip(tensors, input_names(fn, len(tensors)))]
        self.names = input_names(fn, len(tensors))
        self.originals = [t.detach().cpu() if isinstance(t, torch.Tensor) else t for t in tensors]  # their dtypes
        self.positions = [i for i, a in enumerate(self.args) if isinstance(a, torch.Tensor) and a.is_floating_point()]
        self.params: list[tuple[str, torch.Tensor]] = []
        self.buffers: dict[str, torch.Tensor] = {}
        if self.module is not None:
            self.params = [(n, self._on_cpu(p, n)) for n, p in self.module.named_parameters()]
            self.buffers = {n: to_float64(self._on_cpu(b, n)) for n, b in self.module.named_buffers()}
        self.fixed: dict[str, torch.Tensor] = {}  # parameters held fixed (wrt names others)
        if wrt is not None:
            self._restrict(wrt)
        if not self.positions and not self.params:
            raise GradvizError(f"{self.__name__} gets no float tensor to differentiate: pass at least one "
                               "floating-point torch tensor")

    def _restrict(self, wrt: str | Sequence[str]) -> None:
        """Differentiate only the tensors `wrt` names; the other float tensors become data, held fixed."""
        wanted = [wrt] if isinstance(wrt, str) else list(wrt)
        arguments = {self.names[i]: i for i in self.positions}
        parameters = dict(self.params)
        known = list(arguments) + list(parameters)
        for w in wanted:
            if w in arguments or w in parameters:
                continue
            given = [a for n, a in zip(self.names, self.args) if n == w]
            if not given:
                why = f"{self.__name__} has no argument or parameter {w}"
            elif isinstance(given[0], torch.Tensor):
                why = f"{w} is {_a_dtype(given[0])} tensor, data without a gradient (indices, targets, masks)"
            else:
                why = (f"{w} is {describe(given[0])}, passed as it is and held constant (to differentiate a "
                       "number, pass it as a float tensor)")
            raise GradvizError(f"wrt={w!r}: {why}; its float tensors are {', '.join(known) or 'none'}")
        held = [n for n in known if n not in wanted]
        self.positions = [i for n, i in arguments.items() if n in wanted]
        self.fixed = {n: to_float64(p) for n, p in self.params if n not in wanted}
        self.params = [(n, p) for n, p in self.params if n in wanted]
        if held:
            self.said.append(f"wrt={', '.join(wanted)}: only {'it is' if len(wanted) == 1 else 'they are'} "
                             f"differentiated; {', '.join(held)} {'is' if len(held) == 1 else 'are'} held fixed")

    def _on_cpu(self, t: Any, name: str) -> Any:
        if isinstance(t, torch.Tensor) and t.device.type != "cpu":
            self.notes.append(f"{name} is on {t.device}: it was copied to the CPU for the check")
            return t.detach().cpu()
        return t.detach() if isinstance(t, torch.Tensor) else t

    def held(self) -> set[int]:
        """The ids of the float tensors held fixed: arguments and parameters wrt= did not name."""
        arguments = [a for i, a in enumerate(self.args) if i not in self.positions and isinstance(a, torch.Tensor)
                     and a.is_floating_point()]
        return {id(t) for t in arguments + list(self.fixed.values())}

    def placeholders(self) -> list[Tensor]:
        """One gradviz Tensor per checked array (its dtype kept, so float32 is warned about)."""
        named = [(self.names[i], self.originals[i]) for i in self.positions] + self.params
        return [Tensor(t.numpy(), label=name) for name, t in named]

    def gradviz_subject(self, specs) -> "TorchSubject":
        return TorchSubject(self, specs)


def to_float64(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float64) if t.is_floating_point() else t


class TorchSubject:
    """gv.check's recorder for torch code: record, forward and autograd, all run by torch in float64."""

    framework = "torch"  # the diagnosis names its fixes in torch's terms

    def __init__(self, target: _Target, specs):
        self.target, self.specs = target, specs
        self._last: tuple | None = None
        self.selected: list[int] | None = None  # which elements of a tuple result are checked; None: one tensor
        n = len(target.positions)
        self.scopes = [""] * n + [name.rpartition(".")[0] for name, _ in target.params]

    def _run(self, tensors: list[torch.Tensor]):
        t = self.target
        args = list(t.args)  # float64 already; `tensors` are float64 views of the checked arrays
        for position, tensor in zip(t.positions, tensors):
            args[position] = tensor
        try:
            if t.module is None:
                return t.call(*args)
            state = {**t.buffers, **t.fixed,
                     **{name: x for (name, _), x in zip(t.params, tensors[len(t.positions):])}}
            return torch.func.functional_call(t.module, state, tuple(args))
        except GradvizError:
            raise
        except Exception as exc:  # an ERROR report, as for gv.check, at the user's line
            at = where(exc)
            raise UserCodeRaised(f"{t.__name__} raised {type(exc).__name__}: {exc}"
                                 + (f" (at {at})" if at else "")) from exc

    def _results(self, out) -> list[torch.Tensor]:
        """The checked outputs: the one tensor, or the float outputs of a tuple that carry gradients.

        Which elements of a tuple are checked is settled when recording (the inputs then require grad), as
        torch.autograd.gradcheck skips integer outputs and those marked non-differentiable.
        """
        if isinstance(out, torch.Tensor) and out.is_floating_point():
            return [out]
        if not isinstance(out, (tuple, list)) or not any(isinstance(t, torch.Tensor) for t in out):
            raise GradvizError(f"{self.target.__name__} must return a float torch tensor (or a tuple of tensors), "
                               f"got {describe(out)}")
        if self.selected is None:
            self.selected = [i for i, t in enumerate(out) if isinstance(t, torch.Tensor) and t.is_floating_point()
                             and t.requires_grad]
            self.target.said.append(_outputs_note(self.target.__name__, out, self.selected))
            if not self.selected:
                raise GradvizError(f"{self.target.__name__} returns {len(out)} outputs and none of them is a float "
                                   "tensor with a gradient: there is no gradient to check")
        return [out[i] for i in self.selected]

    def record(self, arrays: list[np.ndarray]):
        tensors = [torch.from_numpy(np.array(a, dtype=np.float64)).requires_grad_() for a in arrays]
        names = {id(x): (spec.name, path) for x, spec, path in zip(tensors, self.specs, self.scopes)}
        with recording(self.target.module, names) as recorder:
            recorder.held.update(self.target.held())
            leaves = [recorder.node_of(x) for x in tensors]
            outs = self._results(self._run(tensors))
            nodes = [recorder.node_of(o) for o in outs]
        self._last = (outs, tensors)
        self.target.opaque = list(recorder.opaque)
        if self.selected is None:
            return nodes[0], leaves
        return concatenate([n.reshape(-1) for n in nodes]), leaves  # one root: every checked output, flattened

    def forward(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The output at `arrays`, run by torch without recording (the finite-difference probes)."""
        with torch.no_grad():
            # order="C", not ascontiguousarray: that makes a 0-d input 1-d, and its output then changes shape
            outs = self._results(self._run([torch.from_numpy(np.asarray(a, dtype=np.float64, order="C"))
                                            for a in arrays]))
        values = [o.numpy() if o.dtype == torch.float64 and o.device.type == "cpu" else to_numpy(o) for o in outs]
        return values[0] if self.selected is None else np.concatenate([v.reshape(-1) for v in values])

    def autograd(self, out, leaves, arrays: list[np.ndarray], cotangent) -> list[np.ndarray]:
        """torch's own gradients of sum(out * R) (of each checked output times its part of R) for every tensor."""
        results, tensors = self._last
        if not any(r.requires_grad for r in results):
            return [np.zeros(np.shape(a)) for a in arrays]
        if self.selected is None:
            cotangents = [np.broadcast_to(cotangent, tuple(results[0].shape))]
        else:
            flat = np.broadcast_to(cotangent, (sum(r.numel() for r in results),))
            ends = np.cumsum([r.numel() for r in results])
            cotangents = [part.reshape(tuple(r.shape)) for part, r in zip(np.split(flat, ends[:-1]), results)]
        cotangents = [torch.as_tensor(c.copy()).to(r.dtype) for c, r in zip(cotangents, results)]
        # A backward that raises propagates: gv.check then names the node whose backward fails.
        grads = torch.autograd.grad(results, tensors, cotangents, allow_unused=True)
        return [np.zeros(np.shape(a)) if g is None else to_numpy(g).astype(np.float64).reshape(np.shape(a))
                for g, a in zip(grads, arrays)]




def _outputs_note(name: str, out, selected: list[int]) -> str:
    """Which outputs of a tuple result are checked, and why each other one is not."""
    checked = (f"output {selected[0]} is" if len(selected) == 1 else
               f"outputs {', '.join(map(str, selected[:-1]))} and {selected[-1]} are") if selected else "no output is"
    why = []
    for i, t in enumerate(out):
        if i in selected:
            continue
        if not isinstance(t, torch.Tensor):
            why.append(f"output {i} is {describe(t)}")
        elif not t.is_floating_point():
            why.append(f"output {i} is {_a_dtype(t)} tensor")
        else:
            why.append(f"output {i} carries no gradient (ctx.mark_non_differentiable, or computed without one)")
    together = (", each with its own random cotangent (as torch.autograd.gradcheck checks every output)"
                if len(selected) > 1 else "")
    return f"{name} returns {len(out)} outputs: {checked} checked{together}" + (
        f"; not checked: {'; '.join(why)}" if why else "")


def _a_dtype(t: torch.Tensor) -> str:
    """'an int64', 'a bool': a tensor's dtype with its article."""
    dtype = str(t.dtype).replace("torch.", "")
    return f"{'an' if dtype[0] in 'aeiou' else 'a'} {dtype}"
