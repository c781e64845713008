"""Hyperparameters as people name them: read from the user's object, config dict or signature.

Names mean different things per rule (`beta` is the momentum in one course and
RMSProp's decay in another; `alpha` is PyTorch RMSProp's decay), so aliases are
looked up per hyperparameter of the rule being compared.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Iterable, Mapping

from .rules import DEFAULTS

ALIASES: dict[str, tuple[str, ...]] = {
    "lr": ("lr", "learning_rate", "step_size", "eta"),
    "beta1": ("beta1", "beta_1", "b1"),
    "beta2": ("beta2", "beta_2", "b2"),
    "eps": ("eps", "epsilon"),
    "momentum": ("momentum", "mu", "beta", "gamma"),
    "rho": ("rho", "decay_rate", "decay", "alpha", "beta", "gamma"),
    "weight_decay": ("weight_decay", "wd", "l2", "lambd", "lamda"),
}


def _number(value: Any) -> float | None:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return None


def lookup(name: str, source: Mapping[str, Any]) -> float | None:
    """`name`'s value in one mapping under any of its aliases (`betas` holds beta1 and beta2)."""
    for alias in ALIASES[name]:
        value = _number(source.get(alias))
        if value is not None:
            return value
    betas = source.get("betas")
    if name in ("beta1", "beta2") and isinstance(betas, (tuple, list)) and len(betas) == 2:
        return _number(betas[0 if name == "beta1" else 1])
    return None


def resolve(kind: str, given: Mapping[str, Any], sources: Iterable[Mapping[str, Any]]) -> tuple[dict, dict]:
    """The rule's hyperparameters, and where each came from ("given", "yours" or "default")."""
    sources = list(sources)
    values, origin = {}, {}
    for name, default in DEFAULTS[kind].items():
        value = lookup(name, given)
        where = "given"
        if value is None:
            value = next((v for v in (lookup(name, s) for s in sources) if v is not None), None)
            where = "yours"
        if value is None:
            value, where = default, "default"
        values[name], origin[name] = value, where
    return values, origin


def validate(given: Mapping[str, Any]) -> None:
    """Hyperparameters given to check_optimizer: known names, numbers (betas: a pair of numbers)."""
    from ...errors import GradvizError

    known = {a for names in ALIASES.values() for a in names} | {"betas"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise GradvizError(f"unknown hyperparameter {', '.join(unknown)}; gradviz reads "
                           f"{', '.join(sorted(ALIASES))} (and their usual spellings)")
    for name, value in given.items():
        if name == "betas":
            ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(_number(v) is not None for v in value)
        else:
            ok = _number(value) is not None
        if not ok:
            raise GradvizError(f"hyperparameter {name}={value!r} is not a number"
                               + ("; betas is a pair like (0.9, 0.999)" if name == "betas" else ""))


def signature_defaults(fn: Any) -> dict[str, Any]:
    """The default values of a function's (or a constructor's) parameters."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def attributes(obj: Any) -> dict[str, Any]:
    """An object's plain attributes, and those of a `defaults` / `config` / `hparams` dict on it."""
    found: dict[str, Any] = {}
    for holder in ("defaults", "config", "hparams", "hyperparameters"):
        value = getattr(obj, holder, None)
        if isinstance(value, Mapping):
            found.update(value)
    try:
        found.update(vars(obj))
    except TypeError:
        pass
    return found
