"""What every convention adapter shares: the names code uses for each argument, and small helpers."""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import hyperparameters as hyper
from ..driving import Run, UserFault, call

STEPS_PER_EPOCH = 3  # an epoch argument is driven as training drives it: several steps per epoch

PARAM = ("w", "W", "param", "p", "theta", "x", "weight", "weights", "value", "var", "variable", "tensor")
PARAMS = ("params", "parameters", "param_dict", "variables", "model_params", "weights_dict")
GRAD = ("grad", "dw", "dW", "g", "dx", "gradient", "grad_w", "grad_wrt_w", "dparam", "d", "dp")
GRADS = ("grads", "gradients", "grad_dict", "dparams", "d_params", "grads_dict")
NAME = ("name", "layer", "layer_name", "key", "layer_id", "layer_key", "param_name", "idx", "index")
EPOCH = ("epoch", "epoch_num", "epoch_number", "current_epoch", "ep", "e")
STEP = ("t", "step", "iteration", "it", "iter", "timestep", "time_step", "n_iter", "count")
GRADIENT_FN = ("compute_gradient", "compute_grad", "grad_fn", "gradient_fn", "grad_func", "gradient", "grad",
               "df", "f_grad", "gradient_function", "get_gradient", "compute_gradients")
NUM_STEPS = ("num_steps", "steps", "n_steps", "num_iters", "num_iterations", "iterations", "n_iter", "iters",
             "epochs", "num_epochs", "n_epochs", "max_iter")
LAYER_HOLDERS = ("layers", "model", "network", "net")
PARAM_HOLDERS = ("params", "parameters", "_params", "param_list")
ROLES = {"param": PARAM, "params": PARAMS, "grad": GRAD, "grads": GRADS, "name": NAME, "epoch": EPOCH,
         "step": STEP}


@dataclass
class Setup:
    """What every adapter needs: the seed, the number of steps and the hyperparameters given."""

    seed: int
    steps: int
    given: dict[str, Any]
    roles: dict[str, Any] = field(default_factory=dict)  # the user's word on which argument is which


@dataclass
class Convention:
    name: str
    form: str  # how the convention looks, for the message listing the conventions tried
    detect: Callable[[Any], bool]
    drive: Callable[[Any, Setup], list[Run]]
    problem: str = "fixed gradients"
    takes_roles: bool = False  # its arguments' roles are read by structure, and can be said (roles=, --role)


# -- helpers --------------------------------------------------------------------------------------------------
def signature(fn: Any) -> list[inspect.Parameter]:
    try:
        return [p for p in inspect.signature(fn).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"]  # self: a class's method
    except (TypeError, ValueError):
        return []


def roles_of(fn: Any) -> dict[str, str] | None:
    """{argument: role} for every argument of fn, or None when a required one has no known role."""
    out = {}
    for p in signature(fn):
        role = next((r for r, names in ROLES.items() if p.name in names), None)
        if role is None:
            if p.default is inspect.Parameter.empty:
                return None
            continue
        out[p.name] = role
    return out


def given_for(fn: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The given hyperparameters under the names fn's signature uses (lr -> learning_rate, ...)."""
    names = {p.name for p in signature(fn)}
    out = {}
    for key, value in given.items():
        if key in names:
            out[key] = value
            continue
        canonical = next((c for c, aliases in hyper.ALIASES.items() if key in aliases or key == c), None)
        for alias in hyper.ALIASES.get(canonical, ()):
            if alias in names:
                out[alias] = value
                break
    return out


def fresh_instance(target: Any, setup: Setup, holds: Any = None, holder_names: tuple = ()) -> Any:
    """A fresh optimizer: a deep copy of an instance (the user's own is never touched) or a new object of a class.

    A class whose constructor asks for parameters or layers gets `holds`.
    """
    if not inspect.isclass(target):
        return copy.deepcopy(target)
    kwargs = given_for(target, setup.given)
    for p in signature(target):
        if p.name in holder_names and holds is not None:
            kwargs[p.name] = holds
    return call(f"creating {target.__name__}", None, target, **kwargs)


def method(target: Any, name: str) -> Callable | None:
    fn = getattr(target, name, None)
    return fn if callable(fn) else None


def sources_of(obj: Any, *extra) -> list:
    return [hyper.attributes(obj), *extra]


def counter_drives(roles: dict[str, str]) -> list[tuple[str, Callable[[int], int] | None]]:
    """How to fill a counter argument: epochs from 0 and from 1 (two drives), a step from 1, or none."""
    if "epoch" in roles.values():
        return [(f"epochs counted from {base}", lambda t, base=base: base + (t - 1) // STEPS_PER_EPOCH)
                for base in (0, 1)]
    if "step" in roles.values():  # the caller's count: from 1 or from 0, whichever the reference rule follows
        return [(f"steps counted from {base}", lambda t, base=base: base + t - 1) for base in (1, 0)]
    return [("", None)]


def mark_counter(run: Run, label: str, counter: Callable[[int], int] | None, steps: int) -> None:
    """Say on a drive which counter values it passed; drives of a step counter are alternatives."""
    run.label = label
    run.counters = [counter(t) for t in range(1, steps + 1)] if counter else None
    if counter and label.startswith("steps"):
        run.alternative = ", ".join(str(c) for c in run.counters[:3]) + f", ... ({label})"


def arguments(roles: dict[str, str], values: dict[str, Any]) -> dict[str, Any]:
    return {arg: values[role] for arg, role in roles.items() if role in values}


def as_dict(structure: Any, keys: list, what: str) -> dict:
    if isinstance(structure, dict):
        return {k: structure.get(k) for k in keys}
    if isinstance(structure, (list, tuple)) and len(structure) == len(keys):
        return dict(zip(keys, structure))
    raise UserFault(None, f"{what} returned {type(structure).__name__}; expected the parameters back "
                          f"({', '.join(map(str, keys))})")
