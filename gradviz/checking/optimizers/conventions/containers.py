"""Optimizer objects that update every parameter in one call, whatever the method and its arguments are called:

    params = opt.update(params, grads)          # dicts keyed alike, returned
    opt.update(weights, grads)                  # grads keyed dW, db, as a major course writes them, in place
    opt.step(params, grads)                     # lists of arrays, in place (torch.optim's shape without .grad)
    opt.update(layer_name, params, grads, epoch)

The convention is recognised by structure: a method (update, step, apply, apply_gradients) taking two
containers of arrays, besides a layer name or a step counter. Which of the two holds the parameters, and how
both are held (dicts keyed alike, gradients keyed `d` + the parameter's key, lists), is a reading; every
reading is confirmed (confirming.py) on fresh copies of the optimizer before any verdict, so a reading that
raises is a reading that failed, never the user's ERROR. None confirmed is a refusal.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from itertools import permutations
from typing import Any

import numpy as np

from ....errors import GradvizError
from .. import hyperparameters as hyper
from ..confirming import Attempt, Unconfirmed, check_roles, decays_weights, half, moves_where_gradient, refusal, same
from ..driving import Run, UserFault, as_values, drive
from ..problem import DEFAULT_SHAPES, LAYERED_SHAPES, fixed_gradients
from .common import EPOCH, GRAD, GRADS, NAME, PARAM, PARAMS, STEP, Setup, counter_drives, fresh_instance, \
    mark_counter, method, signature, sources_of
from .updates import _update_groups

METHODS = ("update", "step", "apply", "apply_gradients")
PACKS = {"dict": (dict, ""), "dict-d": (dict, "d"), "list": (list, "")}


@dataclass(frozen=True)
class Reading:
    method: str
    roles: tuple[tuple[str, str], ...]  # (argument, role): params, grads, name, epoch, step
    pack: str  # a key of PACKS

    @property
    def role_of(self) -> dict[str, str]:
        return dict(self.roles)

    def describe(self) -> str:
        arg = {r: a for a, r in self.roles}
        per = " per layer" if "name" in arg else ""
        grad_keys = "dW, db" if self.pack == "dict-d" else "W, b"
        held = ("a list of arrays", "a list of arrays") if self.pack == "list" else \
            (f"a dict keyed W, b{per}", f"a dict keyed {grad_keys}{per}")
        parts = [f"{arg['params']} <- the parameters ({held[0]})", f"{arg['grads']} <- their gradients ({held[1]})"]
        parts += [f"{a} <- {'the layer name' if r == 'name' else 'the ' + r}" for a, r in self.roles
                  if r not in ("params", "grads")]
        return f"{self.method}(...): " + ", ".join(parts)


def _extra_role(name: str) -> str | None:
    return "name" if name in NAME else "epoch" if name in EPOCH else "step" if name in STEP else None


def _split(fn: Any, said: dict[str, list[str]] | None = None) -> tuple[list[str], dict[str, str]] | None:
    """(the two data arguments, {argument: name/epoch/step}) of a method, or None when it does not take two."""
    said_role = {n: r for r, ns in (said or {}).items() for n in ns}
    data, extras = [], {}
    for p in signature(fn):
        role = said_role.get(p.name)
        role = "epoch" if role == "step" and p.name in EPOCH else role
        extra = role if role in ("name", "step", "epoch") else None if role else _extra_role(p.name)
        if extra is not None:
            extras[p.name] = extra
        elif p.default is inspect.Parameter.empty or role in ("param", "grad"):
            data.append(p.name)
    return (data, extras) if len(data) == 2 else None


def _method(target: Any) -> tuple[str, list[str], dict[str, str]] | None:
    for name in METHODS:
        fn = method(target, name)
        split = _split(fn) if fn is not None else None
        if split is not None:
            return name, *split
    return None


def is_containers(target: Any) -> bool:
    """A class or object whose update/step/apply takes two containers (besides a layer name or a counter)."""
    return not inspect.isfunction(target) and _method(target) is not None


def _score(param: str, grad: str) -> int:
    grad_named = grad in GRAD + GRADS or "grad" in grad.lower() or (grad.startswith("d") and grad[1:] in
                                                                    PARAM + PARAMS)
    return (param in PARAM + PARAMS) + grad_named


def readings(target: Any, said: dict[str, list[str]]) -> list[Reading]:
    """Every (parameters, gradients) x containers reading, the code's own names first."""
    name = next(n for n in METHODS if method(target, n) is not None and _split(method(target, n), said))
    data, extras = _split(method(target, name), said)
    ranked = []
    for param, grad in permutations(data, 2):
        if said.get("param", [param]) != [param] or said.get("grad", [grad]) != [grad]:
            continue
        roles = tuple([(param, "params"), (grad, "grads")] + list(extras.items()))
        for order, pack in enumerate(PACKS):
            ranked.append(((-_score(param, grad), data.index(param), order), Reading(name, roles, pack)))
    return [r for _, r in sorted(ranked, key=lambda item: item[0])]


def _shapes(reading: Reading) -> dict[str, tuple]:
    return LAYERED_SHAPES if "name" in reading.role_of.values() else DEFAULT_SHAPES


def _one_step(target: Any, setup: Setup, reading: Reading, counter, grads: dict | None = None):
    """A fresh optimizer's first step: (new parameters, the gradients as handed in, after the call, the object)."""
    problem = fixed_gradients(setup.seed, 1, shapes=_shapes(reading))
    grads = {k: v.copy() for k, v in (grads or problem.gradients(1, problem.start)).items()}
    opt = fresh_instance(target, setup)
    kind, prefix = PACKS[reading.pack]
    with np.errstate(all="ignore"):
        new = _update_groups(opt, reading.role_of, 1, {k: v.copy() for k, v in problem.start.items()}, grads, kind,
                             counter, method_name=reading.method, grad_prefix=prefix)
    out = {}
    for name, start in problem.start.items():
        value = as_values(reading.method, name, new.get(name))
        if value.shape != start.shape:
            raise UserFault(name, f"{reading.method} handed back {name} of shape {value.shape}; it has shape "
                                  f"{start.shape}")
        out[name] = value
    return problem, out, grads, opt


def confirm(target: Any, setup: Setup, reading: Reading, said_grad: bool) -> str | None:
    """None when the reading holds for one of the counters a training loop may pass; else why not."""
    why = None
    for _, counter in counter_drives(reading.role_of):
        why = _confirm(target, setup, reading, counter, said_grad)
        if why is None:
            return None
    return why


def _confirm(target: Any, setup: Setup, reading: Reading, counter, said_grad: bool) -> str | None:
    try:
        problem, first, after, opt = _one_step(target, setup, reading, counter)
        _, again, _, _ = _one_step(target, setup, reading, counter)
        grads = problem.gradients(1, problem.start)
        halved = dict(zip(grads, half(list(grads.values()))))
        _, partly, _, _ = _one_step(target, setup, reading, counter, halved)
    except UserFault as fault:
        if fault.message.startswith("creating "):  # the object could not be made: no reading can say anything
            raise
        return fault.message.removeprefix(f"{reading.method} ")
    names = list(problem.start)
    if not same([first[n] for n in names], [again[n] for n in names]):
        return "two fresh optimizers gave different parameters from the same step"
    if said_grad:
        return None
    grads_arg = next(a for a, r in reading.roles if r == "grads")
    if not same([after[n] for n in names], [grads[n] for n in names]):
        return f"it changed {grads_arg} in place, which a gradient never is"
    if decays_weights(setup.given) or hyper.lookup("weight_decay", hyper.attributes(opt)):
        return None  # weight decay moves the parameters with a zero gradient too
    return moves_where_gradient([problem.start[n] for n in names], [partly[n] for n in names],
                                [halved[n] for n in names], names, grads_arg)


def _runs_at_all(target: Any, setup: Setup, reading: Reading) -> bool:
    """The call runs and hands the parameters back in their shapes (the weakest confirmation)."""
    try:
        _one_step(target, setup, reading, counter_drives(reading.role_of)[-1][1])
    except UserFault:
        return False
    return True


def choose(target: Any, setup: Setup) -> Reading:
    """The first confirmed reading; the code's own names when nothing is confirmed but the call runs as they say
    (an update that never moves anything is its own fault); otherwise a refusal saying what was tried."""
    name, _, _ = _method(target)
    subject = f"{target.__name__ if inspect.isclass(target) else type(target).__name__}.{name}"
    said = check_roles(setup.roles, [p.name for p in signature(method(target, name))], subject)
    if "state" in said:
        raise GradvizError(f"{subject} keeps its state itself: the roles of its arguments are param, grad, name "
                           "and step")
    options = readings(target, said)
    attempts = []
    for reading in options:
        why = confirm(target, setup, reading, "grad" in said)
        if why is None:
            return reading
        attempts.append(Attempt(reading.describe(), why))
    named = [r for r in options if r.roles[0][0] in PARAM + PARAMS and _score(r.roles[0][0], r.roles[1][0]) == 2]
    for reading in named if not said else ():
        if _runs_at_all(target, setup, reading):
            return reading
    raise Unconfirmed(refusal(subject, attempts, bool(said)))


def drive_containers(target: Any, setup: Setup, reading: Reading | None = None) -> list[Run]:
    """update(params, grads[, name][, epoch]) over the confirmed containers, returning them or in place.
    `reading`: one to drive (default: the first confirmed)."""
    reading = reading or choose(target, setup)
    kind, prefix = PACKS[reading.pack]
    runs = []
    for label, counter in counter_drives(reading.role_of):
        problem = fixed_gradients(setup.seed, setup.steps, shapes=_shapes(reading))
        opt = fresh_instance(target, setup)
        run = drive(problem, lambda t, p, g, opt=opt, counter=counter:
                    _update_groups(opt, reading.role_of, t, p, g, kind, counter, method_name=reading.method,
                                   grad_prefix=prefix), reading.method)
        run.sources = sources_of(opt, hyper.signature_defaults(target))
        run.binding = reading.describe()
        mark_counter(run, label, counter, setup.steps)
        runs.append(run)
    return runs


__all__ = ["choose", "confirm", "drive_containers", "is_containers", "readings"]
