"""Naming the cause stays cheap: the diagnosis reuses what the check measured instead of calling user code again,
and its cheap first tests (a few elements, one column, two rows) never rule out a cause the full test names."""

from __future__ import annotations

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking import contexts
from gradviz.checking.diagnosis import Context, diagnose
from gradviz.checking.diagnosis.jacobian import EPSILONS
from gradviz.checking.diagnosis.samples import per_sample_gradients
from diagnosis_layers import Dense


def rng(seed=0):
    return np.random.default_rng(seed)


class Counted(Dense):
    """The test suite's dense layer, counting how often gradviz runs its forward and its backward.

    Counted on the class: gradviz may run copies of the object it was given."""

    calls = {"forward": 0, "backward": 0}
    douts: list = []  # every upstream gradient backward was given, in order

    def forward(self, inputs):
        Counted.calls["forward"] += 1
        return super().forward(inputs)

    def backward(self, dvalues):
        Counted.calls["backward"] += 1
        Counted.douts.append(np.array(dvalues, dtype=np.float64))
        if self.bug == "dout_ignored":  # the chain rule forgotten in both parameter gradients
            x = self.inputs
            self.dweights, self.dbiases = x.T @ np.ones_like(dvalues), np.ones_like(dvalues).sum(axis=0)
            self.dinputs = dvalues @ self.weights.T
            return self.dinputs
        return super().backward(dvalues)


def counted(check) -> dict:
    """How often `check()` ran the forward and the backward of Counted layers."""
    Counted.calls.update(forward=0, backward=0)
    Counted.douts.clear()
    check()
    return dict(Counted.calls)


def causes(report, name):
    return [d.cause for r in report.results if r.name == name for d in r.diagnosis]


@pytest.mark.parametrize("bug, cause", [("first_sample_only", "first_sample_only"),
                                        ("last_sample_skipped", "last_sample_skipped")])
def test_the_per_sample_split_costs_no_forward_of_its_own(bug, cause):
    x = rng(1).normal(size=(8, 6))
    reports = []
    correct = counted(lambda: reports.append(gv.check_layer(Counted(6, 4), x)))
    wrong = counted(lambda: reports.append(gv.check_layer(Counted(6, 4, bug=bug), x)))
    assert reports[0].ok and causes(reports[1], "weights") == [cause]
    assert correct["forward"] > 2 * (6 * 4 + 4)  # (the probe's evaluations are counted)
    # One more backward (dout doubled: the chain-rule hypothesis), which the layer adapter runs after a forward;
    # the split itself runs no forward (measured alone it costs 2 per element: 24 here)
    assert wrong["backward"] - correct["backward"] == 1 and wrong["forward"] - correct["forward"] == 1


def test_the_split_read_from_the_probe_equals_its_own_finite_differences(monkeypatch):
    import gradviz.checking.pipeline as pipeline

    seen = []

    def spy(*args):  # the real context_for, its arguments and result kept
        seen.append((args, contexts.context_for(*args)))
        return seen[-1][1]

    monkeypatch.setattr(pipeline, "context_for", spy)
    gv.check_layer(Dense(6, 4, bug="first_sample_only"), rng(2).normal(size=(8, 6)))
    assert {ctx.name for _, ctx in seen} == {"weights"}  # the passing inputs' diagnoses need no Context
    gv.check_layer(Counted(6, 4, bug="dout_ignored"), rng(2).normal(size=(8, 6)))  # both parameters fail
    split = [(args, ctx) for args, ctx in seen if ctx.per_sample is not None]
    assert sorted(ctx.name for _, ctx in split) == ["biases", "weights", "weights"]
    for (subject, arrays, k, out, cot, batch, tol, aids), ctx in split:
        elements = list(range(arrays[k].size))
        recorded = ctx.per_sample(elements=elements)
        measured = per_sample_gradients(subject.output, arrays, k, cot, subject.batch_axis, tol.eps, elements)
        assert aids.probed is not None and aids.probed.complete
        np.testing.assert_allclose(recorded, measured, rtol=1e-12, atol=1e-12)
        # the per-sample parts add up to the whole gradient, against the closed form x.T @ dout / dout.sum(0)
        x = arrays[subject.names.index("inputs")]
        whole = (x.T @ cot).reshape(-1) if ctx.name == "weights" else cot.sum(axis=0)
        np.testing.assert_allclose(recorded.sum(axis=0), whole, rtol=1e-6, atol=1e-8)


def test_one_doubled_dout_answers_every_failing_input():
    reports = []
    calls = counted(lambda: reports.append(gv.check_layer(Counted(5, 3, bug="dout_ignored"),
                                                          rng(3).normal(size=(6, 5)))))
    assert causes(reports[0], "weights") == causes(reports[0], "biases") == ["chain_rule_forgotten"]
    douts = list(Counted.douts)
    doubled = [d for d in douts if any(e.shape == d.shape and e.any() and np.array_equal(d, 2 * e) for e in douts)]
    assert len(doubled) == 1  # one backward with dout doubled answers both diagnoses
    zero = [d for d in douts if not d.any()]
    plain = counted(lambda: gv.check_layer(Counted(5, 3), rng(3).normal(size=(6, 5))))
    # and one with dout = 0: the confirm stage tells a backward affine in dout (this bug) from one not linear at all
    assert len(zero) == 1 and not any(not d.any() for d in Counted.douts)
    # and two (3 * dout, then 5 * dout), once for both inputs, telling a total never zeroed from an ignored dout
    tripled = [d for d in douts if any(e.shape == d.shape and e.any() and np.array_equal(d, 3 * e) for e in douts)]
    assert len(tripled) == 1
    assert calls["backward"] == plain["backward"] + 4


def _normalize(x, axis, eps, gamma, beta):
    mean, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta, np.sqrt(var + eps)


def _true_gradient(x, g, axis, eps, gamma, beta, h=1e-6):
    """Central differences of sum(normalize(x) * g): the oracle, independent of any backward formula."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (np.sum(_normalize(up, axis, eps, gamma, beta)[0] * g)
                  - np.sum(_normalize(down, axis, eps, gamma, beta)[0] * g)) / (2 * h)
    return out


@pytest.mark.parametrize("eps", EPSILONS.tolist())
@pytest.mark.parametrize("axis, kind", [(-1, "layer norm"), (0, "batch norm")])
def test_a_normalization_is_recognised_at_every_eps_it_may_add(axis, kind, eps):
    r = rng(4)
    x, g = r.normal(size=(6, 5)), r.normal(size=(6, 5))
    gamma, beta = np.linspace(0.5, 1.5, 5), np.linspace(-0.2, 0.2, 5)
    y, std = _normalize(x, axis, eps, gamma, beta)
    true = _true_gradient(x, g, axis, eps, gamma, beta)
    context = Context(name="x", wrt=x, inputs={"x": x, "gamma": gamma, "beta": beta}, output=y, cotangent=g)
    [finding] = diagnose(g * gamma / std, true, context)  # mean and variance treated as constants
    assert finding.cause == "jacobian_diagonal_only" and finding.startswith(kind)
    assert diagnose(true, true, context) == []


def test_a_transposed_gradient_among_near_equal_numbers_is_still_named():
    """The sorted-numbers test that rules rearrangements out lets every true transpose through."""
    true = rng(5).normal(size=(4, 6)) * 1e-3 + 1.0  # close numbers: sorting cannot tell them apart
    [finding] = diagnose(true.T.copy(), true, Context(name="dW"))
    assert finding.cause == "transposed"
