"""A term too many or too few: yours = true + c * (an array gradviz knows), e.g. a regularizer."""

from __future__ import annotations

import numpy as np

from .context import Context
from .finding import Finding
from .registry import hypothesis


MIN_ELEMENTS = 3  # fitting one coefficient to fewer numbers than this always "succeeds"


def _fit(diff: np.ndarray, term: np.ndarray) -> float | None:
    if np.count_nonzero(term) < MIN_ELEMENTS:
        return None
    norm = float((term * term).sum())
    return float((diff * term).sum()) / norm if norm > 0 else None


@hypothesis
def regularization_mismatch(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """The gradient has a term lam * W that the loss lacks (or the reverse)."""
    w = ctx.wrt
    if not isinstance(w, np.ndarray) or w.shape != user.shape or not w.any():
        return None
    lam = _fit(user - ref, np.asarray(w, dtype=np.float64))
    if lam is None or abs(lam) < 1e-6 or not ctx.close(user, ref + lam * w):
        return None
    name = ctx.name or "the parameter"
    if lam > 0:
        sentence = (f"the gradient has an extra {lam:.4g} * {name} that the loss does not have: regularization "
                    f"is in the gradient but not in the loss (add {lam / 2:.4g} * sum({name}**2) to the loss, "
                    "or drop the term from the gradient)")
    else:
        sentence = (f"the loss has a regularization term the gradient lacks: add {-lam:.4g} * {name} to the "
                    "gradient (d/dW of lam/2 * sum(W**2) is lam * W)")
    return Finding(sentence, cause="regularization_mismatch",
                   evidence=f"yours - true = {lam:.6g} * {name} on every element", confidence=0.9)


def _known_terms(ctx: Context, shape: tuple) -> list[tuple[str, np.ndarray]]:
    """Arrays a formula could add: the op's inputs and output, and one-hot integer labels."""
    terms = [(n, a) for n, a in ctx.arrays().items() if a.shape == shape and n != "dout"]
    if len(shape) == 2:
        for name, labels in ctx.inputs.items():
            try:
                labels = np.asarray(labels)
            except (ValueError, TypeError):  # a ragged list ([2, [3]]) holds no labels
                continue
            if (labels.ndim == 1 and labels.shape[0] == shape[0] and labels.dtype.kind in "iu"
                    and labels.min(initial=0) >= 0 and labels.max(initial=0) < shape[1]):
                onehot = np.zeros(shape)
                onehot[np.arange(shape[0]), labels] = 1.0
                terms.append((f"onehot({name})", onehot))
    return terms


@hypothesis
def extra_or_missing_term(user: np.ndarray, ref: np.ndarray, ctx: Context) -> Finding | None:
    """yours = true + c * A for a known array A: a term in A dropped, doubled or with its sign flipped."""
    diff = user - ref
    for name, term in _known_terms(ctx, user.shape):
        if ctx.wrt is not None and term is ctx.wrt:
            continue  # the regularization hypothesis speaks about the parameter itself
        c = _fit(diff, term)
        if c is None or abs(c) < 1e-9 or not ctx.close(user, ref + c * term):
            continue
        return Finding(f"yours = true + {c:.4g} * {name}: the term with {name} is missing, doubled or has the "
                       f"wrong sign (a flipped sign shows as twice the term)", cause="wrong_term",
                       evidence=f"yours - true = {c:.6g} * {name} on every element", confidence=0.8)
    return None
