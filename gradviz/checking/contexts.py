"""The Context each input's diagnosis gets: the same facts whatever the entry point.

The op's inputs and output, the upstream gradient, the batch, the image
geometry (read once from names and shapes), the per-sample split, and the
user's own backward for another upstream gradient (which lets "the chain rule
forgotten" be tested by scaling dout).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from .diagnosis import Context
from .diagnosis.geometry import complete as complete_geometry
from .diagnosis.samples import per_sample_gradients
from .probed import ProbeOutputs, recorder_for
from .subject import PARAMETER, BackwardFailed, Problem, Subject, UserCodeError
from .tolerance import Tolerance


def splits_by_sample(s: Subject, k: int, out: np.ndarray, cot, batch: int | None) -> bool:
    """Whether input k's true gradient can be split by sample (a parameter, a batch along the output)."""
    return s.inputs[k].role == PARAMETER and cot is not None and bool(batch) and out.ndim > s.batch_axis \
        and out.shape[s.batch_axis] == batch


@dataclass
class Aids:
    """What one check keeps for its diagnoses, so that no input's diagnosis calls the user's code for it again.

    probed:    the full probe's outputs, for the per-sample split (None: not kept)
    positions: each compared input's position in the probe
    responses: the user's backward at other upstream gradients, all inputs at once (asked once per check)
    """

    probed: ProbeOutputs | None = None
    positions: dict[int, int] = field(default_factory=dict)
    responses: dict = field(default_factory=dict)


def aids_for(s: Subject, compared: list[int], out: np.ndarray, cot, batch: int | None, mode: str) -> Aids:
    """The check's Aids; the probe outputs are kept only when some parameter may ask for its split."""
    probed = recorder_for([splits_by_sample(s, k, out, cot, batch) for k in compared],
                          [s.inputs[k].data.size for k in compared], out.shape, mode)
    return Aids(probed, {k: j for j, k in enumerate(compared)})


class Contexts(Mapping):
    """The compared inputs' Contexts by input index, each built the first time something asks for it.

    A passing input's diagnosis never runs: its Context (names, geometry, per-sample split) is built
    only if a later stage (settled kinks, localization, the parameters re-diagnosed) asks for it."""

    def __init__(self, build: Callable[[int], Context], keys: list[int]):
        self._build, self._keys, self._built = build, list(keys), {}

    def __getitem__(self, k: int) -> Context:
        if k not in self._built:
            if k not in self._keys:
                raise KeyError(k)
            self._built[k] = self._build(k)
        return self._built[k]

    def __contains__(self, k) -> bool:
        return k in self._keys

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def later(self, k: int) -> Callable[[], Context]:
        """Input k's Context when it is first needed (a failing verdict asks)."""
        return functools.partial(self.__getitem__, k)


def context_for(s: Subject, arrays: list[np.ndarray], k: int, out: np.ndarray, cot, batch: int | None,
                tol: Tolerance, aids: Aids | None = None) -> Context:
    """The Context of input k of subject s, checked at `arrays` with upstream gradient `cot`."""
    aids = Aids() if aids is None else aids
    spec = s.inputs[k]
    per_sample = None
    if splits_by_sample(s, k, out, cot, batch):
        probed, position = aids.probed, aids.positions.get(k)
        if probed is not None and probed.complete and position in probed.wanted:
            per_sample = functools.partial(probed.split, position, cot, s.batch_axis, tol.eps)
        else:
            per_sample = functools.partial(per_sample_gradients, lambda arrs: s.output(arrs), arrays, k, cot,
                                           s.batch_axis, tol.eps)
    context = Context(name=spec.name, kind=s.kind, wrt=spec.data, inputs={**s.constants, **dict(zip(s.names, arrays))},
                      output=out, cotangent=cot, batch=batch, batch_axis=s.batch_axis, layout=s.layout,
                      per_sample=per_sample, attrs={"role": spec.role, **s.attrs}, float32=spec.float32,
                      eps=tol.eps, atol=tol.atol, rtol=tol.rtol, code=s.code, framework=s.framework,
                      vjp=None if cot is None or s.graph else functools.partial(gradient_for, s, arrays, k,
                                                                                  responses=aids.responses))
    # (a recorded graph's backward accumulates into its nodes: its ops get a vjp of their own in local.py)
    return complete_geometry(context)


def gradient_for(s: Subject, arrays: list[np.ndarray], k: int, cot: np.ndarray,
                 responses: dict | None = None) -> np.ndarray | None:
    """Input k's gradient from the user's backward for another upstream gradient (the diagnosis asks).

    The inputs are put back afterwards, as after the first backward. One backward answers every
    input: `responses` keeps its gradients by upstream gradient for the other inputs' diagnoses."""
    key = (cot.shape, cot.tobytes())
    raw = None if responses is None else responses.get(key)
    if raw is None:
        saved = [a.copy() for a in arrays]
        try:
            raw = s.gradients(np.array(cot, dtype=np.float64))
        except (BackwardFailed, UserCodeError):
            raw = []
        finally:
            for buffer, before in zip(arrays, saved):
                np.copyto(buffer, before)
        if responses is not None:
            responses[key] = raw
    value = raw[k] if k < len(raw) else None
    return None if value is None or isinstance(value, Problem) else np.asarray(value, dtype=np.float64)
