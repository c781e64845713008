"""Stage 2, confirm: a reading of the user's code is used only once properties true of ANY backward hold.

Right or wrong, a backward is linear in its upstream gradient (a VJP:
vjp(a*d1 + b*d2) == a*vjp(d1) + b*vjp(d2)), runs after a repeatable forward,
and returns for each array a gradient of that array's size. A reading that
breaks one of these is gradviz calling the code wrongly, not the code being
wrong: the next reading is tried, and when none holds gradviz refuses
(GradvizError, CLI exit 2) with what it tried, why each failed, and the flags
that say how the code is called. Only a confirmed reading reaches a verdict.

Every adapter (function pairs, layer classes, losses, function/gradient pairs,
ctx Functions) hands its readings here as Candidates, in the order it tries them.

One exception keeps a student's crash their own: when the code is called
exactly as its own names say (backward(dout, cache) after forward returned
(out, cache); every other parameter named after a forward argument) and no
other reading holds, an exception in backward is the user's ERROR, at their line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import GradvizError, InputError
from .adapters.reading import Reading, as_array
from .streams import stream
from .subject import Problem, UserCodeError

CONFIRM_STREAM = "confirm"
FORWARD_RESULT = "the forward's result"
A, B = 0.75, -1.25  # the linear combination of two random cotangents
HOW_TO_SAY = ("say how it is called: --dout NAME (the backward parameter that takes the upstream gradient; "
              "dout= in Python), --outputs NAMES (which returned values are outputs; outputs=), --grad NAME=KEY "
              "(where the gradient of NAME is; grads={NAME: KEY}), --wrt NAME (the differentiated arrays), or "
              "--forward/--backward (forward=/backward=) for the methods")


@dataclass
class Candidate:
    """One proposed reading: how it is described, how to build it, and whether it is certain by names."""

    describe: str
    build: Callable[[], Reading]
    certain: bool = False
    only: bool = False  # the one way the code can be called (a layer's backward(dout)): what it does is its own


@dataclass
class Attempt:
    candidate: Candidate
    why: str | None  # None: confirmed
    stage: str = ""  # "forward" (no reading can help), "backward", "structure"
    reading: Reading | None = None


def confirm(reading: Reading, seed: int = 0) -> tuple[str | None, str]:
    """(None, "") when the reading holds, else (why not, the stage that broke)."""
    arrays = reading.arrays
    if not all(np.all(np.isfinite(a)) for a in arrays.values()):
        return None, ""  # a nan or inf input is the pipeline's to name ("x contains nan or inf"), whatever the reading
    saved = {n: a.copy() for n, a in arrays.items()}
    try:
        try:
            out = np.array(as_array(reading.name, reading.forward(arrays)), dtype=np.float64)
            again = np.array(as_array(reading.name, reading.forward(arrays)), dtype=np.float64)
        except UserCodeError as exc:  # raising is the forward's own; an unreadable output is this reading's
            stage = "forward" if exc.status == "ERROR" else "structure"
            return f"{FORWARD_RESULT}, read this way, failed: {_without_location(exc)}", stage
        if again.shape != out.shape or not np.allclose(again, out, rtol=1e-9, atol=1e-12, equal_nan=True):
            return "the forward gives different outputs for the same inputs", "forward"
        if not _depends(reading, out, seed):
            return "what was taken as the output does not depend on any differentiated array", "structure"
        try:
            if reading.loss:
                if out.size != 1:
                    return f"what was taken as the cost has shape {out.shape}, not one number", "structure"
                grads = reading.vjp(None)
                return _some(reading, grads) or _sizes(reading, grads), "structure"
            rng = stream(seed, CONFIRM_STREAM)
            d1, d2 = rng.normal(size=out.shape), rng.normal(size=out.shape)
            vjp = reading.confirm_vjp or reading.vjp  # a layer updating its weights: at a vanishing learning rate
            g1, g2 = vjp(d1.copy()), vjp(d2.copy())
            g3 = vjp(A * d1 + B * d2)
        except UserCodeError as exc:  # "unmatched": what it returned fits no array read this way (not its crash)
            stage = "unmatched" if exc.cause == "unmatched" else "backward"
            return f"the backward, called this way, failed: {_without_location(exc)}", stage
        why = _some(reading, g3) or _sizes(reading, g3)
        boolean = [n for n, g in g3.items() if isinstance(g, np.ndarray) and g.dtype == np.bool_]
        if why is None and boolean:  # True/False where numbers belong: the backward's own slip, whatever the reading
            return f"the gradient of {boolean[0]} is an array of True/False, not of numbers", "boolean"
        unread = reading.unread() if why is None and reading.unread else None
        if unread:
            return unread, "unread"  # an array backward stored that gradviz cannot name: the user says where it is
        if why is None and _linear(g1, g2, g3) is not None:
            # affine in dout (a term that ignores it): the chain rule forgotten, a bug; anything else: not dout
            try:
                g0 = vjp(np.zeros(out.shape))
            except UserCodeError:
                g0 = None
            return _linear(g1, g2, g3), "ignores_dout" if g0 is not None and _affine(g0, g1, g2, g3) else "structure"
        return why, "structure"
    finally:
        for n, a in arrays.items():
            np.copyto(a, saved[n])


def _depends(reading: Reading, out: np.ndarray, seed: int) -> bool:
    """The output moves when every array moves a little: a reading of something else has nothing to check."""
    rng = stream(seed, CONFIRM_STREAM + " dependence")
    moved = {n: a + 1e-3 * (1 + np.abs(a)) * rng.standard_normal(a.shape) for n, a in reading.arrays.items()}
    saved = {n: a.copy() for n, a in reading.arrays.items()}
    try:
        for n, a in reading.arrays.items():
            np.copyto(a, moved[n])
        try:
            shifted = np.array(as_array(reading.name, reading.forward(reading.arrays)), dtype=np.float64)
        except UserCodeError:
            return True  # a forward that fails a little away is judged by the check, not here
    finally:
        for n, a in reading.arrays.items():
            np.copyto(a, saved[n])
    return shifted.shape != out.shape or not np.array_equal(shifted, out)


def _some(reading: Reading, grads: dict) -> str | None:
    """A reading that finds no gradient at all for any array has not understood what backward returns."""
    if not any(name in reading.arrays for name in grads):
        return f"no gradient it returned could be matched to {', '.join(reading.arrays)}"
    return None


def _sizes(reading: Reading, grads: dict) -> str | None:
    named = getattr(reading, "named", set())
    for name, g in grads.items():
        if name in reading.arrays and isinstance(g, (tuple, list)):
            why = _several(name, g, reading.arrays[name])
            if why:
                return why
    try:
        shapes = {n: np.shape(g) for n, g in grads.items() if n in reading.arrays and not isinstance(g, Problem)
                  and g is not None}
    except (TypeError, ValueError):  # a structure numpy cannot measure is no gradient of these arrays
        return "what was taken as a gradient is not an array of numbers"
    wanted = {n: reading.arrays[n].shape for n in shapes}
    if shapes != wanted and sorted(map(str, shapes.values())) == sorted(map(str, wanted.values())):
        return "the gradients' shapes fit the arrays in another order than the one this reading gave them"
    for name, g in grads.items():
        if g is None or isinstance(g, Problem) or name not in reading.arrays:
            continue
        try:
            size = np.asarray(g, dtype=np.float64).size
        except (TypeError, ValueError):
            return f"what was taken as the gradient of {name} is not an array of numbers"
        if size != reading.arrays[name].size and name not in named:
            return (f"what was taken as the gradient of {name} has {size} elements; {name} has "
                    f"{reading.arrays[name].size}")
    return None


def _several(name: str, grad: tuple | list, array: np.ndarray) -> str | None:
    """A tuple of arrays taken as one gradient: ragged, or one gradient per argument (forward(a, b) -> (da, db)).

    A reshape slip of one gradient is the user's bug; several arrays handed back together are a misreading."""
    items = list(grad)
    try:
        np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        return (f"what was taken as the gradient of {name} is a {type(grad).__name__} of {len(items)} values of "
                "different shapes, not one array (one gradient per argument?)")
    if len(items) >= 2 and all(isinstance(g, np.ndarray) and g.ndim >= 1 for g in items) \
            and any(g.shape == array.shape for g in items):
        return (f"what was taken as the gradient of {name} is a {type(grad).__name__} of {len(items)} arrays, one "
                f"of them shaped like {name} (one gradient per argument?), not one gradient")
    return None


def _linear(g1: dict, g2: dict, g3: dict) -> str | None:
    """The backward must be linear in what was passed as the upstream gradient."""
    for name, combined in g3.items():
        if any(isinstance(g.get(name), Problem) or g.get(name) is None for g in (g1, g2)) or isinstance(combined,
                                                                                                         Problem):
            continue
        try:
            x1, x2, x3 = (np.asarray(g[name], dtype=np.float64) for g in (g1, g2, g3))
            expected = A * x1 + B * x2
        except (TypeError, ValueError):
            return f"the gradient of {name} is not an array of numbers"
        if x3.shape != expected.shape:
            return f"the gradient of {name} changes shape with the upstream gradient"
        scale = max(float(np.max(np.abs(A * x1), initial=0.0)), float(np.max(np.abs(B * x2), initial=0.0)), 1e-300)
        if not np.allclose(x3, expected, rtol=1e-6, atol=1e-9 * scale + 1e-12):
            return (f"the gradient of {name} is not linear in what was passed as the upstream gradient "
                    "(so that argument is not the upstream gradient)")
    return None


def _affine(g0: dict, g1: dict, g2: dict, g3: dict) -> bool:
    """Whether the gradients are affine in the upstream gradient: g(A d1 + B d2) = A g(d1) + B g(d2) + (1-A-B) g(0).

    A backward with a term that ignores dout (`dout * mask + 0.5`, or no dout at all) is affine: the chain
    rule forgotten, which the check reports as a FAIL with its cause; one that clips or squares dout is not."""
    try:
        for name in g3:
            if any(isinstance(g.get(name), Problem) or g.get(name) is None for g in (g0, g1, g2, g3)):
                continue
            x0, x1, x2, x3 = (np.asarray(g[name], dtype=np.float64) for g in (g0, g1, g2, g3))
            expected = A * x1 + B * x2 + (1 - A - B) * x0
            if x3.shape != expected.shape or not np.allclose(x3, expected, rtol=1e-6, atol=1e-9):
                return False
        return True
    except (TypeError, ValueError):
        return False


def _without_location(exc: Exception) -> str:
    """A probe's failure names the exception, never a line of the user's code (gradviz called it this way)."""
    return re.sub(r" \(at [^()]*:\d+\)$", "", str(exc))


def choose(candidates: list[Candidate], subject: str, seed: int = 0, how: str = HOW_TO_SAY) -> Reading:
    """The first confirmed reading; else the primary one when no reading could help; else a refusal.

    The trials run with numpy's floating-point warnings off: a reading tried and dropped (L_model_backward handed
    a random upstream where its AL belongs: 1 / 0) must not print warnings at the user's lines; the check of the
    reading chosen runs with them on."""
    with np.errstate(all="ignore"):
        return _choose(candidates, subject, seed, how)


def _choose(candidates: list[Candidate], subject: str, seed: int, how: str) -> Reading:
    attempts: list[Attempt] = []
    first_error: UserCodeError | None = None  # a reading certain by names that raised while it was read
    for candidate in candidates:
        try:
            reading = candidate.build()
        except UserCodeError as exc:
            if candidate.certain and first_error is None:
                first_error = exc
            attempts.append(Attempt(candidate, f"calling it this way failed: {_without_location(exc)}", "backward"))
            continue
        except InputError:
            raise  # wrong whatever the reading: trying others would only bury it in a refusal
        except GradvizError as exc:
            attempts.append(Attempt(candidate, str(exc), "structure"))
            continue
        why, stage = confirm(reading, seed)
        if why is None:
            if candidate.certain:
                return reading
            rival = _rival(reading, candidates[candidates.index(candidate) + 1:], seed)
            if rival is None:
                return reading
            raise GradvizError(ambiguous(subject, candidate, rival, how))
        attempts.append(Attempt(candidate, why, stage, reading))
        _put_back(reading)
    built = [a for a in attempts if a.reading is not None]
    if built and all(a.stage == "forward" for a in built):
        return built[0].reading  # the forward fails or varies whatever the reading: the check reports it as such
    if attempts and attempts[0].candidate.certain and attempts[0].reading and (
            attempts[0].stage in ("backward", "ignores_dout", "boolean") or attempts[0].why.startswith(FORWARD_RESULT)
            or attempts[0].candidate.only and len(candidates) == 1 and attempts[0].stage not in ("unread", "unmatched")):
        # Called exactly as its own names say, and nothing else holds: a crash is its own ERROR, and a gradient
        # that does not scale with the dout its names declare is its own FAIL (the chain rule forgotten).
        return attempts[0].reading
    if first_error is not None and attempts and attempts[0].candidate.certain and attempts[0].reading is None:
        raise first_error  # called exactly as its names say, it raised: the user's ERROR, at their line
    raise GradvizError(refusal(subject, attempts, how))


def _rival(chosen: Reading, rest: list[Candidate], seed: int) -> Candidate | None:
    """Another confirmed reading that disagrees with the chosen one: the code does not say which is meant."""
    for candidate in rest:
        try:
            reading = candidate.build()
        except (UserCodeError, GradvizError):
            continue
        held = confirm(reading, seed)[0] is None and not _agree(chosen, reading, seed)
        _put_back(reading)
        if held:
            return candidate
    return None


def _put_back(reading: Reading) -> None:
    """A reading not taken leaves the user's object as it found it (a layer's history lists, its weights)."""
    try:
        reading.restore()
    except Exception:  # restoring is best effort; the chosen reading restores again when its check finishes
        pass


def _agree(first: Reading, second: Reading, seed: int) -> bool:
    """The same outputs and the same gradients for the same upstream gradient: two spellings of one reading."""
    try:
        out1, out2 = (np.asarray(r.forward(r.arrays), dtype=np.float64) for r in (first, second))
        if first.loss != second.loss or out1.shape != out2.shape or not np.allclose(out1, out2):
            return False
        d = None if first.loss else stream(seed, CONFIRM_STREAM).normal(size=out1.shape)
        g1, g2 = first.vjp(None if d is None else d.copy()), second.vjp(None if d is None else d.copy())
    except UserCodeError:
        return False
    common = [n for n in g1 if n in g2 and not isinstance(g1[n], Problem) and not isinstance(g2[n], Problem)]
    return bool(common) and all(np.allclose(np.asarray(g1[n], dtype=np.float64), np.asarray(g2[n], dtype=np.float64))
                                for n in common)


def ambiguous(subject: str, first: Candidate, second: Candidate, how: str = HOW_TO_SAY) -> str:
    return (f"gradviz cannot read {subject}: two ways of calling it both hold and disagree, so the code does not say "
            f"which it means (nothing is said about its gradients):\n  1. {first.describe}\n  2. {second.describe}\n"
            + how[0].upper() + how[1:])


def refusal(subject: str, attempts: list[Attempt], how: str = HOW_TO_SAY) -> str:
    if not attempts:
        return f"gradviz cannot read {subject}: it found no way to call it; {how}"
    lines = [f"gradviz cannot read {subject}: none of the {len(attempts)} ways it tried to call it was confirmed "
             "(so nothing is said about its gradients):"]
    for k, a in enumerate(attempts, 1):
        lines.append(f"  {k}. {a.candidate.describe}: {a.why}")
    lines.append(how[0].upper() + how[1:])
    return "\n".join(lines)
