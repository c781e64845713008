"""Checkers for hand-written numpy backward code, without asking anyone to rewrite it.

    gv.check_layer(layer, x)        # forward(x) -> Z, backward(dZ, x) -> dx | (dx, grads)
    gv.check_loss(loss, y_hat, y)   # compute(y_hat, y) -> float, backward(y_hat, y) -> dy_hat
    gv.check_grad_fn(f, grad_f, x)  # f(x) -> float, grad_f(x) -> dx

A layer is checked through a random cotangent R: L = sum(forward(x) * R), whose
gradient with respect to x and to every parameter is what backward(R, x) must
return. Parameters are perturbed in place and always restored; anything the
user's code does wrong (raises, returns None, a wrong shape, float32, mutates
its input, hangs) becomes a FAIL entry with the message, never a crash.
"""

from __future__ import annotations

import inspect
import signal
import threading
import warnings
from contextlib import contextmanager
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradvizError, PrecisionWarning
from . import finite as fd
from .core import ATOL, EPS, RTOL
from .report import FAIL, NONDIFF, InputResult, Report
from .streams import COTANGENT, DIRECTIONS, stream
from .diagnosis import Context, Finding
from .diagnosis.samples import per_sample_gradients
from .verdict import judge

# Attribute names searched, in order, when params are not given.
PARAM_CONTAINERS = ("parameters", "params")
PARAM_PAIRS = (("weights", "biases"), ("W", "b"), ("w", "b"), ("weight", "bias"), ("kernel", "bias"),
               ("weights", "bias"))
GRAD_PREFIXES = ("d", "grad_", "d_")


class UserCodeError(Exception):
    """Something the user's code did that prevents a check; the message says what."""


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float | None):
    """Interrupt user code that runs too long (main thread only; elsewhere no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _call(what: str, fn: Callable, *args, timeout: float | None = None):
    try:
        with _time_limit(timeout):
            return fn(*args)
    except _Timeout:
        raise UserCodeError(f"{what} did not finish within {timeout:g} s (an endless loop?)") from None
    except Exception as exc:
        raise UserCodeError(f"{what} raised {type(exc).__name__}: {exc}") from None


def _as_result_array(what: str, value: Any, shape: tuple | None = None) -> np.ndarray:
    if value is None:
        raise UserCodeError(f"{what} returned None (a missing return statement?)")
    try:
        array = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise UserCodeError(f"{what} returned something that is not an array: {exc}") from None
    if array.dtype.kind not in "fiub":
        raise UserCodeError(f"{what} returned {type(value).__name__} of dtype {array.dtype}, not numbers")
    if array.dtype == np.float32:
        raise UserCodeError(f"{what} returned float32: gradients cannot be checked to 1e-5 in float32 "
                            "(about 7 significant digits); compute in float64")
    if shape is not None and array.shape != tuple(shape):
        raise UserCodeError(f"{what} returned shape {array.shape}, expected {tuple(shape)}")
    return array.astype(np.float64)


def find_params(obj: Any) -> list[tuple[str, np.ndarray]]:
    """The parameter arrays of a layer, by the names course code uses."""
    for name in PARAM_CONTAINERS:
        value = getattr(obj, name, None)
        if callable(value):
            try:
                value = value()
            except Exception:
                value = None
        found = _arrays_in(value, name)
        if found:
            return found
    for names in PARAM_PAIRS:
        found = []
        for name in names:
            found += _arrays_in(getattr(obj, name, None), name)
        if found:
            return found
    return []


def _arrays_in(value: Any, name: str) -> list[tuple[str, np.ndarray]]:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [(name, value)]
    if isinstance(value, dict):
        return [(f"{name}[{k!r}]" if name not in PARAM_CONTAINERS else str(k), v) for k, v in value.items()
                if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if isinstance(value, (list, tuple)):
        return [(f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    return []


def _positional_count(fn: Callable) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _failed(subject: str, names_shapes: list[tuple[str, tuple]], message: str, settings: dict) -> Report:
    results = [InputResult(n, s, FAIL, message=message) for n, s in names_shapes]
    return Report(subject=subject, results=results, settings=settings, verdict=f"FAIL: {message}.")


def _settings(eps, atol, rtol) -> dict:
    return {"eps": eps, "atol": atol, "rtol": rtol, "mode": "full", "methods": ("finite",)}


def _float64_input(name: str, x: Any, warns: list[str]) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype == np.float32:
        message = f"{name} is float32; it was upcast to float64 for the check"
        warnings.warn(message, PrecisionWarning, stacklevel=3)
        warns.append(message)
    if array.dtype.kind not in "fiub":
        raise GradvizError(f"{name} must be a numeric array, got dtype {array.dtype}")
    return np.array(array, dtype=np.float64)


def _compare(names, analytic, arrays, loss, base, eps, atol, rtol, seed, batch, layout,
             contexts=None) -> list[InputResult]:
    diffs = fd.full_differences(loss, arrays, eps, base)
    contexts = contexts or [None] * len(names)
    results = [judge(n, a, d, None, atol, rtol, batch=batch, layout=layout, context=c)
               for n, a, d, c in zip(names, analytic, diffs, contexts)]
    kinked = [d.kinked(atol, rtol) for d in diffs]
    if any(m.any() for m in kinked):
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
    bad = [r for r in results if r.status == FAIL]
    if not bad:
        nondiff = sum(r.status_list().count(NONDIFF) for r in results)
        extra = f" ({nondiff} elements at kinks or ties, each a valid subgradient)" if nondiff else ""
        return f"PASS: every gradient agrees with central finite differences{extra}."
    parts = []
    for r in bad:
        why = r.diagnosis[0] if r.diagnosis else (r.message or f"max rel err {r.max_rel_err:.3g}")
        parts.append(f"{r.name}: {why}")
    return "FAIL: " + "; ".join(parts) + "."


def check_layer(obj: Any, x: Any, params: Sequence | None = None, *, forward: str = "forward",
                backward: str = "backward", eps: float = EPS, atol: float = ATOL, rtol: float = RTOL,
                seed: int = 0, timeout: float | None = None, layout: str | None = None) -> Report:
    """Check a layer's hand-written backward against finite differences of its forward.

    `params` may name attributes (["W", "b"]) or give the arrays; by default
    they are found by name. `layout="NHWC"` helps the diagnosis of image layers.
    """
    subject = type(obj).__name__
    settings = _settings(eps, atol, rtol)
    warns: list[str] = []
    fwd = getattr(obj, forward, None)
    bwd = getattr(obj, backward, None)
    if not callable(fwd) or not callable(bwd):
        raise GradvizError(f"{subject} needs methods {forward}() and {backward}() to be checked as a layer")
    x = _float64_input("the layer input", x, warns)
    named = _resolve_params(obj, params)
    names = ["input"] + [n for n, _ in named]
    shapes = [x.shape] + [p.shape for _, p in named]
    saved = [p.copy() for _, p in named]
    try:
        try:
            probe_x = x.copy()
            z = _as_result_array(f"{subject}.{forward}", _call(f"{subject}.{forward}", fwd, probe_x, timeout=timeout))
            if not np.array_equal(probe_x, x):
                raise UserCodeError(f"{subject}.{forward} modified its input array in place")
            cot = stream(seed, COTANGENT).normal(size=z.shape)  # never the inputs' stream: x == dZ hides dW.T
            analytic = _layer_backward(obj, subject, backward, bwd, cot, x, named, timeout)
        except UserCodeError as exc:
            return _failed(subject, list(zip(names, shapes)), str(exc), settings)

        params_arrays = [p for _, p in named]

        def loss(arrays):
            for p, a in zip(params_arrays, arrays[1:]):
                if a is not p:
                    np.copyto(p, a)
            out = np.asarray(_call(f"{subject}.{forward}", fwd, arrays[0].copy(), timeout=timeout), dtype=np.float64)
            return float(np.sum(out * cot))

        arrays = [x.copy()] + params_arrays
        try:
            base = loss(arrays)
            results = _compare(names, analytic, arrays, loss, base, eps, atol, rtol, seed,
                               batch=x.shape[0] if x.ndim else None, layout=layout,
                               contexts=_layer_contexts(names, arrays, z, cot, loss, layout, eps,
                                                        lambda a: _call(f"{subject}.{forward}", fwd, a[0].copy(),
                                                                        timeout=timeout)))
        except UserCodeError as exc:
            return _failed(subject, list(zip(names, shapes)), str(exc), settings)
    finally:
        for (_, p), original in zip(named, saved):
            np.copyto(p, original)
    return Report(subject=subject, results=results, settings=settings, verdict=_verdict(results), warnings=warns)


def _layer_contexts(names, arrays, out, cot, loss, layout, eps, outputs) -> list[Context]:
    """What the diagnosis may use about each gradient of a layer: its arrays, output and dout."""
    batch = arrays[0].shape[0] if arrays[0].ndim else None
    contexts = []
    for i, name in enumerate(names):
        per_sample = None
        if i > 0 and batch and out.ndim and out.shape[0] == batch:
            per_sample = partial(per_sample_gradients, outputs, arrays, i, cot, 0, eps)
        contexts.append(Context(name=name, wrt=arrays[i], inputs=dict(zip(names, arrays)), output=out,
                                cotangent=cot, batch=batch, layout=layout, per_sample=per_sample))
    return contexts


def _resolve_params(obj, params) -> list[tuple[str, np.ndarray]]:
    if params is None:
        return find_params(obj)
    out = []
    for i, p in enumerate(params):
        if isinstance(p, str):
            value = getattr(obj, p, None)
            if not isinstance(value, np.ndarray):
                raise GradvizError(f"{type(obj).__name__}.{p} is not a numpy array (it is {type(value).__name__})")
            out.append((p, value))
        elif isinstance(p, np.ndarray):
            out.append((f"param{i}", p))
        else:
            raise GradvizError(f"params must be attribute names or numpy arrays, got {type(p).__name__}")
    for name, p in out:
        if p.dtype != np.float64:
            raise GradvizError(f"parameter {name} is {p.dtype}; parameters are perturbed in place, so they must "
                               "be float64 arrays (use .astype(np.float64) when creating them)")
    return out


def _layer_backward(obj, subject, name, bwd, cot, x, named, timeout) -> list[np.ndarray]:
    """Call backward(dZ, x) (or backward(dZ)) and sort out what it returned."""
    args = (cot.copy(), x.copy()) if _positional_count(bwd) >= 2 else (cot.copy(),)
    returned = _call(f"{subject}.{name}", bwd, *args, timeout=timeout)
    grads: Any = None
    if isinstance(returned, tuple) and len(returned) >= 2:
        dx, grads = returned[0], (returned[1] if len(returned) == 2 else list(returned[1:]))
    else:
        dx = returned
    analytic = [_as_result_array(f"{subject}.{name} (input gradient)", dx, x.shape)]
    if not named:
        return analytic
    grads = _param_grads(obj, grads, named, subject, name)
    for (pname, p), g in zip(named, grads):
        analytic.append(_as_result_array(f"{subject}.{name} (gradient of {pname})", g, p.shape))
    return analytic


def _param_grads(obj, grads, named, subject, name) -> list:
    if isinstance(grads, dict):
        keys = list(grads)
        return [grads.get(pname, grads.get(pname.split("[")[0], grads[keys[i]] if i < len(keys) else None))
                for i, (pname, _) in enumerate(named)]
    if isinstance(grads, (list, tuple)):
        if len(grads) != len(named):
            raise UserCodeError(f"{subject}.{name} returned {len(grads)} parameter gradients for "
                                f"{len(named)} parameters ({', '.join(n for n, _ in named)})")
        return list(grads)
    if isinstance(grads, np.ndarray) and len(named) == 1:
        return [grads]
    # (dx, None) or just dx: look for gradients the layer stored on itself (self.dW, self.db, ...).
    out = []
    for pname, _ in named:
        base = pname.split("[")[0]
        found = next((getattr(obj, prefix + base) for prefix in GRAD_PREFIXES
                      if isinstance(getattr(obj, prefix + base, None), np.ndarray)), None)
        if found is None:
            raise UserCodeError(f"{subject}.{name} returned no gradient for parameter {pname} "
                                f"(return (dx, [grads...]) or store it as self.d{base})")
        out.append(found)
    return out


def check_loss(obj: Any, y_hat: Any, y: Any, *, compute: str = "compute", backward: str = "backward",
               eps: float = EPS, atol: float = ATOL, rtol: float = RTOL, timeout: float | None = None) -> Report:
    """Check a loss's backward(y_hat, y) against finite differences of compute(y_hat, y)."""
    subject = type(obj).__name__
    settings = _settings(eps, atol, rtol)
    warns: list[str] = []
    comp, bwd = getattr(obj, compute, None), getattr(obj, backward, None)
    if not callable(comp) or not callable(bwd):
        raise GradvizError(f"{subject} needs methods {compute}() and {backward}() to be checked as a loss")
    y_hat = _float64_input("y_hat", y_hat, warns)
    y = np.asarray(y)
    try:
        value = _as_result_array(f"{subject}.{compute}", _call(f"{subject}.{compute}", comp, y_hat.copy(), y.copy(),
                                                                timeout=timeout))
        if value.size != 1:
            raise UserCodeError(f"{subject}.{compute} returned shape {value.shape}; a loss must be one number")
        analytic = _as_result_array(f"{subject}.{backward}", _call(f"{subject}.{backward}", bwd, y_hat.copy(),
                                                                    y.copy(), timeout=timeout), y_hat.shape)

        def loss(arrays):
            return float(np.sum(_call(f"{subject}.{compute}", comp, arrays[0].copy(), y.copy(), timeout=timeout)))

        base = loss([y_hat])
        arrays = [y_hat.copy()]
        batch = y_hat.shape[0] if y_hat.ndim else None
        results = _compare(["y_hat"], [analytic], arrays, loss, base, eps, atol, rtol, 0, batch=batch, layout=None,
                           contexts=[Context(name="y_hat", wrt=arrays[0], inputs={"y_hat": arrays[0], "y": y},
                                             batch=batch)])
    except UserCodeError as exc:
        return _failed(subject, [("y_hat", y_hat.shape)], str(exc), settings)
    return Report(subject=subject, results=results, settings=settings, verdict=_verdict(results), warnings=warns)


def check_grad_fn(f: Callable, grad_f: Callable, x: Any, *, eps: float = EPS, atol: float = ATOL,
                  rtol: float = RTOL, timeout: float | None = None) -> Report:
    """Check grad_f(x) against finite differences of a plain numpy function f(x) -> float."""
    subject = getattr(f, "__name__", "f")
    settings = _settings(eps, atol, rtol)
    warns: list[str] = []
    x = _float64_input("x", x, warns)
    gname = getattr(grad_f, "__name__", "grad_f")
    try:
        analytic = _as_result_array(gname, _call(gname, grad_f, x.copy(), timeout=timeout), x.shape)

        def loss(arrays):
            value = np.asarray(_call(subject, f, arrays[0].copy(), timeout=timeout), dtype=np.float64)
            if value.size != 1:
                raise UserCodeError(f"{subject} returned shape {value.shape}; it must return one number")
            return float(value.reshape(()))

        base = loss([x])
        arrays = [x.copy()]
        results = _compare(["x"], [analytic], arrays, loss, base, eps, atol, rtol, 0, batch=None, layout=None,
                           contexts=[Context(name="x", wrt=arrays[0], inputs={"x": arrays[0]})])
    except UserCodeError as exc:
        return _failed(subject, [("x", x.shape)], str(exc), settings)
    return Report(subject=subject, results=results, settings=settings, verdict=_verdict(results), warnings=warns)
