"""A constant factor: the gradient is the true one times a number, named when it means something."""

from __future__ import annotations

import math

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis
from .evidence import SIGNS, code_signs
from .facts import facts_of
from .util import broadcastable, near, nonzero, scale

_LN2 = math.log(2.0)


def named_factors(ctx: Context, shape: tuple) -> list[tuple[float, str, str, str | None]]:
    """(factor, cause, sentence, needs) for every factor with a meaning here, most specific first.

    `needs` names what must be evidenced for the cause to be named: a sign in the user's code
    (evidence.SIGNS), "setting" (an argument's value: evidence in itself), or None (the factor
    alone says it: the batch, the window, a sign)."""
    factors = _setting_factors(ctx)
    batch = ctx.batch
    if batch and batch > 1:
        factors += [
            (float(batch), "missing_batch_division",
             f"it is {batch} times the true gradient: a division by the batch size ({batch}) is missing in backward",
             None),
            (1.0 / batch, "extra_batch_division",
             f"it is 1/{batch} of the true gradient: backward divides by the batch size ({batch}) once too often",
             None),
        ]
    for count, what in _element_counts(ctx, shape):
        factors += [
            (float(count), f"missing_{what.split()[0]}_division",
             f"it is {count} times the true gradient: a division by the number of elements per {what} "
             f"({count}) is missing", None),
            (1.0 / count, f"extra_{what.split()[0]}_division",
             f"it is 1/{count} of the true gradient: backward divides by the number of elements per {what} "
             f"({count}) once too often", None),
        ]
    for n in _axis_lengths(ctx, shape):
        factors += [
            (n / (n - 1), "n_minus_one",
             f"it is {n}/{n - 1} of the true gradient: N - 1 is used where N = {n} belongs (an unbiased variance, "
             "or a mean over N - 1 elements, where the forward divides by N)", "minus_one"),
            ((n - 1) / n, "n_minus_one",
             f"it is {n - 1}/{n} of the true gradient: N = {n} is used where N - 1 belongs (the forward divides by "
             f"N - 1, e.g. an unbiased variance, and backward by N)", "minus_one"),
        ]
    factors += [
        (-1.0, "sign_flip", "the sign is flipped (a minus sign missing or extra)", None),
        (2.0, "factor_2", "it is twice the true gradient (a factor 2 counted twice, or a 1/2 forgotten in the loss)",
         "two"),
        (0.5, "factor_half", "it is half the true gradient (a factor 2 missing, e.g. d(x^2)/dx = 2x)", "two"),
        (1.0 / _LN2, "log_base",
         "it is 1/ln 2 times the true gradient: the loss uses log2 but the derivative assumes ln", None),
        (_LN2, "log_base", "it is ln 2 times the true gradient: the loss uses ln but the derivative assumes log2", None),
    ]
    for n, owner in _square_root_axes(ctx, shape):
        root = math.sqrt(n)
        factors += [
            (root, "missing_sqrt_scale",
             f"it is sqrt({n}) = {root:.4g} times the true gradient: the forward's scale 1/sqrt({n}) ({n} is {owner}; "
             "attention's 1/sqrt(d_k)) is missing in backward", "sqrt"),
            (1.0 / root, "extra_sqrt_scale",
             f"it is 1/sqrt({n}) of the true gradient: backward divides by sqrt({n}) ({n} is {owner}) once too often",
             "sqrt"),
        ]
    return factors


def _settings(ctx: Context) -> list[tuple[str, float]]:
    """The plain numbers among the op's settings by the user's names (keep_prob, ln_param['eps'])."""
    found = []

    def visit(name: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in list(value.items())[:20]:
                visit(f"{name}[{key!r}]", inner)
        elif isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
            found.append((name, float(value)))

    for source in (ctx.inputs, ctx.attrs):
        for name, value in source.items():
            if name != "role" and not isinstance(value, np.ndarray):
                visit(str(name), value)
    return found


def _setting_factors(ctx: Context) -> list[tuple[float, str, str, str | None]]:
    """An argument whose value is the ratio (keep_prob = 0.8, a dropout's 1 - p): the generalization of a factor."""
    factors = []
    for name, v in _settings(ctx):
        if not math.isfinite(v) or v == round(v) or abs(v) < 1e-3:
            continue  # counts and sizes are named by what they count; tiny numbers (eps) scale nothing
        factors += [
            (v, "setting_factor", f"it is {name} = {v:g} times the true gradient: a division by {name} is missing in "
             f"backward, or it multiplies by {name} once too often (yours / {name} is the true gradient)", "setting"),
            (1.0 / v, "setting_factor", f"it is 1/{name} times the true gradient ({name} = {v:g}): a factor {name} "
             f"is missing in backward, or it divides by {name} once too often (yours * {name} is the true gradient)",
             "setting"),
        ]
        if 0.0 < v < 1.0:
            factors += [
                (1.0 - v, "setting_factor", f"it is 1 - {name} = {1 - v:g} times the true gradient: a division by "
                 f"(1 - {name}) is missing in backward (yours / (1 - {name}) is the true gradient)", "setting"),
                (1.0 / (1.0 - v), "setting_factor", f"it is 1/(1 - {name}) times the true gradient ({name} = {v:g}): "
                 f"a factor (1 - {name}) is missing in backward (yours * (1 - {name}) is the true gradient)", "setting"),
            ]
    return factors


def _square_root_axes(ctx: Context, shape: tuple) -> list[tuple[int, str]]:
    """(n, what n is) for each axis length n >= 2 of the arrays around the op: a scale 1/sqrt(n) may use it."""
    named = [(k, a.shape) for k, a in ctx.arrays().items() if k != "dout"] + [(ctx.name or "the gradient", shape)]
    found: dict[int, str] = {}
    for name, dims in named:
        for axis, n in enumerate(dims):
            if n >= 2 and int(n) not in found:
                found[int(n)] = f"the length of axis {axis} of {name}"
    return sorted(found.items())


def _element_counts(ctx: Context, shape: tuple) -> list[tuple[int, str]]:
    """Element counts a mean divides by: a pooling window, an image channel (NCHW unless NHWC)."""
    counts = []
    kernel = ctx.attrs.get("kernel_size", ctx.attrs.get("kernel"))
    if kernel is not None:
        kh, kw = (kernel, kernel) if np.ndim(kernel) == 0 else tuple(kernel)
        if kh * kw > 1:
            counts.append((int(kh * kw), "window"))
    image = ctx.wrt.shape if ctx.wrt is not None and np.ndim(ctx.wrt) == 4 else (shape if len(shape) == 4 else None)
    if image is not None:
        n, h, w = (image[0], image[1], image[2]) if ctx.layout == "NHWC" else (image[0], image[2], image[3])
        if n * h * w > 1:
            counts.append((int(n * h * w), "channel (batch x height x width)"))
        if h * w > 1 and n > 1:
            counts.append((int(h * w), "channel of one image (height x width)"))
    return counts


def _axis_lengths(ctx: Context, shape: tuple) -> list[int]:
    """The lengths a mean or a variance may divide by: the axes of the gradient, its input and output."""
    lengths = set(int(n) for n in shape)
    for a in (ctx.wrt, ctx.output):
        if isinstance(a, np.ndarray):
            lengths |= set(int(n) for n in a.shape)
    return sorted(n for n in lengths if n >= 3)


@hypothesis
def array_factor(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """yours * A == true (a factor A missing, e.g. gamma) or yours == true * A (A multiplied in once too often)."""
    known = facts_of(user, ref, ctx)
    if known.informative < 3:
        return None
    size = np.abs(ref).reshape(-1)
    probe = np.argpartition(-size, 8)[:8] if size.size > 8 else np.arange(size.size)  # the 8 largest elements
    if not known.ref_support.reshape(-1)[probe].all():  # (they rule most arrays out, cheaply)
        return None  # a ratio there is undefined: no array fits at the probe
    named = [(name, a) for name, a in ctx.arrays().items()  # dout: the chain-rule hypothesis speaks about it
             if name != "dout" and a.size > 1 and a.ndim <= user.ndim and broadcastable(a.shape, user.shape)]
    if not named:
        return None
    at = None if all(a.shape == user.shape for _, a in named) else np.unravel_index(probe, user.shape)
    values = np.array([a.reshape(-1)[probe] if a.shape == user.shape else a[_aligned(at, a.shape, user.shape)]
                       for _, a in named])  # each array at the probe
    with np.errstate(all="ignore"):
        ratio = user.reshape(-1)[probe] / ref.reshape(-1)[probe]
        missing_like = (np.abs(ratio * values - 1.0) <= 1e-8 + 1e-2).all(axis=1)  # np.allclose(.., rtol=1e-2)
        extra_like = (np.abs(ratio - values) <= 1e-8 + 1e-2 * np.abs(values)).all(axis=1)
    for (name, a), maybe in zip(named, missing_like | extra_like):
        if not maybe or np.ptp(a) <= 1e-9 * scale(a):
            continue  # ruled out at the probe, or a constant array (the constant-factor hypothesis)
        with np.errstate(all="ignore"):
            a = np.broadcast_to(a, user.shape)
            for candidate, missing in ((ref / a, True), (ref * a, False)):
                if np.isfinite(candidate).all() and ctx.close(user, candidate) and not ctx.close(candidate, ref):
                    sentence = (f"a factor {name} is missing: yours * {name} is the true gradient" if missing else
                                f"it is multiplied by {name} once too often: yours / {name} is the true gradient")
                    return Finding(sentence, cause="factor_array_missing" if missing else "factor_array_extra",
                                   confidence=0.9, evidence=f"{'yours * ' + name if missing else 'yours / ' + name} "
                                                            "equals the true gradient on every element")
    return None


def _aligned(at: tuple, shape: tuple, full: tuple) -> tuple:
    """Indices into an array of `shape` of the elements at `at` of its broadcast to `full`."""
    lead = len(full) - len(shape)
    return tuple(at[lead + d] if n == full[lead + d] else 0 for d, n in enumerate(shape))


@hypothesis
def constant_factor(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """yours == c * true for one constant c: named by what c means here, when that meaning is evidenced.

    A cause that needs a structure (an N - 1, a square, a 1/sqrt(d)) is named only when the user's code
    shows it; an argument whose value is c is evidence in itself; two causes that fit equally are both
    said, with a lower confidence, and a number nothing explains is said as a number."""
    known = facts_of(user, ref, ctx)
    ratio = known.ratio
    if ratio is None or abs(ratio - 1.0) <= ctx.rtol:
        return None
    # One number is always "a constant times" another: with fewer than 3 elements that carry
    # information the ratio is stated only tentatively (any replayed cause outranks it).
    informative = known.informative
    evidence = f"yours / true = {ratio:.6g} on every nonzero element"
    matched, seen = [], set()
    for factor, cause, sentence, needs in named_factors(ctx, user.shape):
        if abs(ratio - factor) <= 1e-3 * abs(factor) and (cause, round(factor, 9)) not in seen:
            seen.add((cause, round(factor, 9)))
            matched.append((cause, sentence, needs))
    signs = code_signs(ctx) if any(needs not in (None, "setting") for _, _, needs in matched) else None
    evidenced, unknown, unseen = [], [], []
    for cause, sentence, needs in matched:
        if needs == "setting" or (needs is not None and signs is not None and needs in signs):
            evidenced.append((cause, sentence))
        elif needs is None or (signs is None and needs == "two"):  # 2 and 1/2 keep their plain meaning
            unknown.append((cause, sentence))
        elif signs is None and needs == "sqrt" and any(c.endswith("batch_division") for c, _, _ in matched):
            unknown.append((cause, sentence))  # the batch is named only when no other axis explains the number
        else:
            unseen.append(f"{cause} fits the number but is not named: the code shows no {SIGNS[needs]}"
                          if signs is not None else f"{cause} fits the number but is not named: the code could not "
                          "be read to confirm it")
    best, others = (evidenced, unknown) if evidenced else (unknown, [])
    if unseen:
        evidence += "; " + "; ".join(unseen)
    if not best:
        return Finding(f"it is the true gradient times a constant {ratio:.6g} everywhere",
                       cause="constant_factor", evidence=evidence, confidence=0.8 if informative >= 3 else 0.3)
    if len(best) > 1:
        tails = "; or ".join(s.split(": ", 1)[-1] for _, s in best)
        sentence, confidence = f"it is {ratio:.6g} times the true gradient, which more than one cause fits: {tails}", 0.6
    else:
        sentence, confidence = best[0][1], 0.95 if not others else 0.85
        if others:
            evidence += "; the same number is also " + "; ".join(s.split(": ", 1)[-1] for _, s in others)
    return Finding(sentence, cause=best[0][0], evidence=evidence,
                   confidence=confidence if informative >= 3 else min(confidence, 0.6))
