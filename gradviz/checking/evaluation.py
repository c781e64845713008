"""The confirm stage at the checked point: the inputs, one forward and one backward, each confirmed.

Before any verdict the pipeline (pipeline.py) needs finite inputs and a usable
step, a forward that repeats itself and leaves its inputs alone, and each
gradient as an array the size of its input (or a Problem saying why not).
What stops the whole check is raised as `Halt` (every input gets one status)
or `BackwardStopped` (a recorded graph's backward stopped in a user op); the
report for either is built by assembly.py.
"""

from __future__ import annotations

import numpy as np

from ..errors import PrecisionWarning, warn_at_user
from .adapters.reading import as_array
from .report import ERROR, FAIL
from .streams import COTANGENT, stream
from .subject import INPUT, BackwardFailed, Problem, Subject, UserCodeError
from .tolerance import Tolerance


class Halt(Exception):
    """No gradient can be checked at this point: every input gets `status` and `message`."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class BackwardStopped(Exception):
    """The backward pass stopped inside a user op (the node checks will name it)."""


def confirm_inputs(s: Subject, arrays: list[np.ndarray], tol: Tolerance, warnings: list[str]) -> None:
    """float32 inputs are flagged, non-finite inputs halt the check, the step must suit the inputs."""
    for spec in s.inputs:
        if spec.float32:
            message = (f"{spec.name} is float32; it was upcast to float64 for the check. Finite differences in "
                       "float32 are dominated by round-off (try report.sweep() to see why)")
            warn_at_user(message, PrecisionWarning)
            warnings.append(message)
    bad = [i.name for i in s.inputs if not np.all(np.isfinite(i.data))]
    if bad:
        raise Halt(FAIL, f"input {', '.join(bad)} contains nan or inf; gradients can only be checked at finite "
                         "points")
    tol.check_step(arrays, s.names)


def evaluate(s: Subject, arrays: list[np.ndarray], seed: int, warnings: list[str]):
    """One forward and one backward at the checked point: (output, cotangent or None, raw gradients)."""
    copies = [a.copy() for a in arrays]
    out = np.array(s.first(copies), dtype=np.float64)  # a copy: the user may reuse their output buffer
    for spec, before, after in zip(s.inputs, arrays, copies):
        if spec.role == INPUT and not np.array_equal(before, after, equal_nan=True):
            raise UserCodeError(f"{s.name} modified its input array {spec.name} in place")
    if not np.all(np.isfinite(out)):
        raise Halt(FAIL, "the output is nan or inf at this point; no gradient can be checked (look for overflow, "
                         "log of <= 0, division by 0)")
    if s.loss and out.size != 1:
        raise UserCodeError(f"{s.name} returned shape {out.shape}; a loss must be one number")
    cot = None
    if not s.loss and (out.size != 1 or not s.graph):
        cot = stream(seed, COTANGENT).normal(size=out.shape)
        if s.graph:
            warnings.append("the output is not a scalar: its gradient is checked as the vector-Jacobian "
                            "product with a random cotangent R (seeded), i.e. the gradient of sum(out * R)")
    dout = None if cot is None else cot.copy()
    try:
        raw = s.gradients(dout)
    except BackwardFailed:
        raise BackwardStopped()
    if dout is not None and not np.array_equal(dout, cot):
        warnings.append(f"{s.answer} wrote into its dout argument in place (the caller's upstream gradient "
                        "is destroyed); gradviz passed a copy, so the check itself is unaffected")
    for spec, saved in zip(s.inputs, copies):  # backward must leave the inputs and parameters as it found them
        if not np.array_equal(spec.data, saved):
            warnings.append(f"{s.answer} changed {spec.name} in place, which gradviz did not account for; "
                            "it was restored")
            np.copyto(spec.data, saved)
    again = np.array(s.output([a.copy() for a in arrays]), dtype=np.float64)
    if again.shape != out.shape:  # not randomness: the output's shape itself moved (e.g. a 0-d made 1-d)
        raise UserCodeError(f"{s.name}: its forward returned shape {out.shape} when recorded but "
                            f"{again.shape} when run again on the same inputs; return the same shape every "
                            "call", ERROR)
    if not np.allclose(again, out, rtol=1e-9, atol=1e-12, equal_nan=True):
        raise UserCodeError(f"{s.name}: its forward gives different outputs for the same inputs (randomness "
                            "without a fixed seed, or state carried between calls), so finite differences of "
                            "it mean nothing; make it repeatable (e.g. a seed in its settings) and check "
                            "again", ERROR)
    return out, cot, raw


def gradient_entries(s: Subject, raw: list) -> tuple[list, dict[int, np.ndarray]]:
    """Each gradient as an array, a Problem, or None (none given); wrong shapes are Problems.

    The second value holds the misshapen gradients that are compared anyway, so the
    diagnosis can name a transpose or a broadcast dimension kept.
    """
    misshapen: dict[int, np.ndarray] = {}
    out = []
    for k, (spec, value) in enumerate(zip(s.inputs, raw)):
        if value is None or isinstance(value, Problem):
            out.append(value)
            continue
        try:
            g = as_array(f"{s.answer} ({s.grad_name(spec.name)})", value)
        except UserCodeError as exc:
            out.append(Problem(exc.status, str(exc)))
            continue
        if g.shape != spec.data.shape:
            out.append(Problem(FAIL, f"{s.answer} returned {s.grad_name(spec.name)} of shape {g.shape}; "
                                     f"{spec.name} has shape {spec.data.shape}"))
            if spec.data.size and (g.size % spec.data.size == 0 or g.ndim == spec.data.ndim):
                misshapen[k] = g
        else:
            out.append(g)
    return out, misshapen
