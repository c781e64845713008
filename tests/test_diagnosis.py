"""The diagnosis library: each cause planted in a small realistic layer, named; correct code gets none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
import pickle
import re

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis import NO_PATTERN, Context, Finding, diagnose
from gradviz.checking.diagnosis.catalogue import CAUSES, every_cause
from oracles import wrong_tanh


def rng(seed=0):
    return np.random.default_rng(seed)


# --- the Finding type and the entry point ------------------------------------------------------

def test_a_finding_reads_as_its_sentence_and_carries_its_fields():
    f = Finding("it is 1/5 of the true gradient", cause="extra_batch_division", evidence="ratio 0.2",
                confidence=0.95)
    assert f == "it is 1/5 of the true gradient" and "1/5" in f and f"{f}".startswith("it is")
    assert (f.cause, f.evidence, f.confidence) == ("extra_batch_division", "ratio 0.2", 0.95)
    back = pickle.loads(pickle.dumps(f))
    assert back == f and back.cause == "extra_batch_division"
    assert json.loads(json.dumps(f.to_dict()))["confidence"] == 0.95


def test_agreeing_gradients_get_no_diagnosis():
    true = rng().normal(size=(4, 3))
    assert diagnose(true * (1 + 1e-7), true, Context(batch=4)) == []


def test_a_constant_factor_names_the_batch_and_keeps_the_old_keywords():
    true = rng().normal(size=(5, 3))
    [finding] = diagnose(true / 5, true, batch=5)
    assert finding.cause == "extra_batch_division" and "batch size (5) once too often" in finding
    assert "0.2" in finding.evidence
    [missing] = diagnose(true * 5, true, Context(batch=5))
    assert missing.cause == "missing_batch_division"


@pytest.mark.parametrize("factor, cause", [(-1.0, "sign_flip"), (2.0, "factor_2"), (0.5, "factor_half"),
                                           (1 / np.log(2), "log_base"), (np.log(2), "log_base")])
def test_meaningful_constants_are_named(factor, cause):
    true = rng(1).normal(size=(3, 4))
    [finding] = diagnose(true * factor, true, Context())
    assert finding.cause == cause


def test_an_unnamed_constant_is_still_reported_as_a_constant():
    true = rng(2).normal(size=6)
    [finding] = diagnose(true * 3.7, true, Context())
    assert finding.cause == "constant_factor" and "3.7" in finding


def test_per_window_and_per_channel_counts_are_named():
    true = rng(3).normal(size=(2, 3, 4, 4))
    [window] = diagnose(true * 4, true, Context(attrs={"kernel_size": 3}))
    assert window.cause == "constant_factor"  # 4 is no count here: a 3x3 window has 9
    [nine] = diagnose(true / 9, true, Context(attrs={"kernel_size": 3}))
    assert nine.cause == "extra_window_division" and "(9)" in nine
    [channel] = diagnose(true * 32, true, Context())  # N*H*W = 2*4*4
    assert channel.cause == "missing_channel_division" and "32" in channel


def test_a_square_transposed_gradient_is_named():
    true = rng(4).normal(size=(4, 4))
    [finding] = diagnose(true.T, true, Context(name="dW"))
    assert finding.cause == "transposed"


def test_a_zero_gradient_says_nothing_arrived():
    [finding] = diagnose(np.zeros(5), rng(5).normal(size=5), Context())
    assert finding.cause == "all_zero" and "nothing reached this input" in finding


def test_border_only_errors_point_at_the_padding_slice():
    true = rng(6).normal(size=(1, 2, 5, 5))
    user = true.copy()
    user[:, :, 0, :] = 0.0
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "border"


def test_when_nothing_fits_it_says_so_and_where_the_largest_errors_are():
    true = rng(7).normal(size=(3, 3))
    user = true.copy()
    user[1, 2] += 4.0
    user[0, 0] -= 0.5
    [finding] = diagnose(user, true, Context())
    assert finding.cause == NO_PATTERN and finding.confidence == 0.0
    assert finding.startswith("no simple pattern: the largest errors are at [1,2]") and "2 of 9" in finding


def test_nan_in_backward_is_named():
    true = rng(8).normal(size=4)
    user = true.copy()
    user[2] = np.nan
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "nonfinite" and "[2]" in finding


def test_the_report_json_lists_cause_evidence_and_confidence():
    class Dense:  # a course-style dense layer that divides by the batch twice
        def __init__(self):
            self.W = rng(9).normal(size=(3, 2))
            self.b = np.zeros(2)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            m = self.x.shape[0]
            self.dW = self.x.T @ dout / m
            self.db = dout.sum(axis=0)
            return dout @ self.W.T

    report = gv.check_layer(Dense(), rng(10).normal(size=(4, 3)))
    entry = json.loads(json.dumps(report.to_dict()))["inputs"][1]
    assert entry["name"] == "W" and entry["status"] == "FAIL"
    [diagnosis] = entry["diagnosis"]
    assert diagnosis["cause"] == "extra_batch_division" and diagnosis["confidence"] > 0.9
    assert "0.25" in diagnosis["evidence"] and "batch size (4)" in diagnosis["message"]


# --- each cause planted in a small course-style layer ------------------------------------------

from diagnosis_layers import (Abs, Conv, Dense, Exp, LayerNorm, Log, MaxPool2x2, ReLU, Sigmoid,  # noqa: E402
                              Softmax, SoftmaxCrossEntropy, Tanh)


def causes(report, name=None):
    """The causes found for one gradient; by default the layer input's (named after forward's argument)."""
    [result] = [r for r in report.results if r.name == name] if name else report.results[:1]
    found = [d.cause for d in result.diagnosis]
    assert set(found) <= set(CAUSES), f"{found} are not in the catalogue of causes"
    return found


def assert_correct(report):
    assert report.ok, str(report)
    assert all(not r.diagnosis for r in report.results)


@pytest.mark.parametrize("layer, x", [
    (Tanh, lambda: rng(11).normal(size=(4, 5))),
    (Sigmoid, lambda: rng(12).normal(size=(4, 5))),
    (Log, lambda: rng(13).uniform(0.5, 3.0, size=(3, 4))),
    (Exp, lambda: rng(14).normal(size=(3, 4))),
    (ReLU, lambda: rng(15).normal(size=(4, 5))),
    (Abs, lambda: rng(16).normal(size=(4, 5))),
    (Softmax, lambda: rng(17).normal(size=(3, 5))),
    (MaxPool2x2, lambda: rng(18).normal(size=(2, 2, 4, 4))),
])
def test_correct_elementwise_and_pooling_layers_get_no_diagnosis(layer, x):
    assert_correct(gv.check_layer(layer(), x()))


@pytest.mark.parametrize("bug", ["one_minus_y", "pre_activation", "output_for_input"])
def test_tanh_derivative_in_the_wrong_variable(bug):
    report = gv.check_layer(Tanh(bug), rng(11).normal(size=(4, 5)))
    assert causes(report) == [bug]
    assert "wrong variable" in report.verdict


def test_sigmoid_written_on_z_instead_of_sigmoid_z():
    report = gv.check_layer(Sigmoid("pre_activation"), rng(12).normal(size=(4, 5)))
    [finding] = report.results[0].diagnosis
    assert finding.cause == "pre_activation" and "Z used where sigmoid(Z) belongs" in finding


def test_sigmoid_with_half_of_its_product_dropped():
    report = gv.check_layer(Sigmoid("dropped_product_term"), rng(12).normal(size=(4, 5)))
    assert causes(report) == ["dropped_product_term"]


@pytest.mark.parametrize("layer, x", [(Log, rng(13).uniform(0.5, 3.0, size=(3, 4))),
                                      (Exp, rng(14).normal(size=(3, 4)))])
def test_log_and_exp_derivatives_written_on_the_output(layer, x):
    assert causes(gv.check_layer(layer("output_for_input"), x)) == ["output_for_input"]


def test_relu_mask_forgotten_is_lined_up_with_the_negative_inputs():
    report = gv.check_layer(ReLU("mask_forgotten"), rng(15).normal(size=(4, 5)))
    [finding] = report.results[0].diagnosis
    assert finding.cause == "mask_forgotten" and "x <= 0" in finding


def test_relu_mask_inverted():
    assert causes(gv.check_layer(ReLU("mask_inverted"), rng(15).normal(size=(4, 5)))) == ["mask_inverted"]


def test_relu_mask_taken_from_dout_instead_of_the_input():
    [finding] = gv.check_layer(ReLU("mask_wrong_tensor"), rng(15).normal(size=(4, 5))).results[0].diagnosis
    assert finding.cause == "mask_wrong_tensor" and "dout <= 0" in finding and "x <= 0" in finding


def test_a_sign_flip_on_the_negative_inputs_says_what_they_have_in_common():
    [finding] = gv.check_layer(Abs("sign"), rng(16).normal(size=(4, 5))).results[0].diagnosis
    assert finding.cause == "sign_flip_subset" and "exactly where x < 0" in finding


def test_a_sign_flip_on_whole_rows_names_the_rows():
    true = rng(19).normal(size=(4, 3))
    user = true.copy()
    user[2] *= -1
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "sign_flip_subset" and "on row 2," in finding and "rows 2" not in finding
    user[0] *= -1
    [finding] = diagnose(user, true, Context())
    assert "on rows 0, 2," in finding


def test_wrong_indices_along_an_unnamed_axis_read_as_english():
    """A 3-axis gradient wrong in some indices of axis 1: 'indices along axis 1', never 'index along axis 1s'."""
    true = rng(19).normal(size=(2, 5, 3))
    user = true.copy()
    user[:, 1:4] *= rng(20).uniform(1.5, 2.5, size=(2, 3, 3))
    [finding] = diagnose(user, true, Context())
    assert finding.cause == "no_pattern" and "only in indices 1, 2, 3 along axis 1 (of 5)" in finding
    assert "axis 1s" not in finding
    user = true.copy()
    user[:, 2] += 1.0
    [finding] = diagnose(user, true, Context())
    assert "only in index 2 along axis 1 (of 5)" in finding


def test_one_term_of_the_loss_gradient_with_the_wrong_sign():
    scores, y = rng(20).normal(size=(4, 3)), np.array([0, 2, 1, 2])
    report = gv.check_loss(SoftmaxCrossEntropy("sign_of_one_term"), scores, y)
    [finding] = report.results[0].diagnosis
    assert finding.cause == "wrong_term" and "onehot(y)" in finding and "0.5" in finding  # 2 / batch
    assert_correct(gv.check_loss(SoftmaxCrossEntropy(), scores, y))


@pytest.mark.parametrize("bug", ["pool_every_element", "pool_averaged", "pool_wrong_element"])
def test_max_pool_gradient_routed_wrong(bug):
    assert causes(gv.check_layer(MaxPool2x2(bug), rng(18).normal(size=(2, 2, 4, 4)))) == [bug]


def test_max_pool_with_its_stride_forgotten_in_backward():
    report = gv.check_layer(MaxPool2x2("forgotten_stride"), rng(18).normal(size=(1, 2, 6, 6)))
    assert causes(report) == ["forgotten_stride"]


def test_max_pool_in_nhwc_is_diagnosed_in_its_own_layout():
    class NHWCPool:
        def __init__(self):
            self.inner = MaxPool2x2("pool_wrong_element")

        def forward(self, x):
            return self.inner.forward(x.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)

        def backward(self, dout):
            return self.inner.backward(dout.transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)

    report = gv.check_layer(NHWCPool(), rng(21).normal(size=(2, 4, 4, 3)), layout="NHWC")
    assert causes(report) == ["pool_wrong_element"]


def conv(bug=None, stride=2, pad=1):
    r = rng(22)
    return Conv(r.normal(size=(3, 2, 3, 3)), r.normal(size=3), stride=stride, pad=pad, bug=bug)


def test_a_correct_naive_conv_gets_no_diagnosis():
    assert_correct(gv.check_layer(conv(), rng(23).normal(size=(2, 2, 5, 5)), params=["w", "b"]))


@pytest.mark.parametrize("bug", ["flipped_kernel", "forgotten_stride", "crop_off_by_one"])
def test_conv_input_gradient_slips(bug):
    report = gv.check_layer(conv(bug), rng(23).normal(size=(2, 2, 5, 5)), params=["w", "b"])
    assert causes(report) == [bug]


def test_conv_kernel_gradient_flipped():
    report = gv.check_layer(conv("dw_flipped"), rng(23).normal(size=(2, 2, 5, 5)), params=["w", "b"])
    assert causes(report, "w") == ["flipped_kernel"] and report.results[0].status == "PASS"


def test_swapped_kernel_channels_are_named():
    true = rng(24).normal(size=(3, 2, 3, 3))
    [finding] = diagnose(true.transpose(1, 0, 2, 3), true, Context(name="dw"))
    assert finding.cause == "swapped_channels"


def test_softmax_backward_keeping_only_the_diagonal():
    report = gv.check_layer(Softmax("diagonal"), rng(17).normal(size=(3, 5)))
    assert causes(report) == ["jacobian_diagonal_only"]


def test_layer_norm_backward_treating_mean_and_variance_as_constants():
    layer = LayerNorm(5, "constants")
    report = gv.check_layer(layer, rng(25).normal(size=(4, 5)), params=["gamma", "beta"])
    [finding] = report.results[0].diagnosis
    assert finding.cause == "jacobian_diagonal_only" and "layer norm" in finding
    assert_correct(gv.check_layer(LayerNorm(5), rng(25).normal(size=(4, 5)), params=["gamma", "beta"]))


def test_regularization_in_the_gradient_but_not_in_the_loss():
    report = gv.check_layer(Dense(3, 2, bug="regularization", reg=0.1), rng(26).normal(size=(5, 3)))
    [finding] = [r for r in report.results if r.name == "weights"][0].diagnosis
    assert finding.cause == "regularization_mismatch" and "0.1 * weights" in finding


def test_a_correct_dense_layer_gets_no_diagnosis():
    assert_correct(gv.check_layer(Dense(3, 2), rng(26).normal(size=(5, 3))))


@pytest.mark.parametrize("bug, cause", [("first_sample_only", "first_sample_only"),
                                        ("last_sample_skipped", "last_sample_skipped")])
def test_parameter_gradient_from_a_subset_of_the_samples(bug, cause):
    report = gv.check_layer(Dense(3, 2, bug=bug), rng(26).normal(size=(5, 3)))
    assert causes(report, "weights") == [cause]


def test_input_gradient_with_its_last_row_skipped():
    report = gv.check_layer(Dense(3, 2, bug="dx_last_row_skipped"), rng(26).normal(size=(5, 3)))
    assert causes(report) == ["last_sample_skipped"]


def test_a_non_square_transposed_gradient_is_named_with_both_shapes():
    true = rng(27).normal(size=(4, 5))
    [finding] = diagnose(true.T, true, Context(name="dW"))
    assert finding.cause == "transposed" and "(5, 4)" in finding and "(4, 5)" in finding


def test_a_permuted_image_gradient_is_named():
    true = rng(28).normal(size=(2, 3, 4, 5))
    [finding] = diagnose(true.transpose(0, 2, 3, 1), true, Context())
    assert finding.cause == "permuted_axes" and "(0, 3, 1, 2)" in finding


def test_a_reshape_used_for_a_transpose_is_named():
    true = rng(29).normal(size=(3, 5))
    [finding] = diagnose(true.T.reshape(3, 5), true, Context())
    assert finding.cause == "reshape_for_transpose"


def test_float32_arithmetic_in_backward_is_named():
    x = 1000 + 0.01 * rng(30).normal(size=20)  # readings around an offset: float32 keeps ~4 digits of x - 1000

    def f(v):
        return float(np.sum(50 * (v - 1000) ** 2))

    def grad_f(v):
        return (100 * (v.astype(np.float32) - 1000)).astype(np.float64)

    report = gv.check_grad_fn(f, grad_f, x)
    assert not report.ok and [d.cause for d in report.results[0].diagnosis] == ["float32"]


def test_an_error_only_at_a_kink_is_named():
    class BadReLU(ReLU):
        def backward(self, dout):
            return dout * ((self.x > 0) + 2.0 * (self.x == 0))

    x = rng(31).normal(size=(3, 4))
    x[1, 2] = 0.0
    report = gv.check_layer(BadReLU(), x)
    assert causes(report) == ["kink"]


def test_where_the_true_gradient_is_zero_the_report_gives_the_absolute_error_only():
    report = gv.check_layer(ReLU("mask_forgotten"), rng(15).normal(size=(4, 5)))
    zero_rows = [row for row in report.rows() if row.finite == 0.0 or abs(row.finite) < 1e-8]
    assert zero_rows and all(row.status == "FAIL" and row.note == "should be 0 here" for row in zero_rows)
    assert all(row.to_dict()["rel_err"] is None and row.to_dict()["abs_err"] > 0 for row in zero_rows)
    text = str(report)
    assert "should be 0 here" in text and "e+1" not in text  # no 1e+12-sized relative errors
    assert "should be 0 here" in report.to_markdown()


def test_the_text_report_shows_each_finding_with_its_evidence():
    text = " ".join(str(gv.check_layer(Tanh("one_minus_y"), rng(11).normal(size=(4, 5)))).split())  # unwrapped
    assert "diagnosis: the derivative is written in terms of the wrong variable: tanh' written as 1 - y" in text
    assert "evidence: the output is tanh(input)" in text


def test_the_broken_layer_example_gets_named_causes_and_its_correct_layer_none():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    import broken_layer

    reports = broken_layer.main()
    assert all(not r.diagnosis for r in reports[None].results)
    named = {bug: {d.cause for r in rep.results for d in r.diagnosis} for bug, rep in reports.items() if bug}
    assert named == {"batch": {"extra_batch_division"}, "transpose": {"transposed"}, "sign": {"sign_flip"}}


@pytest.mark.slow
def test_no_op_or_layer_of_the_self_test_gets_a_diagnosis():
    from gradviz import selftest

    reports = [outcome.report for _, outcome in selftest.run() if outcome.report is not None]
    assert len(reports) > 50
    assert [r.subject for r in reports if any(res.diagnosis for res in r.results)] == []
    assert [(r.subject, n.where) for r in reports for n in r.nodes if n.diagnosis] == []


# --- gv.check: the first wrong node is diagnosed from what it saw -------------------------------

class XSin(gv.Function):
    """x * sin(x), whose backward forgot the product rule's sin(x) term."""

    elementwise = True

    @staticmethod
    def forward(x):
        return x * np.sin(x)

    @staticmethod
    def backward(grad, x, out):
        return (grad * x * np.cos(x),)

    @staticmethod
    def symbolic(x):
        import sympy

        return x * sympy.sin(x)


class Sinc(gv.Function):
    """sin(x) / x, whose backward forgot the derivative of the denominator."""

    elementwise = True

    @staticmethod
    def forward(x):
        return np.sin(x) / x

    @staticmethod
    def backward(grad, x, out):
        return (grad * np.cos(x) / x,)

    @staticmethod
    def symbolic(x):
        import sympy

        return sympy.sin(x) / x


Tanh2 = wrong_tanh()  # tanh' written as 1 - out


def test_a_dropped_product_rule_term_is_replayed_on_the_twin():
    x = gv.Tensor(rng(40).normal(size=5), label="x")
    report = gv.check(lambda t: XSin.apply(t).sum(), x)
    [finding] = report.first_bad_node.diagnosis
    assert finding.cause == "dropped_rule_term" and "product rule" in finding and "x" in finding
    assert report.to_dict()["first_bad_node"]["diagnosis"][0]["cause"] == "dropped_rule_term"


def test_a_dropped_quotient_rule_term_is_replayed_on_the_twin():
    x = gv.Tensor(rng(41).uniform(0.5, 2.0, size=5), label="x")
    [finding] = gv.check(lambda t: Sinc.apply(t).sum(), x).first_bad_node.diagnosis
    assert finding.cause == "dropped_rule_term" and "quotient rule" in finding and "denominator x" in finding


def test_a_custom_op_in_the_wrong_variable_is_diagnosed_on_its_node():
    x = gv.Tensor(rng(42).normal(size=(2, 3)), label="x")
    [finding] = gv.check(lambda t: Tanh2.apply(t).sum(), x).first_bad_node.diagnosis
    assert finding.cause == "one_minus_y"


def test_the_drawing_names_the_cause_on_the_failing_node():
    x = gv.Tensor(rng(42).normal(size=(2, 3)), label="x")
    report = gv.check(lambda t: Tanh2.apply(t).sum(), x)
    svg = report.draw().pipe(format="svg").decode()
    node = report.first_bad_node
    assert "first wrong rule" in svg and "tanh&#39; written" in svg.replace("'", "&#39;")
    source = report.draw().source
    [line] = [ln for ln in source.splitlines() if f"o{node.node_id} " in ln and "first wrong rule" in ln]
    assert "1 - y instead of 1 - y**2" in line.replace("\\n", " ").replace("\n", " ")


# --- the command line -----------------------------------------------------------------------

TANH_FILE = """
import numpy as np


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * (1 - self.out)
"""


def gradviz_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_the_cli_prints_the_diagnosis_in_text_json_and_markdown(tmp_path):
    (tmp_path / "act.py").write_text(TANH_FILE)
    target = ["check", "act.py:Tanh", "--input-shape", "4,5"]
    text = gradviz_cli(*target, cwd=tmp_path)
    assert text.returncode == 1 and "diagnosis: the derivative is written in terms of the wrong variable" in text.stdout
    data = json.loads(gradviz_cli(*target, "--json", cwd=tmp_path).stdout)
    [finding] = data["reports"][0]["inputs"][0]["diagnosis"]
    assert finding["cause"] == "one_minus_y" and finding["confidence"] > 0.9 and finding["evidence"]
    markdown = gradviz_cli(*target, "--markdown", cwd=tmp_path).stdout
    row = next(line for line in markdown.splitlines() if line.startswith("| `x` | (4, 5) |"))  # forward(self, x)
    assert "tanh' written as 1 - y instead of 1 - y**2" in row


def test_gradviz_causes_lists_the_catalogue(tmp_path):
    done = gradviz_cli("causes", cwd=tmp_path)
    assert done.returncode == 0
    for cause in ("extra_batch_division", "pool_wrong_element", "regularization_mismatch", "no_pattern"):
        assert cause in done.stdout
    for cause in ("chain_rule_forgotten", "repeated_indices_lost", "bias_counter_offset", "two_slips"):
        assert cause in done.stdout  # new gradient causes and the optimizer causes alike
    assert "e.g. dW[idx] += dout  # where np.add.at(dW, idx, dout) belongs" in done.stdout
    listed = json.loads(gradviz_cli("causes", "--json", cwd=tmp_path).stdout)
    assert set(listed) == set(every_cause()) and set(CAUSES) < set(listed)
    assert all(entry["example"] and entry["meaning"] for entry in listed.values())


def test_the_docs_page_shows_every_cause():
    page = (Path(__file__).resolve().parent.parent / "docs" / "diagnosis.md").read_text()
    missing = [cause for cause in every_cause() if f"`{cause}`" not in page]
    assert missing == []


def test_the_docs_page_runs_an_example_of_every_cause():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))
    import pages

    page = pages.EXECUTED.get("diagnosis.md") or pages.run_page(Path(pages.DOCS) / "diagnosis.md")
    shown = [output.text() for output in page.outputs]
    everything = "\n".join(shown)
    assert [c for c in every_cause() if not re.search(rf"\b{c}\b", everything)] == []
    planted = {"tanh, 1 - y": "one_minus_y", "tanh, 1 - x**2": "pre_activation", "no mask": "mask_forgotten",
               "corner": "pool_wrong_element", "no stride  x": "forgotten_stride", "crop       x": "crop_off_by_one",
               "l2": "regularization_mismatch", "[0, 2, 4]": "samples_missing", "average": "pool_not_averaged",
               "embedding": "repeated_indices_lost", "variance": "n_minus_one", "pool ties": "pool_all_ties",
               "t from 2": "bias_counter_offset", "t from 2, eps inside": "two_slips",
               "assign": "overlap_assigned", "updated": "used_after_update",
               "shared": "summed_as_shared"}
    lines = everything.splitlines()
    for label, cause in planted.items():
        [line] = [ln for ln in lines if ln.startswith(label + " ")]
        assert line.split()[len(label.split())] == cause, line


def _relu_forward(x):
    return np.maximum(0, x), x


def _relu_backward_precedence(dout, cache):
    x = cache
    return dout * x > 0  # meant dout * (x > 0): a comparison of the product, True/False


def test_a_comparison_where_a_product_belongs_is_a_fail_with_its_cause_not_a_refusal():
    x = np.random.default_rng(3).normal(size=(6, 5))
    report = gv.check_pair(_relu_forward, _relu_backward_precedence, x)
    assert report.status == "FAIL"
    causes = [d.cause for d in report.results[0].diagnosis]
    assert causes[0] == "boolean_gradient", causes
    assert "`dout * x > 0` means `(dout * x) > 0`" in report.verdict
    right = gv.check_pair(_relu_forward, lambda dout, cache: dout * (cache > 0), x)
    assert right.ok and not right.results[0].diagnosis  # the mask's 0s and 1s times dout are no such finding
