"""Why an optimizer departs from its rule: one small function per cause, each with its evidence.

A hypothesis names a variant of the reference rule (rules.Variant) and holds
when that variant reproduces the user's whole trajectory, every parameter at
every step, on every drive; the evidence says so with the numbers that show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from ..diagnosis.finding import Finding
from .driving import Run
from .rules import ACCEPTED, KINDS, REFERENCE, Variant, trajectory

ADAM = ("adam", "adamw")
SECOND_MOMENT = ("rmsprop", "adam", "adamw", "adagrad")
MOMENTUM = ("momentum", "nesterov")


def _found(sentence: str, evidence: str) -> Finding:
    """A Finding (the diagnosis library's type); explain() names its cause after the hypothesis."""
    return Finding(sentence, cause="", evidence=evidence, confidence=1.0)


@dataclass
class Context:
    """The user's drives, the rule they are compared with, and how close is close."""

    kind: str
    hp: dict[str, float]
    runs: list[Run]
    rtol: float
    atol: float
    origin: dict[str, str] = field(default_factory=dict)  # hyperparameter -> "given", "yours" or "default"
    cache: dict = field(default_factory=dict)
    base: Variant = REFERENCE  # the way the rule is written that causes depart from (rules.ACCEPTED)

    def follows(self, variant: Variant = REFERENCE, kind: str | None = None, **hp_changes) -> bool:
        """Does this variant of the rule reproduce every drive, parameter and completed step?

        A variant departs from the base: the fields it changes from the reference replace the base's."""
        changed = {f: getattr(variant, f) for f in variant.__dataclass_fields__
                   if getattr(variant, f) != getattr(REFERENCE, f)}
        variant = replace(self.base, **changed)
        key = (variant, kind, tuple(sorted(hp_changes.items())))
        if key not in self.cache:
            hp = {**self.hp, **hp_changes}
            self.cache[key] = all(_reproduces(run, kind or self.kind, hp, variant, self.rtol, self.atol)
                                  for run in self.runs)
        return self.cache[key]

    @property
    def steps(self) -> int:
        return max(len(t) for run in self.runs for t in run.trajectories.values())


def _reproduces(run: Run, kind: str, hp: dict, variant: Variant, rtol: float, atol: float) -> bool:
    done = min(len(t) for t in run.trajectories.values())
    if done == 0:
        return False
    if variant.counter == "given" and run.counters is None:
        return False
    try:
        ref = trajectory(kind, hp, run.start, run.gradients, done, variant, run.counters)
    except ValueError:  # a shared state of shapes that do not broadcast: not what the user's code did
        return False
    for name, values in run.trajectories.items():
        for mine, theirs in zip(values[:done], ref[name]):
            if np.shape(mine) != np.shape(theirs):
                return False
            if not np.allclose(mine, theirs, rtol=rtol, atol=atol, equal_nan=True):
                return False
    return True


def _first_step_ratio(ctx: Context) -> float:
    """The largest first-step move of any element, in units of lr."""
    moves = [np.max(np.abs(t[0] - run.start[n])) for run in ctx.runs for n, t in run.trajectories.items() if t]
    return float(max(moves, default=0.0)) / ctx.hp["lr"]


def _reproduced(ctx: Context) -> str:
    return f"this variant of the rule reproduces all {ctx.steps} steps of yours"


# -- the causes -------------------------------------------------------------------------------------------------
def update_on_a_copy(ctx: Context) -> Finding | None:
    runs = [r for r in ctx.runs if all(r.trajectories.values())]
    if not runs or not all(np.array_equal(v, r.start[n]) for r in runs for n, t in r.trajectories.items() for v in t):
        return None
    names = ", ".join(runs[0].trajectories)
    return _found("the update is applied to a copy, so the parameters never change",
                   f"after {ctx.steps} steps every element of {names} still has its starting value; "
                   "`p = p - lr*g` only rebinds a name: update in place (`p -= lr*g`, `p[...] = ...`) "
                   "or return the new value")


def bias_correction_missing(ctx: Context) -> Finding | None:
    if ctx.kind in ADAM and ctx.follows(Variant(bias="none")):
        return _found("bias correction missing: m and v are used without dividing by 1 - beta**t",
                       f"{_reproduced(ctx)}; your first step moves an element by {_first_step_ratio(ctx):.3g} x lr, "
                       "where the corrected first step is at most about lr")
    return None


def bias_counter_from_zero(ctx: Context) -> Finding | None:
    if ctx.kind in ADAM and ctx.follows(Variant(counter="step-1")):
        return _found("bias correction computed from a step counter that starts at 0",
                       f"{_reproduced(ctx)} with t = 0, 1, 2, ...: at the first step 1 - beta1**0 = 0, "
                       "a division by zero; count t from 1 (increment it before correcting)")
    return None


def bias_counter_offset(ctx: Context) -> Finding | None:
    """t = 2, 3, ... (incremented twice, or before and after) or t = -1, 0, ...: a counter off by a whole step."""
    if ctx.kind not in ADAM:
        return None
    for offset in (1, 2):
        if ctx.follows(Variant(offset=offset)):
            first = 1 + offset
            return _found(f"bias correction computed from a step counter that starts at {first} instead of 1",
                           f"{_reproduced(ctx)} with t = {first}, {first + 1}, ...: the counter starts at {offset} "
                           "or is incremented once too often before the first correction; the first update must "
                           "use t = 1")
    return None


def bias_power_fixed(ctx: Context) -> Finding | None:
    if ctx.kind in ADAM and ctx.follows(Variant(counter="one")):
        return _found("bias correction with a fixed power: m / (1 - beta1) at every step instead of "
                       "m / (1 - beta1**t)", f"{_reproduced(ctx)} with t = 1 at every step; raise beta to the "
                                             "number of updates so far")
    return None


def bias_from_epoch(ctx: Context) -> Finding | None:
    if ctx.kind in ADAM and any("epoch" in r.label for r in ctx.runs) and ctx.follows(Variant(counter="given")):
        passed = " and ".join("(" + ", ".join(map(str, r.counters)) + ")" for r in ctx.runs if r.counters)
        return _found("bias correction computed from the epoch instead of the step",
                       f"{_reproduced(ctx)} with t = the epoch passed {passed} instead of "
                       "the number of updates (1, 2, ...): at epoch 0 it divides by zero, later it corrects with "
                       "the wrong power; count the updates yourself")
    return None


def bias_one_moment(ctx: Context) -> Finding | None:
    if ctx.kind not in ADAM:
        return None
    for corrected, other in (("m", "v"), ("v", "m")):
        if ctx.follows(Variant(bias=corrected)):
            return _found(f"bias correction applied to {corrected} only ({other}_hat = {other} is not corrected)",
                           _reproduced(ctx))
    return None


def eps_inside_root(ctx: Context) -> Finding | None:
    if ctx.kind in SECOND_MOMENT and ctx.follows(Variant(eps="inside")):
        return _found("eps inside the square root: sqrt(v + eps) where the rule has sqrt(v) + eps",
                       f"{_reproduced(ctx)}; it shows where gradients are tiny, as for the 1e-4-scale elements here")
    return None


def eps_before_correction(ctx: Context) -> Finding | None:
    if ctx.kind in ADAM and ctx.follows(Variant(eps="before")):
        return _found("eps added before the bias correction: m / (sqrt(v) + eps) scaled by sqrt(1-beta2**t) / "
                       "(1-beta1**t), so eps is effectively eps*sqrt(1-beta2**t)",
                       f"{_reproduced(ctx)}; add eps to sqrt(v_hat), after correcting")
    return None


def gradient_not_squared(ctx: Context) -> Finding | None:
    if ctx.kind not in SECOND_MOMENT:
        return None
    for how, what in (("none", "g itself"), ("abs", "|g|")):
        if ctx.follows(Variant(square=how)):
            return _found(f"the squared gradient is not squared: the second moment averages {what}, not g*g",
                           _reproduced(ctx))
    return None


def momentum_convention(ctx: Context) -> Finding | None:
    if ctx.kind not in MOMENTUM:
        return None
    if ctx.follows(Variant(sign=-1)):
        return _found("momentum sign mixed: the parameter moves along +v (e.g. v = mu*v - lr*g, then p -= v)",
                       f"{_reproduced(ctx)} with the step's sign flipped: it climbs the gradient")
    if ctx.follows(Variant(sign=-1, lr_power=2)):
        return _found("the two momentum conventions mixed: v = mu*v - lr*g (classic) then p -= lr*v (PyTorch)",
                       f"{_reproduced(ctx)} with the sign flipped and lr applied twice")
    if ctx.follows(Variant(dampening=True)):
        return _found("momentum as an average, v = mu*v + (1-mu)*g, where the rule adds the whole gradient "
                      "(if your course teaches this form, check it as kind='momentum-ema', --optimizer momentum-ema)",
                       f"{_reproduced(ctx)}; every step is (1 - mu) = {1 - ctx.hp['momentum']:g} times the rule's")
    return None


def step_sign_flipped(ctx: Context) -> Finding | None:
    if ctx.kind not in MOMENTUM and ctx.follows(Variant(sign=-1)):
        return _found("the step has the wrong sign: the parameters move up the gradient",
                       f"{_reproduced(ctx)} with the update's sign flipped")
    return None


def lr_applied_twice(ctx: Context) -> Finding | None:
    if ctx.follows(Variant(lr_power=2)):
        return _found("the learning rate is applied twice (steps are lr times too small)",
                       f"{_reproduced(ctx)} with lr**2 = {ctx.hp['lr'] ** 2:g} in place of lr = {ctx.hp['lr']:g}")
    return None


def weight_decay_mode(ctx: Context) -> Finding | None:
    if not ctx.hp.get("weight_decay"):
        return None
    if ctx.follows(Variant(decay="both")):
        if ctx.kind in SECOND_MOMENT:
            return _found("weight decay applied twice: as L2 in the gradient (g + weight_decay*p, into the moments) "
                          "and decoupled (p -= lr*weight_decay*p)", f"{_reproduced(ctx)} with both; "
                          + ("AdamW decouples it only" if ctx.kind == "adamw" else "the rule adds it to g only"))
        return _found("weight decay applied twice: each step decays p by 2*lr*weight_decay*p (g + weight_decay*p, "
                      "with the decay added again)", f"{_reproduced(ctx)} with the decay counted twice")
    if ctx.kind == "adamw" and ctx.follows(Variant(decay="coupled")):
        return _found("weight decay coupled (L2: g + weight_decay*p goes into the moments) where AdamW decouples "
                       "it (p -= lr*weight_decay*p, outside the moments)", _reproduced(ctx))
    if ctx.kind != "adamw" and ctx.follows(Variant(decay="decoupled")):
        return _found("weight decay decoupled (AdamW's p -= lr*weight_decay*p) where coupled L2 decay "
                       "(g + weight_decay*p) was asked; use kind='adamw' if that is what you meant", _reproduced(ctx))
    if ctx.follows(weight_decay=0.0):
        return _found(f"weight decay is not applied (weight_decay={ctx.hp['weight_decay']:g} was asked)",
                       f"{_reproduced(ctx)} with weight_decay = 0")
    return None


def state_shared(ctx: Context) -> Finding | None:
    if ctx.runs and len(ctx.runs[0].trajectories) < 2:
        return None
    for sharing, between in (("all", "all parameters"), ("across layers", "the layers' parameters of one name")):
        if ctx.kind != "sgd" and ctx.follows(Variant(shared_state=sharing)):
            return _found(f"state shared between parameters: one state for {between}, updated by each one's "
                           "gradient in turn", f"{_reproduced(ctx)} with one state for {between}; keep one "
                                               "state per parameter (keyed by layer and name)")
    if ctx.kind in ADAM and ctx.follows(Variant(per_parameter_counter=True)):
        return _found("the step counter is shared between parameters: t advances once per parameter, "
                       "not once per step", f"{_reproduced(ctx)} with t incremented inside the loop over "
                                            "parameters; increment it once per step")
    return None


def _implied_lr(ctx: Context) -> float | None:
    """The learning rate that scales the rule's first step onto yours (the median over elements), if any."""
    run = ctx.runs[0]
    name = next(iter(run.trajectories))
    if not run.trajectories[name] or np.shape(run.trajectories[name][0]) != np.shape(run.start[name]):
        return None
    ref = trajectory(ctx.kind, ctx.hp, run.start, run.gradients, 1, ctx.base)[name][0]
    theirs, ours = run.trajectories[name][0] - run.start[name], ref - run.start[name]
    moved = np.abs(ours) > 0
    ratios = theirs[moved] / ours[moved]
    return float(np.median(ratios)) * ctx.hp["lr"] if ratios.size and np.all(np.isfinite(ratios)) else None


# values code often hard-codes where gradviz found none (Keras's eps is 1e-7, RMSProp's decay 0.9 or 0.99, ...)
COMMON_VALUES = {"eps": (1e-7, 1e-8, 1e-6, 1e-10), "rho": (0.9, 0.99, 0.95, 0.999), "beta1": (0.9, 0.8, 0.95),
                 "beta2": (0.999, 0.99, 0.98), "momentum": (0.9, 0.99, 0.95, 0.5),
                 "weight_decay": (1e-4, 5e-4, 1e-3, 1e-2)}  # L2 decay written into the step


def different_hyperparameter(ctx: Context) -> Finding | None:
    """The rule is right but one hyperparameter is not the one compared with (hard-coded, or another default)."""
    candidates = {name: values for name, values in COMMON_VALUES.items() if name in ctx.hp}
    implied = _implied_lr(ctx)
    if implied is not None:
        candidates["lr"] = (implied,)
    for name, values in candidates.items():
        for value in values:
            if not np.isclose(value, ctx.hp[name]) and value > 0 and ctx.follows(**{name: value}):
                where = {"yours": "read from your code", "given": "given", "default": "the default: "
                         "none was found in your code"}.get(ctx.origin.get(name, ""), "")
                return _found(f"the rule is right, but it runs with {name} = {value:.6g}, not {ctx.hp[name]:.6g}",
                              f"{_reproduced(ctx)} with {name} = {value:.6g}; {ctx.hp[name]:.6g} was {where}; "
                              f"pass {name}={value:.6g} if that is what you meant")
    return None


HYPOTHESES: list[Callable[[Context], Finding | None]] = [
    update_on_a_copy, bias_correction_missing, bias_counter_from_zero, bias_counter_offset, bias_power_fixed,
    bias_from_epoch,
    bias_one_moment, eps_inside_root, eps_before_correction, gradient_not_squared, momentum_convention, step_sign_flipped,
    lr_applied_twice, weight_decay_mode, state_shared, different_hyperparameter,
]


# One-field departures from the rule, combined two at a time when no single cause fits:
# cause -> (the kinds it applies to, the Variant's fields, what the code does).
SLIPS: dict[str, tuple[tuple, dict, str]] = {
    "bias_correction_missing": (ADAM, {"bias": "none"}, "no bias correction"),
    "bias_counter_from_zero": (ADAM, {"counter": "step-1"}, "a step counter from 0"),
    "bias_counter_offset": (ADAM, {"offset": 1}, "a step counter from 2"),
    "bias_power_fixed": (ADAM, {"counter": "one"}, "beta**1 in the correction at every step"),
    "bias_one_moment": (ADAM, {"bias": "m"}, "only m bias-corrected"),
    "eps_inside_root": (SECOND_MOMENT, {"eps": "inside"}, "eps inside the square root"),
    "eps_before_correction": (ADAM, {"eps": "before"}, "eps added before the bias correction"),
    "gradient_not_squared": (SECOND_MOMENT, {"square": "abs"}, "|g| in place of g*g"),
    "step_sign_flipped": (KINDS, {"sign": -1}, "the step's sign flipped"),
    "lr_applied_twice": (KINDS, {"lr_power": 2}, "lr applied twice"),
    "momentum_convention": (MOMENTUM, {"dampening": True}, "momentum as an average"),
    "weight_decay_mode": (("adamw",), {"decay": "coupled"}, "weight decay coupled"),
}


def two_slips(ctx: Context) -> Finding | None:
    """Two of the known slips at once: every pair of compatible departures is replayed."""
    names = [c for c, (kinds, _, _) in SLIPS.items() if ctx.kind in kinds]
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = SLIPS[first][1], SLIPS[second][1]
            if set(a) & set(b):
                continue  # two values of one field cannot both hold
            if ctx.follows(Variant(**a, **b)):
                return _found(f"two slips at once: {SLIPS[first][2]} ({first}) and {SLIPS[second][2]} ({second})",
                              f"{_reproduced(ctx)} with both departures from the rule; neither alone does")
    return None


# What `gradviz causes` lists for optimizers: cause -> (meaning, a one-line example).
CAUSES: dict[str, tuple[str, str]] = {
    "update_on_a_copy": ("the update is applied to a copy: the parameters never change", "p = p - lr * g"),
    "bias_correction_missing": ("m and v used without dividing by 1 - beta**t", "p -= lr * m / (np.sqrt(v) + eps)"),
    "bias_counter_from_zero": ("the bias correction's step counter starts at 0", "m_hat = m / (1 - b1**t); t += 1"),
    "bias_counter_offset": ("the step counter starts at 2 (or another wrong step)", "t += 1 ... t += 1  # twice"),
    "bias_power_fixed": ("m / (1 - beta1) at every step instead of m / (1 - beta1**t)", "m_hat = m / (1 - b1)"),
    "bias_from_epoch": ("the bias correction's t is the epoch, not the update count", "m_hat = m / (1 - b1**epoch)"),
    "bias_one_moment": ("only one of m and v bias-corrected", "p -= lr * m_hat / (np.sqrt(v) + eps)"),
    "eps_inside_root": ("sqrt(v + eps) where the rule has sqrt(v) + eps", "p -= lr * g / np.sqrt(s + eps)"),
    "eps_before_correction": ("eps added before the bias correction", "p -= lr_t * m / (np.sqrt(v) + eps)"),
    "gradient_not_squared": ("the second moment averages g or |g|, not g*g", "v = b2 * v + (1 - b2) * abs(g)"),
    "momentum_convention": ("momentum's sign, lr or averaging mixed between conventions", "v = mu*v - lr*g; p -= v"),
    "step_sign_flipped": ("the parameters move up the gradient", "p += lr * g"),
    "lr_applied_twice": ("the learning rate is applied twice", "p -= lr * (lr * g)"),
    "weight_decay_mode": ("weight decay coupled, decoupled, twice or not applied against the rule",
                          "g = g + wd * p  # AdamW"),
    "state_shared": ("one optimizer state (or step counter) shared between parameters", "self.v = mu*self.v + g"),
    "different_hyperparameter": ("the rule is right, one hyperparameter differs", "eps = 1e-7  # Keras's"),
    "two_slips": ("two known slips at once (pairs searched when no single cause fits)",
                  "t = 2 and eps inside the root"),
}


def explain(ctx: Context) -> list[Finding]:
    """Every cause whose variant reproduces the user's trajectory, each named after its hypothesis.

    A trajectory the reference rule itself reproduces gets no cause. Several causes that all
    reproduce it are listed together at a shared, lower confidence (the drive cannot tell them
    apart); when no single cause does, pairs of known slips are searched.
    """
    accepted = [written for written, _ in ACCEPTED.get(ctx.kind, [])] if ctx.base == REFERENCE else []
    if ctx.follows() or any(ctx.follows(written) for written in accepted):
        return []  # the rule itself, or a way of writing it that is in use (rules.ACCEPTED): no slip to name
    found = []
    for hypothesis in HYPOTHESES + [two_slips]:
        if hypothesis is two_slips and found:
            break
        finding = hypothesis(ctx)
        if finding is not None:
            finding.cause = hypothesis.__name__
            found.append(finding)
    if len(found) > 1:
        for finding in found:
            others = ", ".join(f.cause for f in found if f is not finding)
            finding.confidence = 1.0 / len(found)
            finding.evidence += f"; {others} reproduce{'s' if len(found) == 2 else ''} it too (the drive cannot tell them apart)"
    return found
