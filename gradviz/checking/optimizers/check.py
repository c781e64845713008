"""gv.check_optimizer: drive a hand-written optimizer and compare every step with the reference rule."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import GradvizError
from ..diagnosis.finding import Finding
from ..report import ERROR, FAIL, PASS, InputResult, Report, Row
from . import hyperparameters as hyper
from .confirming import Unconfirmed
from .conventions import Setup, fitting
from .driving import Run, UserFault
from .hypotheses import Context, explain
from .rules import ACCEPTED, FORMULAS, KINDS, REFERENCE, trajectory

RTOL, ATOL = 1e-9, 1e-12  # both sides run in float64 on the same gradients: only rounding may differ


def check_optimizer(target: Any, kind: str = "auto", steps: int = 5, *, seed: int = 0, rtol: float = RTOL,
                    atol: float = ATOL, roles: dict[str, Any] | None = None, **hyperparameters: Any) -> Report:
    """Check a hand-written optimizer against the reference update rule of `kind` (or find which rule it follows).

    `target` is the user's optimizer as written: a function, a class or an instance (an instance is deep-copied,
    never changed). Hyperparameters are read from its object or config, and any given here override them.
    Which argument is the parameter, the gradient, the state and a step counter is read from the code and
    confirmed; `roles={'grad': 'param_grad', 'state': ['v', 's'], 'step': 't'}` says it where it cannot be.
    """
    if kind != "auto" and kind not in KINDS:
        raise GradvizError(f"kind={kind!r} is not an optimizer gradviz knows; use one of {', '.join(KINDS)} "
                           "or 'auto'")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise GradvizError(f"steps must be a positive whole number, got {steps!r}")
    hyper.validate(hyperparameters)
    if roles is not None and not isinstance(roles, dict):
        raise GradvizError("roles is a dict like {'param': 'w', 'grad': 'param_grad', 'state': ['v', 's']}")
    candidates = fitting(target, roles)
    if roles and not candidates[0].takes_roles:
        raise GradvizError(f"roles are read for functions with explicit state and objects whose update's "
                           f"arguments gradviz reads by structure; {getattr(target, '__name__', type(target).__name__)}"
                           f" is a {candidates[0].name} ({candidates[0].form}), whose arguments gradviz already knows: "
                           "leave roles out")
    convention, runs = _drive(target, [c for c in candidates if c.takes_roles or not roles],
                              Setup(seed, steps, dict(hyperparameters), dict(roles or {})))
    subject = getattr(target, "__name__", None) or type(target).__name__
    runs, ctx, origin, findings, followed = _choose_alternative(kind, runs, hyperparameters, rtol, atol)
    chosen, hp = ctx.kind, ctx.hp
    results = [_result(run, name, ctx, len(runs) > 1) for run in runs for name in run.trajectories]
    first_bad = next((r for r in results if r.status != PASS), None)
    if kind == "auto" and not followed and not findings and not any(run.fault for run in runs):
        raise GradvizError(_unknown_rule(subject, chosen, first_bad))
    if first_bad is not None:  # a cause belongs to the optimizer, not to one parameter: said once
        first_bad.diagnosis = list(findings)
    written = dict(ACCEPTED.get(chosen, [])).get(ctx.base, "")
    settings = {"kind": chosen, "asked": kind, "steps": steps, "rtol": rtol, "atol": atol, "seed": seed,
                "convention": convention.name, "problem": convention.problem, "hyperparameters": hp,
                "written": written,
                "summary": f"kind={chosen} steps={steps} rtol={rtol:g} atol={atol:g} "
                           + " ".join(f"{k}={v:g}({origin[k]})" for k, v in hp.items())}
    report = Report(subject=subject, results=results, settings=settings,
                    columns=("yours", "reference", ""))
    report.verdict = _verdict(report, subject, kind, chosen, findings, convention.name)
    report.warnings = list(dict.fromkeys(n for run in runs for n in run.notes)) + _conflicts(hyperparameters, runs)
    if kind == "auto" and report.ok:
        report.warnings += _name_says(subject, chosen)
    report.notes = list(dict.fromkeys(f"binding: {run.binding}" for run in runs if run.binding))
    if written:
        report.notes.append(f"written with {written}: both placements are in use; the reference follows yours")
    counted = next((run for run in runs if run.alternative), None)
    if counted is not None:
        settings["counter"] = counted.alternative
        report.notes.append(f"step counter passed: {counted.alternative}"
                            + ("; the reference rule follows this count" if report.ok else ""))
    return report


def _drive(target: Any, candidates: list, setup: Setup) -> tuple[Any, list[Run]]:
    """The first convention that confirms a reading of the code, and its drives; every refusal when none does."""
    refusals = []
    for convention in candidates:
        try:
            return convention, convention.drive(target, setup)
        except Unconfirmed as refused:
            refusals.append((convention, str(refused)))
        except UserFault as fault:  # raised before any step: the optimizer could not even be made
            raise GradvizError(f"{fault.message}; give its arguments as hyperparameters (--args JSON), or pass an "
                               "instance") from None
    first = refusals[0][1]
    for convention, text in refusals[1:]:  # said briefly: the first convention is the one the code's shape suggests
        lines = text.splitlines()
        first += (f"\nAlso tried as {convention.name} ({convention.form}): "
                  + lines[0].split(": ", 1)[-1].replace(" (so nothing is said about the optimizer):", "")
                  + (f"; {lines[1].strip()}" if len(lines) > 1 and lines[1].strip()[:1].isdigit() else ""))
    raise Unconfirmed(first)


def _unknown_rule(subject: str, closest: str, bad: Any) -> str:
    """Auto found no rule and no known slip of one: gradviz has no reference for this update, so it says nothing."""
    where = f" (the closest, {closest}: {bad.name} {bad.message})" if bad is not None else ""
    return (f"{subject} follows none of the update rules gradviz knows ({', '.join(KINDS)}), nor a known slip in "
            f"one of them{where}. gradviz has no reference for the rule it follows, so it says nothing about it. "
            f"If it is meant to be one of these rules, name it (kind='{closest}', --optimizer {closest}) to see "
            "where it departs.")


def _name_says(subject: str, chosen: str) -> list[str]:
    """A name that says one rule (sgd_nesterov) while the steps follow another (momentum): said, not judged."""
    lowered = subject.lower().replace("-", "_")
    named = [k for k in KINDS if k.replace("-", "_") in lowered]
    named = [k for k in named if not (k == "adam" and "adamw" in named)]
    named = [k for k in named if k != "sgd"] or named  # sgd_momentum, sgd_nesterov: the second word says it
    family = {"sgd": ("sgd", "momentum", "nesterov", "momentum-ema"), "momentum": ("momentum", "momentum-ema"),
              "adam": ("adam", "adamw")}  # torch's SGD(momentum=...), an Adam class that decays decoupled
    if not named or any(chosen in family.get(k, (k,)) for k in named):
        return []
    said = named[0]
    return [f"the name {subject} says {said}, but its steps follow {chosen}, not {said}; if {said} is meant, "
            f"check it as kind='{said}' (--optimizer {said}), which shows where it departs"]


def _choose_alternative(kind: str, runs: list[Run], given: dict, rtol: float, atol: float):
    """Drives that are alternatives (a step counter from 1 or from 0): the first whose rule is followed, else the
    first; the runs compared, then what _choose_kind says of them."""
    labels = list(dict.fromkeys(run.alternative for run in runs if run.alternative))
    if not labels:
        return (runs, *_choose_kind(kind, runs, given, rtol, atol))
    tried = []
    for label in labels:
        group = [run for run in runs if run.alternative in ("", label)]
        chosen = _choose_kind(kind, group, given, rtol, atol)
        if chosen[3]:
            return (group, *chosen)
        tried.append((group, chosen))
    # none followed: the usual count (the first), unless another count leaves a cause that is not about the
    # counter itself (a count gradviz chose must not become the user's bug)
    explained = next((t for t in tried[1:] if t[1][2] and not {f.cause for f in t[1][2]} & COUNTER_CAUSES), tried[0])
    return (explained[0], *explained[1])


COUNTER_CAUSES = {"bias_counter_from_zero", "bias_counter_offset", "bias_power_fixed", "bias_from_epoch", "two_slips"}


def _choose_kind(kind: str, runs: list[Run], given: dict, rtol: float, atol: float):
    """The context compared with (rule, hyperparameters, the way it is written), where each hyperparameter came
    from, the causes found, and whether the rule is followed."""
    candidates = KINDS if kind == "auto" else (kind,)
    contexts = []
    for k in candidates:
        hp, origin = hyper.resolve(k, given, [s for run in runs for s in run.sources])
        for base in [REFERENCE] + [v for v, _ in ACCEPTED.get(k, [])]:
            contexts.append((Context(k, hp, runs, rtol, atol, origin, base=base), origin))
    # when several rules fit (a parameter that never moves fits them all), the one whose hyperparameters your
    # code names is meant: an object with lr, rho and eps is an RMSProp
    contexts.sort(key=lambda c: -sum(where == "yours" for where in c[1].values()))
    for ctx, origin in contexts:
        if ctx.follows():
            return ctx, origin, [], True
    pair = None  # one cause from a way the rule is written (eps inside the root) before two slips from another
    for ctx, origin in contexts:
        findings = explain(ctx)
        if findings and not any(f.cause == "two_slips" for f in findings):
            return ctx, origin, findings, False
        pair = pair or (findings and (ctx, origin, findings, False))
    if pair:
        return pair
    ctx, origin = max((c for c in contexts if c[0].base == REFERENCE), key=lambda c: _closeness(c[0]))
    return ctx, origin, [], False


def _closeness(ctx: Context) -> tuple:
    """Later first divergence is closer; at the same step, a smaller error is."""
    worst_step, worst_err = np.inf, 0.0
    for run in ctx.runs:
        ref = _reference(run, ctx)
        for name, mine in run.trajectories.items():
            hit = _divergence(mine, ref[name], ctx.rtol, ctx.atol)
            if hit is not None:
                step, err = hit[0], hit[4]
                if step < worst_step or (step == worst_step and err > worst_err):
                    worst_step, worst_err = step, err
    return (worst_step, -worst_err)


def _reference(run: Run, ctx: Context) -> dict[str, list[np.ndarray]]:
    done = max((len(t) for t in run.trajectories.values()), default=0)
    return trajectory(ctx.kind, ctx.hp, run.start, run.gradients, max(done, 1), ctx.base)


def _divergence(mine: list[np.ndarray], ref: list[np.ndarray], rtol: float, atol: float):
    """(step, index, yours, reference, error) at the first step and worst element that differ, or None."""
    for step, (u, r) in enumerate(zip(mine, ref), 1):
        if np.shape(u) != np.shape(r):
            return step, None, np.shape(u), np.shape(r), np.inf
        bad = ~np.isclose(u, r, rtol=rtol, atol=atol)
        if bad.any():
            err = np.where(bad, np.nan_to_num(np.abs(u - r), nan=np.inf, posinf=np.inf), 0.0)
            index = np.unravel_index(int(np.argmax(err)), np.shape(u)) if np.ndim(u) else ()
            return step, tuple(int(i) for i in index), float(np.asarray(u)[index]), float(np.asarray(r)[index]), \
                float(err[index])
    return None


def _element(name: str, index: tuple) -> str:
    return name + (f"[{','.join(map(str, index))}]" if index else "")


def _rows(name: str, u: np.ndarray, r: np.ndarray, rtol: float, atol: float) -> list[Row]:
    rows = []
    for index in np.ndindex(np.shape(u)):
        a, b = float(np.asarray(u)[index]), float(np.asarray(r)[index])
        err = abs(a - b) if np.isfinite(a - b) else np.inf
        status = PASS if np.isclose(a, b, rtol=rtol, atol=atol) else FAIL
        rows.append(Row(name, index, a, b, None, err, err / max(abs(b), 1e-300), status))
    return rows


def _result(run: Run, name: str, ctx: Context, labelled: bool) -> InputResult:
    kind, rtol, atol = ctx.kind, ctx.rtol, ctx.atol
    shown = f"{name} ({run.label})" if labelled and run.label else name
    shape = np.shape(run.start[name])
    mine = run.trajectories[name]
    ref = _reference(run, ctx)[name]
    hit = _divergence(mine, ref, rtol, atol)
    fault = run.fault
    if fault is not None and fault.parameter in (None, name) and (hit is None or hit[0] >= fault.step):
        what = "" if fault.parameter else f" ({name} and every other parameter)"
        return InputResult(shown, shape, ERROR if fault.raised else FAIL, message=f"step {fault.step}{what}: "
                           f"{fault.message}")
    if hit is None:
        rows = _rows(shown, mine[-1], ref[-1], rtol, atol) if mine else []
        return InputResult(shown, shape, PASS, row_source=rows,
                           message=f"follows {kind} for all {len(mine)} steps")
    step, index, u, r, _ = hit
    if index is None:
        return InputResult(shown, shape, FAIL, message=f"step {step}: {name} came back with shape {u}; it has shape {r}")
    return InputResult(shown, shape, FAIL, row_source=_rows(shown, mine[step - 1], ref[step - 1], rtol, atol),
                       message=f"first diverges at step {step}, element {_element(name, index)}: "
                               f"yours {u:.10g}, reference {r:.10g}")


def _verdict(report: Report, subject: str, asked: str, kind: str, findings: list[Finding], convention: str) -> str:
    written = report.settings.get("written")
    rule = f"{kind} ({FORMULAS[kind]})" + (f" written with {written.split(',')[0]}" if written else "")
    steps = report.settings["steps"]
    if report.status == PASS:
        found = "identified as" if asked == "auto" else "follows"
        return f"{subject} ({convention}) {found} {rule}: every parameter matches at all {steps} steps."
    bad = next(r for r in report.results if r.status in (ERROR, FAIL))
    if bad.status == ERROR:
        return f"ERROR: {subject} raised, so the steps after could not be compared: {bad.name} at {bad.message}."
    follows = f"{subject} does not follow {kind}"
    if asked == "auto" and not findings:
        follows = f"{subject} follows none of {', '.join(KINDS)}; the closest is {kind}"
    cause = f" Likely cause: {findings[0]}." if findings else ""
    return f"FAIL: {follows}: {bad.name} {bad.message}.{cause}"


def _conflicts(given: dict, runs: list[Run]) -> list[str]:
    """A given hyperparameter that the optimizer itself holds with another value: the reference used the given."""
    out = []
    for key, value in given.items():
        canonical = next((c for c, aliases in hyper.ALIASES.items() if key in aliases), None)
        if canonical is None:
            continue
        held = next((v for v in (hyper.lookup(canonical, s) for run in runs for s in run.sources)
                     if v is not None), None)
        if held is not None and not np.isclose(held, value):
            out.append(f"you gave {key}={value:g}, but the optimizer holds {held:g}; the reference uses {value:g}")
    return out

