"""Per-parameter optimizer objects: `opt.update(w, dw)`, `opt.update(param, param_grad, param_name)`,
`opt.update(layer_id, W, dW)`, a step counter passed in (`opt.update(w, g, t)`).

Which argument is the parameter, which its gradient, which a key naming the parameter and which a step counter
is read by structure and data flow: the names the code uses give the first reading, then every assignment of
roles to the required arguments is tried, and the first confirmed (confirming.py) drives the object.
"""

from __future__ import annotations

import inspect
from itertools import permutations
from typing import Any

import numpy as np

from ....errors import GradvizError
from .. import hyperparameters as hyper
from ..confirming import Attempt, Unconfirmed, check_roles, decays_weights, half, moves_where_gradient, raised, refusal, same
from ..driving import Run, UserFault, call, drive
from ..problem import fixed_gradients
from .common import EPOCH, GRAD, NAME, PARAM, STEP, Setup, arguments, counter_drives, fresh_instance, mark_counter, \
    method, roles_of, signature, sources_of

ROLE_OF = {"param": "param", "grad": "grad", "name": "name", "step": "step", "epoch": "epoch"}


def _update(target: Any):
    return method(target, "update")


def _named(target: Any) -> dict[str, str] | None:
    roles = roles_of(_update(target)) if _update(target) is not None else None
    if roles is None or "param" not in roles.values() or "grad" not in roles.values():
        return None
    return roles


def _required(target: Any) -> list[str]:
    return [p.name for p in signature(_update(target)) if p.default is inspect.Parameter.empty]


def is_per_parameter(target: Any) -> bool:
    """Named roles (update(w, grad)), or an update of two to four required arguments whose names say nothing
    gradviz knows (update(param, param_grad, param_name)): their roles are read by structure."""
    update = _update(target)
    if update is None:
        return False
    if _named(target) is not None:
        return True
    return roles_of(update) is None and 2 <= len(_required(target)) <= 4  # names no convention knows: read them


def readings(target: Any, said: dict[str, list[str]]) -> list[dict[str, str]]:
    """Role assignments {argument: role}, the code's own names first, then by structure."""
    required = _required(target)
    named = _named(target)
    out = [named] if named is not None else []
    ranked = []
    for param, grad in permutations(required, 2):
        rest = [a for a in required if a not in (param, grad)]
        if len(rest) > 2:
            continue
        # a counter is called one (t, step, iteration, epoch; else --role step=NAME); any other argument is the key
        extra = ["step" if a in STEP + EPOCH else "name" for a in rest]
        if extra.count("step") > 1 or extra.count("name") > 1:
            continue
        roles = {param: "param", grad: "grad", **dict(zip(rest, extra))}
        score = (param in PARAM) + (grad in GRAD or "grad" in grad.lower()) + sum(a in NAME for a in rest)
        ranked.append(((-score, required.index(param), required.index(grad)), roles))
    ranked.sort(key=lambda item: item[0])
    out += [r for _, r in ranked if r not in out]
    for role, names in said.items():
        out = [r for r in out if all(r.get(n) == role or (role == "step" and r.get(n) == "epoch") for n in names)]
    return out


def describe(roles: dict[str, str]) -> str:
    what = {"param": "the parameter", "grad": "its gradient", "name": "the parameter's name", "step": "a step counter",
            "epoch": "the epoch"}
    return ", ".join(f"{a} <- {what[r]}" for a, r in roles.items())


def _one(target: Any, setup: Setup, roles: dict[str, str], w: np.ndarray, g: np.ndarray) -> tuple:
    """A fresh optimizer's first update of parameter W: (the new value, the gradient after the call)."""
    opt = fresh_instance(target, setup)
    w, g = w.copy(), g.copy()
    values = {"param": w, "grad": g, "name": "W", "step": 1, "epoch": 1}
    out = opt.update(**arguments(roles, values))
    new = w if out is None else out
    try:
        new = np.array(getattr(new, "data", new), dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"update handed back {type(out).__name__}, not numbers") from None
    if new.shape != w.shape:
        raise ValueError(f"update handed back shape {new.shape} for a parameter of shape {w.shape}")
    return new, g


def confirm(target: Any, setup: Setup, roles: dict[str, str], said_grad: bool) -> str | None:
    problem = fixed_gradients(setup.seed, 1)
    w, g = problem.start["W"], problem.gradients(1, problem.start)["W"]
    halved = half([g])[0]
    try:
        with np.errstate(all="ignore"):
            first, after = _one(target, setup, roles, w, g)
            again, _ = _one(target, setup, roles, w, g)
            partly, _ = _one(target, setup, roles, w, halved)
    except Exception as exc:
        return raised(exc)
    if not same([first], [again]):
        return "two fresh optimizers gave different values from the same step"
    if said_grad:
        return None
    grad = next(a for a, r in roles.items() if r == "grad")
    if not same([after], [g]):
        return f"it changed {grad} in place, which a gradient never is"
    return None if decays_weights(setup.given) else moves_where_gradient([w], [partly], [halved], ["W"], grad)


def choose(target: Any, setup: Setup) -> dict[str, str]:
    """The first confirmed reading; the code's own names when nothing is confirmed but they name every role;
    otherwise a refusal saying what was tried."""
    update = _update(target)
    said = check_roles(setup.roles, [p.name for p in signature(update)], f"{_subject(target)}.update")
    if "state" in said:
        raise GradvizError(f"{_subject(target)} keeps its state itself: the roles of update's arguments are param, "
                           "grad, name and step")
    attempts = []
    for roles in readings(target, said):
        why = confirm(target, setup, roles, "grad" in said)
        if why is None:
            return roles
        attempts.append(Attempt(describe(roles), why))
    named = _named(target)
    if named is not None and not said:  # the code names every role: read as written, and its faults are its own
        return named
    raise Unconfirmed(refusal(f"{_subject(target)}.update", attempts, bool(said)))


def _subject(target: Any) -> str:
    return target.__name__ if inspect.isclass(target) else type(target).__name__


def drive_per_parameter(target: Any, setup: Setup, roles: dict[str, str] | None = None) -> list[Run]:
    """update(w, grad) -> w (or in place): one optimizer per parameter, as a layer keeps one per weight;
    with a name argument, one optimizer for all, told which parameter it updates. `roles`: a reading to drive
    (default: the first confirmed)."""
    roles = roles or choose(target, setup)
    named = "name" in roles.values()
    runs = []
    for label, counter in counter_drives(roles):
        problem = fixed_gradients(setup.seed, setup.steps)
        shared = fresh_instance(target, setup) if named else None
        optimizers = {k: shared if named else fresh_instance(target, setup) for k in problem.start}

        def step(t, params, grads, counter=counter, optimizers=optimizers):
            new = {}
            for name in params:
                values = {"param": params[name], "grad": grads[name], "name": name}
                if counter:
                    values["epoch"] = values["step"] = counter(t)
                out = call(f"update for {name}", name, optimizers[name].update, **arguments(roles, values))
                new[name] = params[name] if out is None else out
            return new

        run = drive(problem, step, "update")
        run.sources = [s for o in optimizers.values() for s in sources_of(o)] + [hyper.signature_defaults(target)]
        run.binding = describe(roles)
        mark_counter(run, label, counter, setup.steps)
        runs.append(run)
    return runs


__all__ = ["drive_per_parameter", "is_per_parameter", "UserFault"]
