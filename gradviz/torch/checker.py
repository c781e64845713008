"""gv.torch.check: torch's own backward against float64 finite differences and SymPy, as a gradviz Report.

The bridge supplies only a recorder to gradviz's one pipeline (checking/recorded.py):
its forward is the torch code run in float64, its autograd is
``torch.autograd.grad``, and its recorded graph (gv.torch.record) is what the
per-node checks walk, so the first wrong custom Function is named, kinks are
judged as subgradients and the diagnosis applies exactly as for gv.check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..checking.core import UserCodeRaised
from ..checking.core import check as gradviz_check
from ..checking.report import Report
from ..errors import GradvizError
from ..tensor import Tensor
from .tracer import callable_of, input_names, recording, to_numpy


def check(fn: Any, *tensors: Any, **options: Any) -> Report:
    """Check the gradients of `fn(*tensors)`: a torch function, an nn.Module or a torch.autograd.Function subclass.

    Every float tensor argument is checked, and for a module every parameter too
    (by its name in named_parameters()); other arguments (integer targets,
    settings) are held fixed. Options are gv.check's (eps, atol, rtol, mode,
    methods, seed, directions, name). float32 is warned about and upcast; CUDA
    tensors are checked on the CPU, with a note in the report.
    """
    target = _Target(fn, tensors)
    report = gradviz_check(target, *target.placeholders(), **{"name": target.__name__, **options})
    if target.opaque:
        report.warnings.append(f"torch ops without an op-table equivalent, recorded as opaque nodes and checked "
                               f"by finite differences of torch's forward: {', '.join(target.opaque)}")
    report.warnings.extend(target.notes)
    if "methods" not in options:  # SymPy was not asked for: that torch ops and Functions have no twin is no news
        report.warnings = [w for w in report.warnings if not _about_sympy_twins(w)]
    return report


def _about_sympy_twins(warning: str) -> bool:
    """The SymPy oracle's bookkeeping: skipped for an op without a twin, or how it composed the twins."""
    return (warning.startswith("SymPy oracle SKIPPED") and "symbolic twin" in warning) or \
        warning.startswith("the SymPy column composes")


class _Target:
    """What gv.check is handed: the user's torch code and, through gradviz_subject, how to run it."""

    def __init__(self, fn: Any, tensors: tuple):
        self.call = callable_of(fn)
        self.module = fn if isinstance(fn, torch.nn.Module) else None
        self.__name__ = getattr(fn, "__name__", None) or type(fn).__name__
        self.notes: list[str] = []
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
        if not self.positions and not self.params:
            raise GradvizError(f"{self.__name__} gets no float tensor to differentiate: pass at least one "
                               "floating-point torch tensor")

    def _on_cpu(self, t: Any, name: str) -> Any:
        if isinstance(t, torch.Tensor) and t.device.type != "cpu":
            self.notes.append(f"{name} is on {t.device}: it was copied to the CPU for the check")
            return t.detach().cpu()
        return t.detach() if isinstance(t, torch.Tensor) else t

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

    def __init__(self, target: _Target, specs):
        self.target, self.specs = target, specs
        self._last: tuple | None = None
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
            state = {**t.buffers, **{name: x for (name, _), x in zip(t.params, tensors[len(t.positions):])}}
            return torch.func.functional_call(t.module, state, tuple(args))
        except GradvizError:
            raise
        except Exception as exc:  # an ERROR report, as for gv.check
            raise UserCodeRaised(f"{t.__name__} raised {type(exc).__name__}: {exc}") from exc

    def _result(self, out) -> torch.Tensor:
        if not isinstance(out, torch.Tensor) or not out.is_floating_point():
            raise GradvizError(f"{self.target.__name__} must return one float torch tensor, got "
                               f"{type(out).__name__}; return the tensor whose gradient is checked")
        return out

    def record(self, arrays: list[np.ndarray]):
        tensors = [torch.from_numpy(np.array(a, dtype=np.float64)).requires_grad_() for a in arrays]
        names = {id(x): (spec.name, path) for x, spec, path in zip(tensors, self.specs, self.scopes)}
        with recording(self.target.module, names) as recorder:
            leaves = [recorder.node_of(x) for x in tensors]
            out = self._result(self._run(tensors))
        self._last = (out, tensors)
        self.target.opaque = list(recorder.opaque)
        return recorder.node_of(out), leaves

    def forward(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The output at `arrays`, run by torch without recording (the finite-difference probes)."""
        with torch.no_grad():
            # order="C", not ascontiguousarray: that makes a 0-d input 1-d, and its output then changes shape
            out = self._result(self._run([torch.from_numpy(np.asarray(a, dtype=np.float64, order="C"))
                                          for a in arrays]))
        return out.numpy() if out.dtype == torch.float64 and out.device.type == "cpu" else to_numpy(out)

    def autograd(self, out, leaves, arrays: list[np.ndarray], cotangent) -> list[np.ndarray]:
        """torch's own gradients of sum(out * R) with respect to every checked tensor."""
        result, tensors = self._last
        if not result.requires_grad:
            return [np.zeros(np.shape(a)) for a in arrays]
        cotangent = torch.as_tensor(np.broadcast_to(cotangent, tuple(result.shape)).copy()).to(result.dtype)
        # A backward that raises propagates: gv.check then names the node whose backward fails.
        grads = torch.autograd.grad(result, tensors, cotangent, allow_unused=True)
        return [np.zeros(np.shape(a)) if g is None else to_numpy(g).astype(np.float64).reshape(np.shape(a))
                for g, a in zip(grads, arrays)]


