"""The causes of issue #23, each planted in course-style code and named through two entry points.

Every case runs a hand-written class or function pair and a gv.Function with the same slip:
the planted bug must be named for the gradient it breaks, and the correct op (bug=None) must
pass with no finding anywhere in its report. The reference each check compares with is
gradviz's finite differences of the user's own forward: an oracle independent of the slip.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis import NO_PATTERN, Context, diagnose
from gradviz.checking.diagnosis.catalogue import CAUSES

import diagnosis_ops as ops

sys.path.insert(0, str(Path(__file__).parent / "student_optimizers"))
from slips_optim import AdamOptimizer  # noqa: E402

P = functools.partial


def rng(seed):
    return np.random.default_rng(seed)


def T(label, data):
    return gv.Tensor(data, label=label)


def causes_of(report, name):
    [result] = [r for r in report.results if r.name == name]
    found = [d.cause for d in result.diagnosis]
    assert set(found) <= set(CAUSES), found
    return found


def assert_silent(report):
    assert report.ok, str(report)
    assert [r.name for r in report.results if r.diagnosis] == []
    assert [n.where for n in report.nodes if n.diagnosis] == []


X45, SQUARE, ROWS = rng(1).normal(size=(4, 5)), rng(2).normal(size=(4, 4)), rng(3).normal(size=(6, 4))
IDX = np.array([[0, 3, 1], [3, 3, 2]])  # index 3 repeats
TIES = rng(4).integers(0, 3, size=(2, 4, 4, 3)).astype(float)  # NHWC, small integers: tied maxima
NHWC = rng(5).normal(size=(2, 6, 6, 3))
IMAGES = rng(6).normal(size=(2, 3, 4, 5))
POSITIVE = rng(7).uniform(0.5, 2.0, size=(3, 4))
GAMMA = np.linspace(0.5, 2.0, 4)

# cause -> {entry point: (check(bug) -> report, the input whose gradient is wrong, the bug's name)}
CASES = {
    "chain_rule_forgotten": {
        "class": (lambda bug: gv.check_layer(ops.TanhLayer(bug), X45), "inputs"),
        "pair": (lambda bug: gv.check_pair(ops.affine_relu_forward, P(ops.affine_relu_backward, bug=bug), X45,
                                           rng(8).normal(size=(5, 3)), rng(9).normal(size=3)), "x"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.tanh_function(bug).apply(t), T("x", X45)), "x"),
    },
    "broadcast_kept": {
        "class": (lambda bug: gv.check_layer(ops.Linear(4, 4, bug), SQUARE), "b"),
        "pair": (lambda bug: gv.check_pair(ops.bias_forward, P(ops.bias_backward, bug=bug), SQUARE, GAMMA), "b"),
    },
    "wrong_reduction_axis": {
        "class": (lambda bug: gv.check_layer(ops.Linear(4, 4, bug), SQUARE), "b"),
        # a batch of 6 and 3 outputs: db has the batch's shape, (6,) for b's (3,)
        "class, not square": (lambda bug: gv.check_layer(ops.Linear(4, 3, bug), ROWS), "b"),
        "gv.Function": (lambda bug: gv.check(lambda a, b: ops.add_bias_function(bug).apply(a, b), T("x", SQUARE),
                                             T("b", GAMMA)), "b"),
    },
    "repeated_indices_lost": {
        "pair": (lambda bug: gv.check_pair(ops.word_embedding_forward, P(ops.word_embedding_backward, bug=bug), IDX,
                                           rng(10).normal(size=(5, 4))), "W"),
        "gv.Function": (lambda bug: gv.check(lambda w: ops.embedding_function(bug).apply(w, IDX.astype(float)),
                                             T("W", rng(10).normal(size=(5, 4)))), "W"),
    },
    "pool_all_ties": {
        "pair": (lambda bug: gv.check_pair(ops.pool_forward, P(ops.pool_backward, bug=bug), TIES,
                                           {"f": 2, "stride": 2}), "A_prev"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.nhwc_pool_function(bug).apply(t), T("x", TIES)), "x"),
    },
    "forgotten_stride": {  # NHWC, told only by the shapes and hparameters: no layout= anywhere
        "pair": (lambda bug: gv.check_pair(ops.pool_forward, P(ops.pool_backward, bug=bug), NHWC,
                                           {"f": 2, "stride": 2}), "A_prev"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.nhwc_pool_function(bug).apply(t), T("x", NHWC)), "x"),
    },
    "padding_kept": {
        "pair": (lambda bug: gv.check_pair(ops.conv_forward, P(ops.conv_backward, bug=bug), IMAGES[:, :2],
                                           rng(11).normal(size=(3, 2, 3, 3)), {"stride": 1, "pad": 1}), "x"),
        "gv.Function": (lambda bug: gv.check(lambda a, b: ops.conv_function(bug).apply(a, b), T("x", IMAGES[:, :2]),
                                             T("w", rng(11).normal(size=(3, 2, 3, 3)))), "x"),
    },
    "height_width_swapped": {
        "class": (lambda bug: gv.check_layer(ops.Flatten(bug), IMAGES), "x"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.flatten_function(bug).apply(t), T("x", IMAGES)), "x"),
    },
    "n_minus_one": {
        "class": (lambda bug: gv.check_layer(ops.Variance(bug), ROWS), "x"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.variance_function(bug).apply(t), T("x", ROWS)), "x"),
    },
    "factor_array_missing": {
        "class": (lambda bug: gv.check_layer(ops.BatchNorm(4, bug), ROWS, params=["gamma", "beta"]), "x"),
        "gv.Function": (lambda bug: gv.check(lambda a, g: ops.scale_function(bug).apply(a, g), T("x", ROWS),
                                             T("gamma", GAMMA)), "x"),
    },
    "factor_array_extra": {
        "class": (lambda bug: gv.check_layer(ops.ScaleLayer(GAMMA.copy(), bug), ROWS, params=["gamma"]), "x"),
        "gv.Function": (lambda bug: gv.check(lambda a, g: ops.scale_function(bug).apply(a, g), T("x", ROWS),
                                             T("gamma", GAMMA)), "x"),
    },
    "dropped_rule_term": {  # the normalization rule's terms
        "class": (lambda bug: gv.check_layer(ops.BatchNorm(4, bug), ROWS, params=["gamma", "beta"]), "x",
                  "dropped_mean_term"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.layer_norm_function(bug).apply(t), T("x", ROWS)), "x",
                        "dropped_variance_term"),
    },
    "transposed": {  # not square: the wrong shape, compared anyway
        "class": (lambda bug: gv.check_layer(ops.MatMul(rng(22).normal(size=(5, 3)), bug), X45), "W"),
        "gv.Function": (lambda bug: gv.check(lambda a, b: ops.matmul_function(bug).apply(a, b), T("x", X45),
                                             T("W", rng(22).normal(size=(5, 3)))), "W"),
    },
    "output_for_input": {  # sqrt and sin: activations of the op table with no slip list of their own
        "class": (lambda bug: gv.check_layer(ops.Sqrt(bug), POSITIVE), "x"),
        "gv.Function": (lambda bug: gv.check(lambda t: ops.sin_function(bug).apply(t), T("x", ROWS)), "x"),
    },
}
PLANTED = [(cause, entry) for cause, entries in CASES.items() for entry in entries]


def _case(cause, entry):
    run, name, *bug = CASES[cause][entry]
    return run, name, (bug[0] if bug else cause)


@pytest.mark.parametrize("cause, entry", PLANTED, ids=[f"{c}-{e}" for c, e in PLANTED])
def test_the_planted_slip_is_named(cause, entry):
    run, name, bug = _case(cause, entry)
    report = run(bug)
    assert not report.ok
    found = causes_of(report, name)
    assert found and found[0] == cause, (found, [str(d) for r in report.results for d in r.diagnosis])


@pytest.mark.parametrize("cause, entry", PLANTED, ids=[f"{c}-{e}" for c, e in PLANTED])
def test_the_correct_op_gets_no_finding(cause, entry):
    run, _, _ = _case(cause, entry)
    assert_silent(run(None))


def test_findings_say_what_to_do_in_the_users_names():
    report = gv.check_pair(ops.word_embedding_forward, P(ops.word_embedding_backward, bug="repeated_indices_lost"),
                           IDX, rng(10).normal(size=(5, 4)))
    [finding] = report.results[0].diagnosis
    assert "dW[x] += dout" in finding and "np.add.at(dW, x, dout)" in finding and "2 repeats" in finding
    report = gv.check_layer(ops.Linear(4, 4, "broadcast_kept"), SQUARE)
    [finding] = [r for r in report.results if r.name == "b"][0].diagnosis
    assert "shape (4, 4) where b has shape (4,)" in finding and "sum it over axis 0" in finding
    report = gv.check_layer(ops.Variance("n_minus_one"), ROWS)
    assert "N - 1 is used where N = 6 belongs" in report.results[0].diagnosis[0]
    report = gv.check_layer(ops.BatchNorm(4, "factor_array_missing"), ROWS, params=["gamma", "beta"])
    assert "a factor gamma is missing" in report.results[0].diagnosis[0]


def test_the_chain_rule_is_tested_by_doubling_dout():
    calls = []

    class Counting(ops.TanhLayer):
        def backward(self, dvalues):
            calls.append(dvalues.copy())
            return super().backward(dvalues)

    report = gv.check_layer(Counting("chain_rule_forgotten"), X45)
    [finding] = report.results[0].diagnosis
    assert "same gradient when dout is doubled" in finding.evidence or "doubled" in finding
    # backward was really asked with 2 * dout (among the calls of the confirm stage and of the check)
    assert any(np.allclose(c, 2 * d) for d in calls for c in calls if c.shape == d.shape and np.any(d))
    # the leaky slope's term added without dout: the chain rule is applied only in part
    pair = gv.check_pair(ops.affine_relu_forward, P(ops.affine_relu_backward, bug="chain_rule_forgotten"), X45,
                         rng(8).normal(size=(5, 3)), rng(9).normal(size=3))
    assert "the chain rule is applied only in part" in pair.results[0].diagnosis[0]
    # exactly one term without dout, the rest right: that term is singled out
    true = rng(20).normal(size=(4, 5))
    dout = rng(21).normal(size=(4, 5))
    [finding] = diagnose(true + 0.3, true, Context(cotangent=dout, vjp=lambda d: true * (d / dout) + 0.3))
    assert finding.cause == "chain_rule_forgotten" and "one term of backward ignores the upstream gradient" in finding


def test_a_wrong_op_inside_a_model_names_its_cause_at_every_input():
    """The 1 - y tanh slip in a gv.Function without a twin, in a 3-layer model: named on the node and the inputs."""
    import sympy  # noqa: F401  (the other ops of the model have twins)

    class Tanh(gv.Function):
        @staticmethod
        def forward(x):
            return np.tanh(x)

        @staticmethod
        def backward(grad, x, out):
            return (grad * (1 - out),)

    r = rng(12)
    x, w1, w2, w3 = (T(n, r.normal(size=s)) for n, s in (("x", (4, 3)), ("W1", (3, 5)), ("W2", (5, 5)),
                                                         ("W3", (5, 2))))
    report = gv.check(lambda a, b, c, d: (Tanh.apply(Tanh.apply(a @ b) @ c) @ d).sum(), x, w1, w2, w3)
    assert [d.cause for d in report.first_bad_node.diagnosis] == ["one_minus_y"]
    for name in ("x", "W1", "W2"):
        [finding] = [res for res in report.results if res.name == name][0].diagnosis
        assert finding.cause == "one_minus_y" and finding.startswith("the first wrong op is node #")


def test_a_torch_function_gets_the_same_causes():
    torch = pytest.importorskip("torch")

    class TanhNoDout(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return 1 - y ** 2  # grad never multiplied in

    report = gv.torch.check(TanhNoDout.apply, torch.tensor(X45))
    assert [d.cause for d in report.results[0].diagnosis] == ["chain_rule_forgotten"]


def test_when_nothing_fits_the_structure_of_the_error_is_described():
    class RowScaled(ops.Linear):
        def backward(self, dY):
            dx = super().backward(dY)
            self.dW[1] *= 1.7  # some slip no hypothesis knows
            return dx

    report = gv.check_layer(RowScaled(4, 3), rng(13).normal(size=(5, 4)))
    [finding] = [r for r in report.results if r.name == "W"][0].diagnosis
    assert finding.cause == NO_PATTERN
    assert "only in row 1 (of 4): yours is 1.7 times the true gradient there" in finding
    true = rng(14).normal(size=(2, 2, 4, 4))
    yours = true.copy()
    yours[:, :, 1::2, 0::2] = 0.0  # one position of every 2x2 window gets nothing
    [finding] = diagnose(yours, true, Context(attrs={"stride": (2, 2)}))
    assert "only at window position (1, 0) of each 2x2 window" in finding
    assert "yours is 0 there where the true gradient is not" in finding


def test_geometry_is_read_from_hparameters_and_shapes():
    from gradviz.checking.diagnosis.geometry import complete

    x, y = rng(15).normal(size=(2, 6, 6, 3)), rng(16).normal(size=(2, 3, 3, 3))
    ctx = complete(Context(inputs={"A_prev": x, "hparameters": {"f": 2, "stride": 2}}, output=y))
    assert (ctx.layout, ctx.attrs["kernel_size"], ctx.attrs["stride"]) == ("NHWC", (2, 2), (2, 2))
    ctx = complete(Context(inputs={"x": rng(17).normal(size=(2, 3, 8, 8)), "kernel_shape": (3, 3)}))
    assert (ctx.layout, ctx.attrs["kernel_size"]) == ("NCHW", (3, 3))
    ctx = complete(Context(inputs={"x": rng(18).normal(size=(2, 4, 8, 8)), "data_format": "channels_last"}))
    assert ctx.layout == "NHWC"  # a name says it: the shapes alone would not
    assert complete(Context(inputs={"x": rng(19).normal(size=(2, 4, 8, 5))})).layout is None  # unsure: says nothing


# --- optimizers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bugs, cause, words", [
    (("counter_starts_at_2",), "bias_counter_offset", "starts at 2 instead of 1"),
    (("counter_starts_at_2", "eps_inside_root"), "two_slips", "bias_counter_offset) and eps inside the square root"),
    (("no_bias_correction", "eps_inside_root"), "two_slips", "no bias correction (bias_correction_missing) and eps"),
])
def test_optimizer_counter_offsets_and_two_slips_at_once(bugs, cause, words):
    report = gv.check_optimizer(AdamOptimizer(bugs=bugs), kind="adam")
    first = next(r for r in report.results if r.status != "PASS")
    [finding] = first.diagnosis
    assert finding.cause == cause and words in finding and finding.confidence == 1.0


def _drive(kind, hp, user_hp, steps=4):
    """A Run whose parameters follow `kind` with `user_hp`, compared with `hp`: gradients of 0.5 * |w|^2."""
    from gradviz.checking.optimizers.driving import Run
    from gradviz.checking.optimizers.hypotheses import Context
    from gradviz.checking.optimizers.rules import trajectory

    start = {"w": np.array([1.0, -2.0, 0.5])}

    def gradients(step, params):
        return {k: v.copy() for k, v in params.items()}

    run = Run(start=start, trajectories=trajectory(kind, user_hp, start, gradients, steps), gradients=gradients)
    return Context(kind, hp, [run], 1e-9, 1e-12, {k: "given" for k in hp})


def test_a_correct_optimizer_gets_no_cause_and_causes_that_tie_share_their_confidence():
    from gradviz.checking.optimizers.hypotheses import explain

    assert explain(_drive("adam", {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
                          {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0})) == []
    # lr = 0.01 where 0.1 was asked: "lr applied twice" (0.1**2) and "lr is 0.01" both reproduce every step
    found = explain(_drive("sgd", {"lr": 0.1, "weight_decay": 0.0}, {"lr": 0.01, "weight_decay": 0.0}))
    assert {f.cause for f in found} == {"lr_applied_twice", "different_hyperparameter"}
    assert all(f.confidence == 0.5 for f in found)
    assert all("reproduces it too" in f.evidence for f in found)


# --- no correct op, layer or optimizer gets a finding -------------------------------------------------------------

def _correct_layer_reports():
    """Every correct layer, pair and gv.Function the diagnosis tests and course-code tests use, checked."""
    import diagnosis_layers as layers

    sys.path.insert(0, str(Path(__file__).parent / "course_code"))
    import cs231n_layers
    import dlfs_layers
    import nhwc_conv
    import nnfs_layers

    r = rng(30)
    x45, pos, images, w = r.normal(size=(4, 5)), r.uniform(0.5, 3.0, size=(3, 4)), r.normal(size=(2, 2, 4, 4)), \
        r.normal(size=(3, 2, 3, 3))
    yield gv.check_layer(layers.Tanh(), x45)
    yield gv.check_layer(layers.Sigmoid(), x45)
    yield gv.check_layer(layers.Log(), pos)
    yield gv.check_layer(layers.Exp(), x45)
    yield gv.check_layer(layers.ReLU(), x45)
    yield gv.check_layer(layers.Abs(), x45)
    yield gv.check_layer(layers.Softmax(), x45)
    yield gv.check_layer(layers.MaxPool2x2(), images)
    yield gv.check_layer(layers.Conv(w, r.normal(size=3), stride=2, pad=1), r.normal(size=(2, 2, 5, 5)),
                         params=["w", "b"])
    yield gv.check_layer(layers.LayerNorm(5), x45, params=["gamma", "beta"])
    yield gv.check_layer(layers.Dense(5, 2), x45)
    yield gv.check_loss(layers.SoftmaxCrossEntropy(), x45, np.array([0, 4, 1, 2]))
    for cause, entries in CASES.items():
        for run, *_ in entries.values():
            yield run(None)
    x, wt, b = r.normal(size=(4, 5)), r.normal(size=(5, 3)), r.normal(size=3)
    yield gv.check_pair(cs231n_layers.affine_forward, cs231n_layers.affine_backward, x, wt, b)
    yield gv.check_pair(cs231n_layers.batchnorm_forward, cs231n_layers.batchnorm_backward, r.normal(size=(6, 4)),
                        r.normal(size=4), r.normal(size=4), {"mode": "train"})
    yield gv.check_pair(cs231n_layers.conv_forward_naive, cs231n_layers.conv_backward_naive, images, w,
                        r.normal(size=3), {"stride": 1, "pad": 1})
    yield gv.check_pair(nhwc_conv.pool_forward, nhwc_conv.pool_backward, r.normal(size=(2, 4, 4, 2)), (2, 2),
                        stride=(2, 2), mode="max")
    yield gv.check_layer(nnfs_layers.Layer_Dense(5, 3), x45)
    yield gv.check_layer(dlfs_layers.Affine(r.normal(size=(5, 3)), r.normal(size=3)), x45)
    for op in (ops.tanh_function(), ops.sin_function(), ops.flatten_function()):
        data = images if op.__name__ == "FlattenColumns" else x45
        yield gv.check(lambda t: (op.apply(t) * 1.0).sum(), T("x", data))


def test_no_correct_op_layer_or_optimizer_gets_a_finding():
    reports = list(_correct_layer_reports())
    assert len(reports) > 40
    noisy = [(rep.subject, res.name, [str(d) for d in res.diagnosis]) for rep in reports for res in rep.results
             if res.diagnosis] + [(rep.subject, n.where) for rep in reports for n in rep.nodes if n.diagnosis]
    assert noisy == []
    assert all(rep.ok for rep in reports), [rep.subject for rep in reports if not rep.ok]

    from gradviz.checking.optimizers.conventions import Setup, detect
    from gradviz.checking.optimizers.hyperparameters import resolve
    from gradviz.checking.optimizers.hypotheses import Context as Drive, explain
    from test_optimizers import CORRECT

    for target, kind, _ in CORRECT + [(AdamOptimizer(), "adam", "")]:
        report = gv.check_optimizer(target, kind=kind)
        assert report.ok and all(not r.diagnosis for r in report.results), (target, str(report))
        runs = detect(target).drive(target, Setup(0, 5, {}))
        hp, origin = resolve(kind, {}, [s for run in runs for s in run.sources])
        assert explain(Drive(kind, hp, runs, 1e-9, 1e-12, origin)) == [], target


def test_a_regularization_term_in_the_loss_but_not_in_the_gradient():
    """The reverse of the Dense test in test_diagnosis: 0.5 * lam * |W|^2 in the loss, lam * W missing in the gradient."""
    r = rng(40)
    X, y, W = r.normal(size=(6, 4)), r.normal(size=(6, 2)), r.normal(size=(4, 2))
    lam = 0.3

    def cost(W):  # a ridge regression cost, as a course writes it
        return float(np.mean((X @ W - y) ** 2) + 0.5 * lam * np.sum(W ** 2))

    def cost_grad(W):
        return 2 * X.T @ (X @ W - y) / y.size  # + lam * W forgotten

    [finding] = gv.check_grad_fn(cost, cost_grad, W).results[0].diagnosis
    assert finding.cause == "regularization_mismatch" and "the loss has a regularization term" in finding
    assert "add 0.3 * W" in finding

    class Ridge(gv.Function):
        @staticmethod
        def forward(w):
            return cost(w)

        @staticmethod
        def backward(grad, w, out):
            return (grad * cost_grad(w),)

    report = gv.check(lambda w: Ridge.apply(w), T("W", W))
    assert [d.cause for d in report.results[0].diagnosis] == ["regularization_mismatch"]
    assert not gv.check_grad_fn(cost, lambda w: cost_grad(w) + lam * w, W).results[0].diagnosis
