"""The Context each input's diagnosis gets: the same facts whatever the entry point.

The op's inputs and output, the upstream gradient, the batch, the image
geometry (read once from names and shapes), the per-sample split, and the
user's own backward for another upstream gradient (which lets "the chain rule
forgotten" be tested by scaling dout).
"""

from __future__ import annotations

import functools

import numpy as np

from .diagnosis import Context
from .diagnosis.geometry import complete as complete_geometry
from .diagnosis.samples import per_sample_gradients
from .subject import PARAMETER, BackwardFailed, Problem, Subject, UserCodeError
from .tolerance import Tolerance


def context_for(s: Subject, arrays: list[np.ndarray], k: int, out: np.ndarray, cot, batch: int | None,
                tol: Tolerance) -> Context:
    """The Context of input k of subject s, checked at `arrays` with upstream gradient `cot`."""
    spec = s.inputs[k]
    per_sample = None
    if spec.role == PARAMETER and cot is not None and batch and out.ndim > s.batch_axis \
            and out.shape[s.batch_axis] == batch:
        per_sample = functools.partial(per_sample_gradients, lambda arrs: s.output(arrs), arrays, k, cot,
                                       s.batch_axis, tol.eps)
    context = Context(name=spec.name, kind=s.kind, wrt=spec.data, inputs={**s.constants, **dict(zip(s.names, arrays))},
                      output=out, cotangent=cot, batch=batch, batch_axis=s.batch_axis, layout=s.layout,
                      per_sample=per_sample, attrs={"role": spec.role, **s.attrs}, float32=spec.float32,
                      eps=tol.eps, atol=tol.atol, rtol=tol.rtol,
                      vjp=None if cot is None or s.graph else functools.partial(gradient_for, s, arrays, k))
    # (a recorded graph's backward accumulates into its nodes: its ops get a vjp of their own in local.py)
    return complete_geometry(context)


def gradient_for(s: Subject, arrays: list[np.ndarray], k: int, cot: np.ndarray) -> np.ndarray | None:
    """Input k's gradient from the user's backward for another upstream gradient (the diagnosis asks).

    The inputs are put back afterwards, as after the first backward."""
    saved = [a.copy() for a in arrays]
    try:
        raw = s.gradients(np.array(cot, dtype=np.float64))
    except (BackwardFailed, UserCodeError):
        return None
    finally:
        for buffer, before in zip(arrays, saved):
            np.copyto(buffer, before)
    value = raw[k] if k < len(raw) else None
    return None if value is None or isinstance(value, Problem) else np.asarray(value, dtype=np.float64)
