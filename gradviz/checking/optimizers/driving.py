"""Driving a user's optimizer step by step and recording where every parameter went.

A `Run` is what one drive produced: each parameter's value after each step,
where the hyperparameters can be read, and, if the user's code raised or
returned something unusable, the step and parameter where that happened.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .problem import Problem

_PACKAGE = str(Path(__file__).resolve().parents[2])


class UserFault(Exception):
    """The user's optimizer raised or returned something unusable for one parameter at one step."""

    def __init__(self, parameter: str | None, message: str, raised: bool = False):
        super().__init__(message)
        self.parameter, self.message, self.raised = parameter, message, raised


@dataclass
class Fault:
    step: int
    parameter: str | None  # None: every parameter
    message: str
    raised: bool  # True: the user's code raised (ERROR); False: it returned something wrong (FAIL)


@dataclass
class Run:
    """One drive of the user's optimizer."""

    start: dict[str, np.ndarray]
    trajectories: dict[str, list[np.ndarray]]  # value after steps 1, 2, ... (as far as the drive got)
    sources: list[Mapping[str, Any]] = field(default_factory=list)  # where hyperparameters may be read
    fault: Fault | None = None
    counters: list[float] | None = None  # the epoch (or step) values passed to the user's code
    label: str = ""  # "epochs counted from 0": tells two drives of one optimizer apart
    notes: list[str] = field(default_factory=list)
    gradients: Callable | None = None  # the problem's gradients(step, params): the reference is driven alike
    binding: str = ""  # which argument was taken as what, in the user's names (said in the report)
    alternative: str = ""  # drives of one optimizer that are alternatives ("t = 1, 2, ..." or "t = 0, 1, ..."):
    # the one the reference rule follows is compared; drives without one are always compared


def where(exc: BaseException) -> str:
    """`file:line` of the innermost frame of the user's code in a traceback, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE)]
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""


def call(what: str, parameter: str | None, fn: Callable, *args, **kwargs):
    """Call user code; an exception becomes a UserFault naming the call, the exception and file:line."""
    try:
        return fn(*args, **kwargs)
    except UserFault:
        raise
    except SystemExit as exc:  # the optimizer ending the program is its fault, never gradviz's exit code
        at = where(exc)
        raise UserFault(parameter, f"{what} called sys.exit({exc.code!r})" + (f" ({at})" if at else ""),
                        raised=True) from None
    except Exception as exc:
        at = where(exc)
        raise UserFault(parameter, f"{what} raised {type(exc).__name__}: {exc}" + (f" ({at})" if at else ""),
                        raised=True) from None


def as_values(what: str, parameter: str, value: Any) -> np.ndarray:
    """A returned parameter as a float64 array; None or non-numbers are a UserFault (a FAIL, not a crash)."""
    if value is None:
        raise UserFault(parameter, f"{what} returned None for {parameter} (a missing return statement?)")
    data = getattr(value, "data", value)
    try:
        array = np.array(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise UserFault(parameter, f"{what} returned {type(value).__name__} for {parameter}, not numbers") from None
    return array


StepFn = Callable[[int, dict[str, np.ndarray], dict[str, np.ndarray]], dict[str, Any]]


def drive(problem: Problem, step: StepFn, what: str) -> Run:
    """Call step(t, params, grads) -> new params for t = 1..steps, as a training loop does.

    The values the user's code returns are fed back in (a wrong shape propagates as it would in
    training and is flagged where it first appears); an exception ends the drive at that step.
    The arrays handed in are the very objects the previous step left (updated in place, or returned),
    as in a training loop: an optimizer that keys its state by the parameter object (`id(p)`, or a dict
    keyed by the array's identity) keeps its state from one step to the next.
    """
    params = {k: v.copy() for k, v in problem.start.items()}
    live = {k: v.copy() for k, v in problem.start.items()}  # the objects the user's code holds
    run = Run(problem.start, {k: [] for k in params}, gradients=problem.gradients)
    for t in range(1, problem.steps + 1):
        grads = problem.gradients(t, {k: v.copy() for k, v in params.items()})
        try:
            new = step(t, dict(live), grads)
            for name in params:
                params[name] = as_values(what, name, new.get(name))
                kept = new.get(name)
                live[name] = kept if _same_kind(kept, params[name]) else params[name].copy()
        except UserFault as fault:
            run.fault = Fault(t, fault.parameter, fault.message, fault.raised)
            return run
        for name, value in params.items():
            run.trajectories[name].append(value.copy())
    return run


def _same_kind(kept: Any, value: np.ndarray) -> bool:
    """True when the user's returned object can be handed back as it is: a float64 array like `value`."""
    return isinstance(kept, np.ndarray) and kept.dtype == np.float64 and kept.shape == value.shape
