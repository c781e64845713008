"""A ratio that happens to match a number is not a cause: structural causes need evidence.

The slips here were found by a new user's QA pass, where a 0.95 finding named the wrong cause
because a ratio coincided with a meaningful number (4/5 read as N - 1 for a forgotten keep_prob,
2 read as a factor 2 for a forgotten 1/sqrt(d), 3 read as the batch for 1/sqrt(9)). Each fixture is
written as a student would write it; the reference every check compares with is gradviz's finite
differences of the fixture's own forward, and each test asserts the cause named AND the wrong
cause not named; the correct version of each fixture gets no finding.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis import Context, diagnose
from gradviz.checking.diagnosis.catalogue import CAUSES

P = functools.partial


def rng(seed):
    return np.random.default_rng(seed)


def findings(report, name):
    [result] = [r for r in report.results if r.name == name]
    assert {d.cause for d in result.diagnosis} <= set(CAUSES)
    return result.diagnosis


def every_cause(report):
    return {d.cause for r in report.results for d in r.diagnosis} | {d.cause for n in report.nodes for d in n.diagnosis}


def assert_silent(report):
    assert report.ok, str(report)
    assert every_cause(report) == set()


# --- dropout: the keep probability, not N - 1 ---------------------------------------------------------------------

def drop_forward(x, mask, keep_prob):
    """Inverted dropout with a given 0/1 mask: kept units are scaled up so the expectation is unchanged."""
    return x * mask / keep_prob


def drop_backward(dout, mask, keep_prob, bug=None):
    if bug:
        return dout * mask  # the rescaling by keep_prob is forgotten
    return dout * mask / keep_prob


class Dropout:
    """Dropout with drop probability p and a fixed mask (so the check is deterministic)."""

    def __init__(self, p, mask, bug=None):
        self.p, self.mask, self.bug = p, mask.astype(bool), bug  # (a bool mask: not a parameter)

    def forward(self, x):
        return x * self.mask / (1 - self.p)

    def backward(self, dout):
        return dout * self.mask if self.bug else dout * self.mask / (1 - self.p)


X45 = rng(1).normal(size=(4, 5))
MASK = (rng(2).uniform(size=(4, 5)) < 0.7).astype(float)


def test_a_forgotten_keep_prob_is_named_by_its_argument_not_as_n_minus_one():
    report = gv.check_pair(drop_forward, P(drop_backward, bug=True), X45, MASK, keep_prob=0.8)
    [finding] = findings(report, "x")
    assert finding.cause == "setting_factor" and finding.confidence >= 0.9
    assert "keep_prob = 0.8" in finding and "0.8 times the true gradient" in finding
    assert "n_minus_one" not in every_cause(report)  # 4/5 with an axis of 5: no N - 1 in the code
    assert "n_minus_one fits the number but is not named" in finding.evidence


def test_a_forgotten_one_minus_p_is_named_in_a_class():
    report = gv.check_layer(Dropout(0.2, MASK, bug=True), X45)
    [finding] = findings(report, "x")
    assert finding.cause == "setting_factor" and "1 - p = 0.8" in finding
    assert "n_minus_one" not in every_cause(report)


def test_correct_dropout_gets_no_finding():
    assert_silent(gv.check_pair(drop_forward, drop_backward, X45, MASK, keep_prob=0.8))
    assert_silent(gv.check_layer(Dropout(0.2, MASK), X45))


SCALE = 1.25  # a module constant, no argument: nothing in the code explains 0.8


def scaled_forward(x):
    return x * SCALE


def scaled_backward(dout, x):
    return dout  # SCALE forgotten


def test_a_ratio_nothing_explains_is_said_as_a_number():
    report = gv.check_pair(scaled_forward, scaled_backward, X45)
    [finding] = findings(report, "x")
    assert finding.cause == "constant_factor" and "0.8" in finding
    assert "n_minus_one" not in every_cause(report)


class Variance:
    """Variance over the batch as np.var computes it (divides by N); backward divides by N - 1."""

    def forward(self, x):
        self.x = x
        return x.var(axis=0)

    def backward(self, dout):
        return dout * 2 * (self.x - self.x.mean(axis=0)) / (len(self.x) - 1)


def test_n_minus_one_is_still_named_when_the_code_has_it():
    report = gv.check_layer(Variance(), rng(3).normal(size=(5, 4)))
    [finding] = findings(report, "x")
    assert finding.cause == "n_minus_one" and finding.confidence >= 0.9


def test_without_readable_code_n_minus_one_is_not_named():
    true = rng(4).normal(size=(5, 4))
    [finding] = diagnose(true * 4 / 5, true, Context(name="x"))
    assert finding.cause == "constant_factor"
    assert "n_minus_one fits the number but is not named: the code could not be read" in finding.evidence


# --- attention: 1/sqrt(d_k), not a factor 2 or the batch ------------------------------------------------------------

def attention_forward(Q, K, V):
    d_k = Q.shape[-1]
    scores = Q @ K.T / np.sqrt(d_k)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = w / w.sum(axis=-1, keepdims=True)
    return w @ V, (Q, K, V, w)


def attention_backward(dout, cache, bug=None):
    Q, K, V, w = cache
    dw = dout @ V.T
    dscores = w * (dw - (dw * w).sum(axis=-1, keepdims=True))
    if not bug:
        dscores = dscores / np.sqrt(Q.shape[-1])
    return dscores @ K, dscores.T @ Q, w.T @ dout


def scores_function(bug=None):
    class Scores(gv.Function):
        """Scaled dot-product scores Q K^T / sqrt(d) as one op."""

        @staticmethod
        def forward(q, k):
            return q @ k.T / np.sqrt(q.shape[1])

        @staticmethod
        def backward(grad, q, k, out):
            s = 1.0 if bug else np.sqrt(q.shape[1])
            return grad @ k / s, grad.T @ q / s

    return Scores


@pytest.mark.parametrize("d", [4, 9])
def test_a_forgotten_inverse_sqrt_d_is_named_in_a_pair(d):
    Q, K, V = rng(5).normal(size=(3, d)), rng(6).normal(size=(5, d)), rng(7).normal(size=(5, 2))
    report = gv.check_pair(attention_forward, P(attention_backward, bug=True), Q, K, V)
    for name in ("Q", "K"):
        [finding] = findings(report, name)
        assert finding.cause == "missing_sqrt_scale" and f"sqrt({d})" in finding
    assert [r.status for r in report.results if r.name == "V"] == ["PASS"]
    # sqrt(4) = 2 is not "a factor 2 counted twice"; sqrt(9) = 3 is not the batch of 3 queries
    assert not {"factor_2", "missing_batch_division"} & every_cause(report)
    if d == 9:
        [finding] = findings(report, "Q")
        assert "batch size (3)" in finding.evidence and finding.confidence < 0.95  # the other fit is said


def test_a_forgotten_inverse_sqrt_d_is_named_in_a_function():
    q, k = gv.Tensor(rng(8).normal(size=(3, 4)), label="q"), gv.Tensor(rng(9).normal(size=(6, 4)), label="k")
    report = gv.check(lambda a, b: scores_function(bug=True).apply(a, b), q, k)
    for name in ("q", "k"):
        assert findings(report, name)[0].cause == "missing_sqrt_scale"
    assert "factor_2" not in every_cause(report)


def test_correct_attention_gets_no_finding():
    Q, K, V = rng(5).normal(size=(3, 9)), rng(6).normal(size=(5, 9)), rng(7).normal(size=(5, 2))
    assert_silent(gv.check_pair(attention_forward, attention_backward, Q, K, V))
    q, k = gv.Tensor(rng(8).normal(size=(3, 4)), label="q"), gv.Tensor(rng(9).normal(size=(6, 4)), label="k")
    assert_silent(gv.check(lambda a, b: scores_function().apply(a, b), q, k))


def half_squared_error(pred, target):
    return 0.5 * np.sum((pred - target) ** 2), (pred, target)


def half_squared_error_backward(dout, cache):
    pred, target = cache
    return 2 * dout * (pred - target)  # the 2 of the square, although the 1/2 cancels it


def test_a_factor_2_with_a_square_in_the_code_is_still_named():
    pred, target = rng(10).normal(size=(4, 4)), rng(11).normal(size=(4, 4))
    report = gv.check_pair(half_squared_error, half_squared_error_backward, pred, target, wrt="pred")
    [finding] = findings(report, "pred")
    assert finding.cause == "factor_2"  # 4 = sqrt(16)? no: the code has no square root, and it has the square


def test_two_equal_fits_are_both_said_with_a_lower_confidence():
    true = rng(12).normal(size=(2, 3))
    [finding] = diagnose(true * 2, true, Context(batch=2))
    assert finding.confidence <= 0.6
    assert "more than one cause fits" in finding and "batch size (2)" in finding and "factor 2" in finding


def test_the_batch_is_not_named_alone_when_the_square_root_of_another_axis_explains_the_ratio():
    """Code that cannot be read: 3 is the batch of 3 queries and sqrt(9) of their width; both are said."""
    true = rng(13).normal(size=(3, 9))
    [finding] = diagnose(true * 3, true, Context(name="Q", batch=3, wrt=np.zeros((3, 9))))
    assert finding.confidence <= 0.6 and "more than one cause fits" in finding
    assert "batch size (3)" in finding and "sqrt(9)" in finding
    narrow = rng(14).normal(size=(3, 5))
    [finding] = diagnose(narrow * 3, narrow, Context(name="Q", batch=3, wrt=np.zeros((3, 5))))
    assert finding.cause == "missing_batch_division" and finding.confidence >= 0.9  # no axis of 9: the batch
