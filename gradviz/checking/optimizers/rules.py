"""The reference update rules, in float64, and the variants a bug turns them into.

Each rule is written once. A `Variant` says how a rule is computed; the
reference is `Variant()`, and every cause gradviz can name for an optimizer is
one departure from it (no bias correction, eps inside the root, ...), so a
hypothesis is tested by running the same rule with one field changed. These
rules are written independently of gv.optim, which is tested against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

KINDS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "momentum-ema", "adagrad")

DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 1e-2, "weight_decay": 0.0},
    "momentum": {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "nesterov": {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "rmsprop": {"lr": 1e-2, "rho": 0.99, "eps": 1e-8, "weight_decay": 0.0},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "momentum-ema": {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {"lr": 1e-2, "eps": 1e-10, "weight_decay": 0.0},
}

FORMULAS = {
    "sgd": "p -= lr*g",
    "momentum": "v = momentum*v + g; p -= lr*v  (the same trajectory as v = momentum*v - lr*g; p += v)",
    "nesterov": "v = momentum*v + g; p -= lr*(g + momentum*v)",
    "rmsprop": "s = rho*s + (1-rho)*g^2; p -= lr*g/(sqrt(s) + eps)",
    "adam": "m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr*m_hat/(sqrt(v_hat) + eps), "
            "m_hat = m/(1-b1^t), v_hat = v/(1-b2^t), t = 1, 2, ...",
    "adamw": "p -= lr*weight_decay*p, then the Adam step",
    "momentum-ema": "v = beta*v + (1-beta)*g; p -= lr*v  (momentum as an exponential average, as a major course "
                    "teaches it)",
    "adagrad": "s = s + g^2; p -= lr*g/(sqrt(s) + eps)",
}


@dataclass(frozen=True)
class Variant:
    """How a rule is computed. Variant() is the reference; each field is one way code departs from it."""

    bias: str = "both"  # bias correction on: "both" moments, "none", only "m", only "v"
    counter: str = "step"  # the t of the correction: "step" (1, 2, ...), "step-1" (0, 1, ...), "one" (1, 1, ...),
    # or "given" (the counters a training loop passed, e.g. epochs)
    eps: str = "outside"  # "outside" the root, "inside" it, or added "before" the bias correction
    square: str = "square"  # what the second moment averages: "square" (g^2), "abs" (|g|), "none" (g)
    decay: str = "rule"  # weight decay: the "rule"'s own, "coupled" (L2 in g), "decoupled" (AdamW), or "both"
    lr_power: int = 1  # 2: lr applied twice
    sign: int = 1  # -1: the step goes uphill
    dampening: bool = False  # momentum as an average: v = mu*v + (1-mu)*g
    classic: bool = False  # momentum in the classic form, v = mu*v - lr*g; p += v (same trajectory at a fixed lr)
    shared_state: str = ""  # one state for "all" parameters, or for parameters of one name "across layers"
    per_parameter_counter: bool = False  # the step counter advances once per parameter
    offset: int = 0  # added to the step counter t (a counter that starts at 2 is offset 1)


REFERENCE = Variant()

# Ways a rule is written in practice that are not bugs: kind -> [(the variant, what it is)]. A trajectory that
# follows one passes, and the report names the convention it follows; causes are then sought from it.
ACCEPTED: dict[str, list[tuple[Variant, str]]] = {
    "rmsprop": [(Variant(eps="inside"), "eps inside the square root, g/sqrt(s + eps), as TensorFlow 1's "
                                        "RMSPropOptimizer and Hinton's lecture write it (PyTorch and Keras: "
                                        "g/(sqrt(s) + eps))")],
}


def _second(g: np.ndarray, how: str) -> np.ndarray:
    return g * g if how == "square" else np.abs(g) if how == "abs" else g


def _denominator(s_hat: np.ndarray, eps: float, how: str) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(s_hat + eps) if how == "inside" else np.sqrt(s_hat) + eps


def _step(kind: str, p: np.ndarray, g: np.ndarray, state: dict, t: float, hp: Mapping[str, float],
          var: Variant) -> np.ndarray:
    """One update of one parameter: the new value (state is updated in place)."""
    lr = hp["lr"] ** var.lr_power
    wd = hp.get("weight_decay", 0.0)
    decay = ("decoupled" if kind == "adamw" else "coupled") if var.decay == "rule" else var.decay
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if wd and decay in ("coupled", "both"):
            g = g + wd * p
        if wd and decay in ("decoupled", "both"):
            p = p - hp["lr"] * wd * p
        if kind == "sgd":
            delta = -lr * g
        elif kind in ("momentum", "nesterov") and var.classic:  # CS231n's forms; Nesterov on the look-ahead point
            mu, previous = hp["momentum"], state.get("v", 0.0)
            state["v"] = mu * previous - lr * g
            delta = state["v"] if kind == "momentum" else -mu * previous + (1 + mu) * state["v"]
        elif kind == "momentum-ema":  # the exponentially averaged velocity: a rule of its own, not a bug
            mu = hp["momentum"]
            state["v"] = mu * state.get("v", 0.0) + (1 - mu) * g
            delta = -lr * state["v"]
        elif kind in ("momentum", "nesterov"):  # PyTorch's forms
            mu = hp["momentum"]
            state["v"] = mu * state.get("v", 0.0) + ((1 - mu) * g if var.dampening else g)
            delta = -lr * (g + mu * state["v"] if kind == "nesterov" else state["v"])
        elif kind == "rmsprop":
            rho = hp["rho"]
            state["s"] = rho * state.get("s", 0.0) + (1 - rho) * _second(g, var.square)
            delta = -lr * g / _denominator(state["s"], hp["eps"], var.eps)
        elif kind == "adagrad":  # the sum of every squared gradient so far, never decayed
            state["s"] = state.get("s", 0.0) + _second(g, var.square)
            delta = -lr * g / _denominator(state["s"], hp["eps"], var.eps)
        elif kind in ("adam", "adamw"):
            b1, b2, eps = hp["beta1"], hp["beta2"], hp["eps"]
            state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
            state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * _second(g, var.square)
            c1 = 1 - b1**t if var.bias in ("both", "m") else 1.0
            c2 = 1 - b2**t if var.bias in ("both", "v") else 1.0
            if var.eps == "before":  # the paper's "efficient" form: lr_t = lr*sqrt(c2)/c1 on m/(sqrt(v) + eps)
                delta = -lr * np.sqrt(c2) / c1 * state["m"] / (np.sqrt(state["v"]) + eps)
            else:
                delta = -lr * (state["m"] / c1) / _denominator(state["v"] / c2, eps, var.eps)
        else:
            raise ValueError(f"unknown optimizer kind {kind!r}")
    return p + var.sign * delta


GradientSource = Callable[[int, dict[str, np.ndarray]], dict[str, np.ndarray]]


def trajectory(kind: str, hp: Mapping[str, float], start: Mapping[str, np.ndarray], gradients: GradientSource,
               steps: int, variant: Variant = REFERENCE,
               counters: Sequence[float] | None = None) -> dict[str, list[np.ndarray]]:
    """Every parameter after each of `steps` updates; gradients(step, params) gives step's gradients.

    `counters` are the t values a variant with counter="given" uses (the epochs a training loop passed).
    """
    params = {k: np.array(v, dtype=np.float64) for k, v in start.items()}
    out: dict[str, list[np.ndarray]] = {k: [] for k in params}
    states: dict[str, dict] = {}
    calls = 0
    for step in range(1, steps + 1):
        grads = gradients(step, params)
        for name in params:
            calls += 1
            t = calls if variant.per_parameter_counter else step
            if variant.counter == "step-1":
                t -= 1
            elif variant.counter == "given":
                t = counters[step - 1]
            elif variant.counter == "one":
                t = 1
            t += variant.offset
            key = {"": name, "all": "", "across layers": name.rsplit(".", 1)[-1]}[variant.shared_state]
            state = states.setdefault(key, {})
            params[name] = _step(kind, params[name], np.asarray(grads[name], dtype=np.float64), state, t, hp,
                                 variant)
            out[name].append(params[name].copy())
    return out

