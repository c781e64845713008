"""Check hand-written numpy backward code as it is written: one checker for every convention.

    gv.check_layer(layer, x)                       a class: forward/backward in any of its styles
    gv.check_pair(f_forward, f_backward, *args)    a function pair, cache style or explicit arguments
    gv.check_loss(loss, y_hat, y)                  a loss: (loss, grad) at once, or a class
    gv.check_grad_fn(f, grad_f, *args, wrt=...)    a function and its gradient
    gv.check_function(Mul, a, b)                   a ctx-style Function class, without torch

Each convention is an adapter (checking/adapters/) that turns the user's code
into one Subject; this module only checks Subjects. A layer is checked
through a random cotangent R: L = sum(forward(arrays) * R), whose gradient
with respect to every array is what vjp(R) must return. Arrays are perturbed
in place and always restored; anything the user's code does (raises, returns
None, a wrong shape, float32, mutates its input, hangs) becomes an ERROR or
FAIL entry in the report, never a crash, and one bad gradient fails alone.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from . import finite as fd
from .adapters.ctx import function_subject
from .adapters.layer import layer_subject
from .adapters.loss import grad_fn_subject, loss_subject
from .adapters.pair import pair_subject
from .adapters.subject import Problem, Subject, UserCodeError, as_array, float64_copy, positional_names
from .diagnosis import Context, Finding, diagnose
from .diagnosis.samples import per_sample_gradients
from .core import ATOL, EPS, RTOL
from .report import ERROR, FAIL, NONDIFF, SKIPPED, InputResult, Report
from .streams import COTANGENT, DIRECTIONS, stream
from .verdict import judge


def _settings(eps, atol, rtol) -> dict:
    return {"eps": eps, "atol": atol, "rtol": rtol, "mode": "full", "methods": ("finite",)}


def check_subject(subject: Subject, *, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL, seed: int = 0,
                  per_example_dout: bool = False) -> Report:
    """Compare a Subject's vjp with central differences of its forward; every array gets an entry."""
    settings = _settings(eps, atol, rtol)
    arrays = subject.arrays
    saved = {n: a.copy() for n, a in arrays.items()}
    warns = list(subject.warnings)
    try:
        results = _results(subject, saved, warns, eps, atol, rtol, seed, per_example_dout)
    finally:
        for n, a in arrays.items():
            np.copyto(a, saved[n])
    notes = [f"checked as {subject.convention}; {subject.override}"] + list(subject.notes)
    if per_example_dout:
        notes.append("per-example dout: parameter gradients are expected to carry 1/m (m examples)")
    changed = subject.restore()
    for name in changed:
        warns.append(f"{subject.backward_name} changed {name}, which gradviz did not account for; it was restored")
    checked = [r.name for r in results if r.status != SKIPPED]
    notes.append(f"checked: {', '.join(checked)}")
    report = Report(subject=subject.name, results=[r for r in results if r.status != SKIPPED], settings=settings,
                    verdict="", warnings=warns)
    skipped = [r for r in results if r.status == SKIPPED]
    if skipped:
        notes.append("not checked (float arrays with no gradient from backward): "
                     + ", ".join(r.name for r in skipped))
    report.notes = notes
    report.verdict = _verdict(report.results)
    return report


def _contexts(subject: Subject, names: list[str], out: np.ndarray, cot, eps: float) -> dict[str, Context]:
    """What the diagnosis may use about each gradient: the user's names and arrays, output, dout, batch."""
    batch = subject.batch_size()
    buffers = [subject.arrays[n] for n in names]
    contexts = {}
    for i, name in enumerate(names):
        per_sample = None
        if (name not in subject.inputs and cot is not None and batch and out.ndim > subject.batch_axis
                and out.shape[subject.batch_axis] == batch):
            per_sample = partial(per_sample_gradients, lambda _: subject.forward(subject.arrays), buffers, i, cot,
                                 subject.batch_axis, eps)
        contexts[name] = Context(name=name, wrt=subject.arrays[name],
                                 inputs={**subject.constants, **subject.arrays},
                                 output=out, cotangent=cot, batch=batch, batch_axis=subject.batch_axis,
                                 layout=subject.layout, per_sample=per_sample,
                                 attrs={"role": "input" if name in subject.inputs else "parameter"})
    return contexts


def _diagnose_conventions(subject: Subject, results: list[InputResult], contexts: dict[str, Context]) -> None:
    """Parameter gradients wrong while the input gradient is right: diagnose again, knowing that."""
    judged_inputs = [r for r in results if r.name in subject.inputs]
    if not judged_inputs or any(r.status != "PASS" for r in judged_inputs):
        return
    parameters = [(r.autograd, r.finite) for r in results if r.name not in subject.inputs]
    for r in results:
        if r.name in subject.inputs or r.status != FAIL:
            continue
        context = contexts[r.name]
        context.attrs.update(input_gradient_ok=True, parameters=parameters)
        r.diagnosis = diagnose(r.autograd, r.finite, context)


def _results(subject, saved, warns, eps, atol, rtol, seed, per_example_dout) -> list[InputResult]:
    arrays = subject.arrays
    every = list(arrays)
    try:
        probe = {n: a.copy() for n, a in arrays.items()}
        out = subject.forward(probe)
        for n in subject.inputs:
            if n in probe and not np.array_equal(probe[n], saved[n]):
                raise UserCodeError(f"{subject.name} modified its input array {n} in place")
        again = subject.forward({n: a.copy() for n, a in saved.items()})
        if np.shape(again) != np.shape(out) or not np.allclose(again, out, rtol=1e-9, atol=1e-12, equal_nan=True):
            raise UserCodeError(f"{subject.name}: its forward gives different outputs for the same inputs "
                                "(randomness without a fixed seed, or state carried between calls), so finite "
                                "differences of it mean nothing; make it repeatable (e.g. a seed in its settings) "
                                "and check again", ERROR)
        if subject.loss:
            if out.size != 1:
                raise UserCodeError(f"{subject.name} returned shape {out.shape}; a loss must be one number")
            cot = None
        else:
            cot = stream(seed, COTANGENT).normal(size=out.shape)
        dout = None if cot is None else cot.copy()
        grads = subject.vjp(dout)
        if dout is not None and not np.array_equal(dout, cot):
            warns.append(f"{subject.backward_name} wrote into its dout argument in place (the caller's upstream "
                         "gradient is destroyed); gradviz passed a copy, so the check itself is unaffected")
    except UserCodeError as exc:
        return [InputResult(n, arrays[n].shape, exc.status, message=str(exc)) for n in every]
    for n in every:  # backward must leave the inputs and parameters as it found them
        if not np.array_equal(arrays[n], saved[n]):
            warns.append(f"{subject.backward_name} changed {n} in place, which gradviz did not account for; "
                         "it was restored")
            np.copyto(arrays[n], saved[n])
    entries: dict[str, Any] = {}
    misshapen: dict[str, np.ndarray] = {}  # right size, wrong shape: compared anyway, so the diagnosis can name it
    for n in every:
        if n not in grads:
            continue
        value = grads[n]
        if isinstance(value, Problem):
            entries[n] = value
            continue
        try:
            g = as_array(f"{subject.backward_name} ({subject.grad_name(n)})", value)
        except UserCodeError as exc:
            entries[n] = Problem(exc.status, str(exc))
            continue
        if g.shape != arrays[n].shape:
            entries[n] = Problem(FAIL, f"{subject.backward_name} returned {subject.grad_name(n)} of shape "
                                       f"{g.shape}; {n} has shape {arrays[n].shape}")
            if g.size == arrays[n].size:
                misshapen[n] = g
        else:
            entries[n] = g
    compared = [n for n in every if isinstance(entries.get(n), np.ndarray) or n in misshapen]
    by_name: dict[str, InputResult] = {}
    if compared:
        analytic = [entries[n] if n not in misshapen else np.zeros(arrays[n].shape) for n in compared]
        try:
            by_name = _compare_arrays(subject, compared, analytic, out, cot, eps, atol, rtol, seed, per_example_dout)
        except UserCodeError as exc:
            by_name = {n: InputResult(n, arrays[n].shape, exc.status, message=str(exc)) for n in compared}
    for n, g in misshapen.items():
        judged = by_name.pop(n)
        if judged.finite is not None:
            context = Context(name=n, wrt=arrays[n], inputs={**subject.constants, **arrays}, batch=subject.batch_size(),
                              attrs={"role": "input" if n in subject.inputs else "parameter"})
            entries[n].diagnosis = diagnose(g, judged.finite, context)
    results = []
    for n in every:
        if n in by_name:
            results.append(by_name[n])
        elif isinstance(entries.get(n), Problem):
            results.append(InputResult(n, arrays[n].shape, entries[n].status, message=entries[n].message,
                                       diagnosis=list(entries[n].diagnosis)))
        else:
            results.append(InputResult(n, arrays[n].shape, SKIPPED, message="no gradient from backward"))
    return results


def _compare_arrays(subject, names, analytic, out, cot, eps, atol, rtol, seed, per_example_dout) -> dict:
    arrays = subject.arrays
    perturbed = [arrays[n] for n in names]

    def loss(values):
        # Finite differences perturb the buffers in place; directional probes hand new arrays, copied in.
        swapped = [(a, a.copy()) for a, v in zip(perturbed, values) if v is not a]
        for a, v in zip(perturbed, values):
            if v is not a:
                np.copyto(a, v)
        try:
            out = subject.forward(arrays)
        finally:
            for a, old in swapped:
                np.copyto(a, old)
        return float(np.sum(out)) if cot is None else float(np.sum(out * cot))

    base = loss(perturbed)
    batch = subject.batch_size()
    contexts = _contexts(subject, names, out, cot, eps)
    scale = {n: 1.0 / batch for n in names if per_example_dout and batch and n not in subject.inputs}
    results = _compare(names, analytic, perturbed, loss, base, eps, atol, rtol, seed, batch, subject.layout, scale,
                       contexts=[contexts[n] for n in names],
                       rediagnose=lambda judged: _diagnose_conventions(subject, judged, contexts))
    return dict(zip(names, results))


def _compare(names, analytic, arrays, loss, base, eps, atol, rtol, seed, batch, layout, scale=None, contexts=None,
             rediagnose=None):
    """Judge every element; at kinks, the joint subgradient test of finite.py decides."""
    diffs = fd.full_differences(loss, arrays, eps, base)
    if scale:
        diffs = [fd.Differences(d.central * scale.get(n, 1.0), d.forward * scale.get(n, 1.0),
                                d.backward * scale.get(n, 1.0)) for n, d in zip(names, diffs)]
    contexts = contexts or [None] * len(names)
    results = [judge(n, a, d, None, atol, rtol, batch=batch, layout=layout, context=c)
               for n, a, d, c in zip(names, analytic, diffs, contexts)]
    if rediagnose is not None:
        rediagnose(results)
    kinked = [d.kinked(atol, rtol) for d in diffs]
    if any(m.any() for m in kinked) and not scale:
        failures = fd.joint_subgradient_failures(loss, arrays, analytic, kinked, base, eps, atol, rtol,
                                                 stream(seed, DIRECTIONS))
        if failures:
            for r, mask in zip(results, kinked):
                if mask.any():
                    r.mark(mask & (np.asarray(r.statuses).reshape(mask.shape) == NONDIFF), FAIL,
                           "tie/kink: not a valid subgradient jointly")
                    r.diagnosis = [Finding(f, cause="kink", evidence="joint subgradient test over the kinked "
                                           "elements", confidence=0.9) for f in failures]
    return results


def _verdict(results: list[InputResult]) -> str:
    bad = [r for r in results if r.status in (FAIL, ERROR)]
    if not bad:
        nondiff = sum(r.status_list().count(NONDIFF) for r in results)
        extra = f" ({nondiff} elements at kinks or ties, each a valid subgradient)" if nondiff else ""
        return f"PASS: every gradient agrees with central finite differences{extra}."
    messages = {r.message for r in bad}
    head = "ERROR" if any(r.status == ERROR for r in bad) else "FAIL"
    if len(messages) == 1 and len(bad) == len(results) and not any(r.diagnosis for r in bad) and bad[0].message:
        return f"{head}: {bad[0].message}."
    grouped: dict[str, list[str]] = {}
    for r in bad:
        why = ": ".join(str(part) for part in (r.message, r.diagnosis[0] if r.diagnosis else "") if part) \
            or f"max rel err {r.max_rel_err:.3g}"
        grouped.setdefault(why, []).append(r.name)
    parts = [f"{', '.join(names)}: {why}" for why, names in grouped.items()]
    return f"{head}: " + "; ".join(parts) + "."


def _run(build: Callable[[], Subject], name: str, shapes: list, settings: dict, check: dict) -> Report:
    """Build the subject and check it; user code failing while the subject is built is an ERROR report."""
    try:
        subject = build()
    except UserCodeError as exc:
        rows = shapes or [(name, ())]  # never an empty report: it would read as a pass
        results = [InputResult(n, s, exc.status, message=str(exc)) for n, s in rows]
        return Report(subject=name, results=results, settings=settings, verdict=f"{exc.status}: {exc}.")
    return check_subject(subject, **check)


def _argument_shapes(fn: Any, args: Sequence, kwargs: dict | None = None, skip: int = 0) -> list[tuple[str, tuple]]:
    """The float arguments of fn by the user's names: the rows of an ERROR report when fn itself raised."""
    names = positional_names(fn)[skip:] if callable(fn) else []
    named = [(names[i] if i < len(names) else f"argument {i + 1}", v) for i, v in enumerate(args)]
    shapes = []
    for n, v in named + list((kwargs or {}).items()):
        try:
            array = np.asarray(v)
        except Exception:  # a setting numpy cannot read (a dict, a function) is no gradient row
            continue
        if array.dtype.kind == "f":
            shapes.append((n, array.shape))
    return shapes


def check_layer(obj: Any, x: Any, params: Sequence | None = None, *, forward: str | None = None,
                backward: str | None = None, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
                seed: int = 0, timeout: float | None = None, layout: str | None = None, batch_axis: int = 0,
                per_example_dout: bool = False) -> Report:
    """Check a layer class's backward against finite differences of its forward, whatever its style.

    `params` may name attributes (["W", "b"]) or give the arrays; by default
    every float array on the layer is a candidate. `forward`/`backward` name
    the methods when they are not detected; `batch_axis=1` is for
    (features, examples) code; `layout="NHWC"` helps the diagnosis.
    """
    warns: list[str] = []
    x = float64_copy("the layer input", x, warns)

    def build():
        subject = layer_subject(obj, x, params=params, forward=forward, backward=backward, timeout=timeout,
                                batch_axis=batch_axis, layout=layout)
        subject.warnings += warns
        return subject

    return _run(build, type(obj).__name__, [("input", x.shape)], _settings(eps, atol, rtol),
                dict(eps=eps, atol=atol, rtol=rtol, seed=seed, per_example_dout=per_example_dout))


def check_pair(forward: Callable, backward: Callable, *args: Any, wrt: str | Sequence[str] | None = None,
               eps: float = EPS, atol: float = ATOL, rtol: float = RTOL, seed: int = 0,
               timeout: float | None = None, layout: str | None = None, batch_axis: int = 0,
               per_example_dout: bool = False, **kwargs: Any) -> Report:
    """Check a forward/backward function pair called exactly as the user calls it.

    `args` and `kwargs` are the forward's arguments (arrays, conv_param dicts,
    strings, activation functions); backward receives the cache, or the
    arguments it names, and the settings its signature accepts.
    """
    name = f"{getattr(forward, '__name__', 'forward')}/{getattr(backward, '__name__', 'backward')}"
    return _run(lambda: pair_subject(forward, backward, args, kwargs, wrt=wrt, timeout=timeout,
                                     batch_axis=batch_axis, layout=layout),
                name, _argument_shapes(forward, args, kwargs), _settings(eps, atol, rtol),
                dict(eps=eps, atol=atol, rtol=rtol, seed=seed, per_example_dout=per_example_dout))


def check_loss(obj: Any, *args: Any, compute: str | None = None, backward: str | None = None,
               wrt: str | None = None, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
               timeout: float | None = None, seed: int = 0) -> Report:
    """Check a loss: a function returning (loss, grad), or a class (compute/backward, forward/backward)."""
    name = getattr(obj, "__name__", type(obj).__name__)
    return _run(lambda: loss_subject(obj, args, compute=compute, backward=backward, wrt=wrt, timeout=timeout),
                name, _argument_shapes(obj if inspect.isroutine(obj) else getattr(obj, compute or "forward", None)
                                 or getattr(obj, "compute", None), args),
                _settings(eps, atol, rtol), dict(eps=eps, atol=atol, rtol=rtol, seed=seed))


def check_grad_fn(f: Callable, grad_f: Callable, *args: Any, wrt: str | None = None, eps: float = EPS,
                  atol: float = ATOL, rtol: float = RTOL, timeout: float | None = None, seed: int = 0) -> Report:
    """Check grad_f against finite differences of a numpy function f returning one number.

    With several arguments, `wrt` names the differentiated one (guessed from
    the names when absent, and said); a dict of arrays is matched to the
    `d<name>` keys grad_f returns.
    """
    name = getattr(f, "__name__", "f")
    return _run(lambda: grad_fn_subject(f, grad_f, args, wrt=wrt, timeout=timeout), name, _argument_shapes(f, args),
                _settings(eps, atol, rtol), dict(eps=eps, atol=atol, rtol=rtol, seed=seed))


def check_function(fn_class: Any, *args: Any, eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
                   seed: int = 0, timeout: float | None = None) -> Report:
    """Check a ctx-style Function class (forward(ctx, *inputs), backward(ctx, d_out)) without torch."""
    return _run(lambda: function_subject(fn_class, args, timeout=timeout), getattr(fn_class, "__name__", "Function"),
                _argument_shapes(getattr(fn_class, "forward", None), args, skip=1), _settings(eps, atol, rtol),
                dict(eps=eps, atol=atol, rtol=rtol, seed=seed))
