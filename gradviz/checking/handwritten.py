"""Check hand-written numpy backward code as it is written: one checker for every convention.

    gv.check_layer(layer, x)                       a class: forward/backward in any of its styles
    gv.check_pair(f_forward, f_backward, *args)    a function pair, cache style or explicit arguments
    gv.check_loss(loss, y_hat, y)                  a loss: (loss, grad) at once, or a class
    gv.check_grad_fn(f, grad_f, *args, wrt=...)    a function and its gradient
    gv.check_function(Mul, a, b)                   a ctx-style Function class, without torch

Each convention is an adapter (checking/adapters/) that turns the user's code
into a Reading; this module makes it the pipeline's Subject (pipeline.py checks
it exactly like a recorded graph: the same modes, rules and diagnosis). A layer is checked
through a random cotangent R: L = sum(forward(arrays) * R), whose gradient
with respect to every array is what vjp(R) must return. Arrays are perturbed
in place and always restored; anything the user's code does (raises, returns
None, a wrong shape, float32, mutates its input, hangs) becomes an ERROR or
FAIL entry in the report, never a crash, and one bad gradient fails alone.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..errors import GradvizError
from . import pipeline
from .adapters.ctx import function_subject
from .arguments import in_order
from .adapters.layer_inputs import Feed
from .adapters.layer_readings import read_layer
from .adapters.logits import logits_reading, probability_axis
from .adapters.loss import grad_fn_subject, loss_subject
from .adapters.pair_readings import read_pair
from .adapters.reading import Reading, accepts, positional_names
from .layout_hint import function_runs, layout_hint, method_runs
from .pipeline import Options
from .probe import DIRECTIONS
from .report import InputResult, Report
from .subject import INPUT, PARAMETER, Input, Subject, UserCodeError
from .tolerance import ATOL, EPS, RTOL, Tolerance

MODES = ("auto", "full", "directional")


class HandwrittenSubject(Subject):
    """A Reading of hand-written code as the pipeline's Subject: a black box with a forward and a VJP."""

    complete = False  # a hand-written backward may leave arrays without a gradient: holes.py asks why

    def __init__(self, reading: Reading):
        super().__init__()
        self.reading = reading
        self.name, self.answer, self.loss = reading.name, reading.backward_name, reading.loss
        self.inputs = [Input(n, a, role=INPUT if n in reading.inputs else PARAMETER) for n, a in reading.arrays.items()]
        self.batch_axis, self.layout = reading.batch_axis, reading.layout
        reading.notes.insert(0, f"checked as {reading.convention}; {reading.override}")
        self.notes = reading.notes  # the same list: adapters add notes while the check runs
        self.warnings = list(reading.warnings)
        self.constants = dict(reading.constants)
        self.code = tuple(reading.code)
        self.cost_index = reading.cost_index  # the order of (loss, gradient): grading compares it with the reference's

    def first(self, arrays: list[np.ndarray]) -> np.ndarray:
        return self.reading.forward(dict(zip(self.names, arrays)))

    def output(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The forward at `arrays`; values that are not the buffers themselves are copied in, then put back.

        Layers read their parameters from the object (self.W), so a probe must
        change the buffer, not hand a new array.
        """
        buffers = self.reading.arrays
        swapped = []
        for (name, buffer), value in zip(buffers.items(), arrays):
            if value is not buffer:
                swapped.append((buffer, buffer.copy()))
                np.copyto(buffer, value)
        try:
            out = self.reading.forward(buffers)
            # a copy: a forward that returns its input (an identity layer) returns the buffer restored below
            return out.copy() if isinstance(out, np.ndarray) and swapped else out
        finally:
            for buffer, old in swapped:
                np.copyto(buffer, old)

    def gradients(self, cotangent) -> list:
        grads = self.reading.vjp(cotangent)
        return [grads.get(n) for n in self.names]

    def finish(self) -> list[str]:
        return self.reading.restore()

    def grad_name(self, name: str) -> str:
        return self.reading.grad_name(name)


def check_subject(reading: Reading, options: Options) -> Report:
    """Check a Reading of hand-written code through the one pipeline."""
    return pipeline.run(HandwrittenSubject(reading), options)


def _options(eps, atol, rtol, strict, mode, seed, directions, per_example_dout=False) -> Options:
    """Tolerances and the mode, validated before any user code runs."""
    if mode not in MODES:
        raise GradvizError(f"mode must be 'auto', 'full' or 'directional', got {mode!r}")
    return Options(Tolerance.of(eps, atol, rtol, strict), mode=mode, methods=("finite",), seed=seed,
                   directions=directions, per_example_dout=per_example_dout)


def _run(build: Callable[[], Reading], name: str, shapes: list, options: Options, given: Sequence = (),
         code: tuple = (), hint: Callable[[str], str | None] | None = None) -> Report:
    """Read the user's code and check it; user code failing while it is read is an ERROR report.

    The step is validated against the arrays the user gave before their code first runs; `code` is the
    user's functions or objects, whose source the diagnosis may read for evidence of a structure.
    """
    floats = [(n, np.asarray(a, dtype=np.float64)) for n, a in given if _is_float(a)]
    options.tolerance.check_step([a for _, a in floats], [n for n, _ in floats])
    try:
        reading = build()
    except UserCodeError as exc:
        message = str(exc)
        message = (hint(message) if hint is not None else None) or message  # numpy's shape words said as a layout
        rows = shapes or [(name, ())]  # never an empty report: it would read as a pass
        results = [InputResult(n, s, exc.status, message=message) for n, s in rows]
        return Report(subject=name, results=results, settings=options.settings(options.mode),
                      verdict=f"{exc.status}: {message}.", stopped_by=exc.cause)
    reading.code = reading.code or code
    return check_subject(reading, options)


def _is_float(value: Any) -> bool:
    return isinstance(value, (np.ndarray, float)) and np.asarray(value).dtype.kind == "f"


def _named(fn: Any, args: Sequence) -> list[tuple[str, Any]]:
    """The user's arguments by their parameter names (argument i when unnamed)."""
    names = positional_names(fn) if callable(fn) else []
    return [(names[i] if i < len(names) else f"argument {i + 1}", a) for i, a in enumerate(args)]


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


COMMON = """`mode` is "auto" (every element up to 2000, else random directions), "full" or
    "directional"; `strict=True` also fails what exceeds 10x the finite
    differences' own measured error; `eps="sweep"` tabulates the error
    against the step size."""


def check_layer(obj: Any, x: Any, params: Sequence | None = None, *, forward: str | None = None,
                backward: str | None = None, eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL,
                seed: int = 0, timeout: float | None = None, layout: str | None = None, batch_axis: int = 0,
                per_example_dout: bool = False, mode: str = "auto", strict: bool = False,
                directions: int = DIRECTIONS, dout: str | None = None,
                outputs: str | Sequence[str] | None = None, grads: dict[str, str] | None = None,
                labels: dict[str, np.ndarray] | None = None) -> Report:
    """Check a layer class's backward against finite differences of its forward, whatever its style.

    `x` is the input array, or a dict of the forward's arguments by name when it takes several
    ({"x": x, "h_prev": h}: backward returns a gradient per float input; an integer or boolean array, a mask
    or indices, is data, passed as given and not differentiated). `grads={"W": "nabla_W"}` names where
    backward keeps a parameter's gradient when gradviz cannot tell; `labels={"W": W}` names an array the layer
    keeps in a list (self.params[0] is reported as W).
    `params` may name attributes (["W", "b"]) or give the arrays; by default
    every float array on the layer is a candidate. `forward`/`backward` name
    the methods when they are not detected; `batch_axis=1` is for
    (features, examples) code; `layout="NHWC"` helps the diagnosis. Every
    reading (which methods, where the output is, which backward parameter takes
    the upstream gradient) is confirmed before a verdict; `dout=` names that
    parameter (`backward(x, delta_h, activator)`: dout="delta_h") and
    `outputs=` the attribute holding the output when gradviz cannot tell.
    """
    options = _options(eps, atol, rtol, strict, mode, seed, directions, per_example_dout)
    warns: list[str] = []
    feed = Feed.of(x, warns)

    def build():
        reading = read_layer(obj, feed, params=params, forward=forward, backward=backward, timeout=timeout,
                             batch_axis=batch_axis, layout=layout, seed=seed, dout=_listed(dout),
                             outputs=_listed(outputs), grads=grads, labels=labels)
        reading.warnings += warns
        for name, value in getattr(obj, "__dict__", {}).items():  # the layer's settings (self.p = 0.2), for the diagnosis
            if isinstance(value, (float, np.floating)) and not name.startswith("_"):
                reading.constants.setdefault(name, float(value))
        return reading

    rows = [(n if not feed.single else "input", np.shape(feed.values[n])) for n in feed.diff] or [("input", ())]
    given = [(n, feed.values[n]) for n in feed.diff]
    names = [n for n, _ in given]
    with _numbers_kept(obj):
        return _run(build, type(obj).__name__, rows, options, given=given, code=(obj,),
                    hint=(lambda m: layout_hint(m, given, method_runs(obj, m, names, [a for _, a in given], timeout)))
                    if feed.single else None)


def check_layer_or_loss(obj: Any, inputs: dict[str, Any], args: Sequence, params: Sequence | None = None, *,
                        forward: str | None = None,
                        backward: str | None = None, eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL,
                        seed: int = 0, timeout: float | None = None, batch_axis: int = 0,
                        per_example_dout: bool = False, mode: str = "auto", strict: bool = False,
                        directions: int = DIRECTIONS, dout: str | None = None,
                        outputs: str | Sequence[str] | None = None, grads: dict[str, str] | None = None,
                        labels: dict[str, np.ndarray] | None = None) -> Report:
    """A class whose forward takes several arrays and returns an array: a layer (a gradient per input) or a loss.

    The layer's readings are tried first, then the loss's (per-example losses whose backward takes the
    predictions); the confirm stage keeps the one whose properties hold, or refuses."""
    options = _options(eps, atol, rtol, strict, mode, seed, directions, per_example_dout)
    warns: list[str] = []
    feed = Feed.of(dict(inputs), warns)

    def build():
        from .adapters.layer_readings import LAYER_HOW, layer_readings
        from .adapters.loss import LOSS_HOW, loss_readings
        from .confirm import choose

        candidates = layer_readings(obj, feed, params=params, forward=forward, backward=backward, timeout=timeout,
                                    batch_axis=batch_axis, dout=_listed(dout), outputs=_listed(outputs), grads=grads,
                                    labels=labels)
        try:
            candidates += loss_readings(obj, tuple(args), compute=forward, backward=backward, timeout=timeout)
        except GradvizError:
            pass  # no loss convention fits: the layer's readings alone
        reading = choose(candidates, type(obj).__name__, seed, how=LAYER_HOW + "; or, for a loss, " + LOSS_HOW)
        reading.warnings += warns
        return reading

    rows = [(n, np.shape(feed.values[n])) for n in feed.diff] or [("input", ())]
    with _numbers_kept(obj):
        return _run(build, type(obj).__name__, rows, options, given=[(n, feed.values[n]) for n in feed.diff],
                    code=(obj,))


@contextmanager
def _numbers_kept(obj: Any) -> Iterator[None]:
    """A learnable number (PReLU's `self.alpha = 0.25`) is checked as a 0-d array (layer_scalars.py); afterwards
    it is a number of its own type again, so the layer goes on as the user made it."""
    numbers = {k: type(v) for k, v in getattr(obj, "__dict__", {}).items()
               if isinstance(v, (float, np.floating)) and not isinstance(v, bool)}
    try:
        yield
    finally:
        for k, kind in numbers.items():
            value = getattr(obj, "__dict__", {}).get(k)
            if isinstance(value, np.ndarray) and value.ndim == 0:
                setattr(obj, k, kind(value))


def check_pair(forward: Callable, backward: Callable, *args: Any, wrt: str | Sequence[str] | None = None,
               eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL, seed: int = 0,
               timeout: float | None = None, layout: str | None = None, batch_axis: int = 0,
               per_example_dout: bool = False, mode: str | None = None, strict: bool = False,
               directions: int = DIRECTIONS, check_mode: str | None = None, dout: str | Sequence[str] | None = None,
               outputs: str | Sequence[str] | None = None, grads: dict[str, str] | None = None,
               **kwargs: Any) -> Report:
    """Check a forward/backward function pair called exactly as the user calls it.

    `args` and `kwargs` are the forward's arguments (arrays, conv_param dicts,
    strings, activation functions); backward receives the cache, or the
    arguments it names, and the settings its signature accepts. When the
    user's functions take a setting called `mode` (a pooling mode), `mode=`
    goes to them and `check_mode=` chooses the check's mode. Every reading is
    confirmed before a verdict (checking/confirm.py); `dout=` (the backward
    parameters taking upstream gradients), `outputs=` (the returned values
    that are outputs) and `grads={ARRAY: KEY}` say how the code is called
    when gradviz cannot confirm a reading on its own.
    """
    if accepts(forward, "mode") or accepts(backward, "mode"):
        if mode is not None:
            kwargs["mode"] = mode
        mode = None
    mode = check_mode or mode or "auto"
    options = _options(eps, atol, rtol, strict, mode, seed, directions, per_example_dout)
    name = f"{getattr(forward, '__name__', 'forward')}/{getattr(backward, '__name__', 'backward')}"
    said = {"dout": _listed(dout), "outputs": _listed(outputs), "grads": grads}
    return _run(lambda: read_pair(forward, backward, args, kwargs, wrt=wrt, timeout=timeout, batch_axis=batch_axis,
                                  layout=layout, seed=seed, **said),
                name, _argument_shapes(forward, args, kwargs), options, given=_named(forward, args),
                code=(forward, backward), hint=lambda m: layout_hint(m, _named(forward, args), function_runs(
                    forward, [n for n, _ in _named(forward, args)], args, kwargs, timeout)))


def _listed(value: str | Sequence[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)


def check_loss(obj: Any, *args: Any, compute: str | None = None, backward: str | None = None,
               wrt: str | None = None, eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL,
               timeout: float | None = None, seed: int = 0, mode: str = "auto", strict: bool = False,
               directions: int = DIRECTIONS, **named: Any) -> Report:
    """Check a loss: a function returning (loss, grad), or a class (compute/backward, forward/backward).

    The arrays come in order or by name (`check_loss(huber, y_pred=p, y_true=t)`)."""
    options = _options(eps, atol, rtol, strict, mode, seed, directions)
    name = getattr(obj, "__name__", type(obj).__name__)
    computes = obj if inspect.isroutine(obj) else getattr(obj, compute or "forward", None) or getattr(obj, "compute", None)
    args = in_order(computes, args, named, "gv.check_loss")
    return _run(lambda: loss_subject(obj, args, compute=compute, backward=backward, wrt=wrt, timeout=timeout,
                                     seed=seed),
                name, _argument_shapes(computes, args), options, given=_named(None, args), code=(obj,),
                hint=lambda m: _loss_layout(m, obj, args, timeout))


def _loss_layout(message: str, obj: Any, args: Sequence, timeout: float | None) -> str | None:
    """The layout hint for a loss: its function, or the method the message names, run on the inputs transposed."""
    given = _named(obj if inspect.isroutine(obj) else None, args)
    names = [n for n, _ in given]
    runs = function_runs(obj, names, args, None, timeout) if inspect.isroutine(obj) else \
        method_runs(obj, message, names, args, timeout)
    return layout_hint(message, given, runs, batch_axis=False)


def check_grad_fn(f: Callable, grad_f: Callable, *args: Any, wrt: str | None = None, eps: float | str = EPS,
                  atol: float = ATOL, rtol: float = RTOL, timeout: float | None = None, seed: int = 0,
                  mode: str = "auto", strict: bool = False, directions: int = DIRECTIONS,
                  wrt_logits: bool = False, **named: Any) -> Report:
    """Check grad_f against finite differences of a numpy function f returning one number.

    The arguments come in order or by name (`check_grad_fn(f, grad_f, w=w, X=X)`). With several arguments, `wrt` names the differentiated one (guessed from
    the names when absent, and said); a dict of arrays is matched to the
    `d<name>` keys grad_f returns. `wrt_logits=True`: grad_f is documented as
    d loss / d z for probabilities p = softmax(z) (p - y for cross-entropy).
    """
    options = _options(eps, atol, rtol, strict, mode, seed, directions)
    name = getattr(f, "__name__", "f")
    args = in_order(f, args, named, "gv.check_grad_fn")

    def build() -> Reading:
        return grad_fn_subject(f, grad_f, args, wrt=wrt, timeout=timeout, seed=seed)

    report = _run((lambda: logits_reading(build())) if wrt_logits else build, name, _argument_shapes(f, args),
                  options, given=_named(f, args), code=(f, grad_f))
    return report if wrt_logits else _logits_hint(report, build, options)


def _logits_hint(report: Report, build: Callable[[], Reading], options: Options) -> Report:
    """A FAIL whose numbers are d loss / d logits of a probability input: say so, and how to check it that way."""
    if report.ok or any(r.status not in ("FAIL", "PASS") for r in report.results):
        return report
    try:
        reading = build()
        name = next(iter(reading.arrays))
        if probability_axis(reading.arrays[name]) is None or not check_subject(logits_reading(reading), options).ok:
            return report
    except (GradvizError, UserCodeError):
        return report
    hint = (f"its numbers are d loss / d z for {name} = softmax(z), the gradient with respect to the logits: "
            "if it is documented so, check it with wrt_logits=True (--wrt-logits)")
    report.notes.append(hint)
    report.verdict = report.verdict.rstrip() + f" Hint: {hint}."
    return report


def check_function(fn_class: Any, *args: Any, eps: float | str = EPS, atol: float = ATOL, rtol: float = RTOL,
                   seed: int = 0, timeout: float | None = None, mode: str = "auto", strict: bool = False,
                   directions: int = DIRECTIONS, **named: Any) -> Report:
    """Check a ctx-style Function class (forward(ctx, *inputs), backward(ctx, d_out)) without torch.

    The inputs come in order or by the names forward gives them (`check_function(Mul, a=a, b=b)`)."""
    options = _options(eps, atol, rtol, strict, mode, seed, directions)
    args = in_order(getattr(fn_class, "forward", None), args, named, "gv.check_function", skip=1)
    return _run(lambda: function_subject(fn_class, args, timeout=timeout, seed=seed),
                getattr(fn_class, "__name__", "Function"),
                _argument_shapes(getattr(fn_class, "forward", None), args, skip=1), options, given=_named(None, args),
                code=(fn_class,))


for _entry in (check_layer, check_pair, check_loss, check_grad_fn, check_function):
    _entry.__doc__ += "\n\n    " + COMMON + "\n"
