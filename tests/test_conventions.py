"""Every way course code writes backward, checked as written: from Python with one call, from the CLI with flags.

The code under test lives in tests/course_code/: one small file per style (CS231n, nnfs,
deep-learning-from-scratch, deeplearning.ai, blog backward(grad, learning_rate) classes, NHWC
conv/pool functions, an optimizer-based layer library, minitorch Functions), each with a *_bug.py
twin holding a planted mistake. Oracles are central finite differences; expected diagnoses are the
factors the planted bugs introduce (a missing 1/N, a missing 2, swapped gradients).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv

CODE = Path(__file__).parent / "course_code"
sys.path.insert(0, str(CODE))

import blog_layers, blog_layers_bug  # noqa: E402
import cs231n_layers, cs231n_layers_bug  # noqa: E402
import dlai_step_by_step, dlai_step_by_step_bug  # noqa: E402
import dlfs_layers, dlfs_layers_bug  # noqa: E402
import minitorch_functions, minitorch_functions_bug  # noqa: E402
import mlfs_layers, mlfs_layers_bug  # noqa: E402
import nhwc_conv, nhwc_conv_bug  # noqa: E402
import nnfs_layers, nnfs_layers_bug  # noqa: E402
import two_layer_model  # noqa: E402

rng = np.random.default_rng(2)


def statuses(report):
    return {r.name: r.status for r in report.results}


def notes(report):
    return " ".join(report.notes)


# -- function pairs -------------------------------------------------------------------------------------------

def test_cache_style_affine_pair_names_the_forward_arguments():
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    report = gv.check_pair(cs231n_layers.affine_forward, cs231n_layers.affine_backward, x, w, b)
    assert report.ok and statuses(report) == {"x": "PASS", "w": "PASS", "b": "PASS"}
    assert "cache-style function pair" in notes(report)


def test_batchnorm_with_a_bn_param_dict_and_a_keepdims_dgamma_fails_alone():
    x, gamma, beta = rng.normal(size=(6, 4)), rng.normal(size=4), rng.normal(size=4)
    good = gv.check_pair(cs231n_layers.batchnorm_forward, cs231n_layers.batchnorm_backward, x, gamma, beta,
                         {"mode": "train"})
    assert good.ok, str(good)
    bad = gv.check_pair(cs231n_layers_bug.batchnorm_forward, cs231n_layers_bug.batchnorm_backward, x, gamma, beta,
                        {"mode": "train"})
    assert statuses(bad) == {"x": "PASS", "gamma": "FAIL", "beta": "PASS"}
    assert "batchnorm_backward returned dgamma of shape (1, 4); gamma has shape (4,)" in bad.verdict


def test_explicit_argument_nhwc_conv_with_an_activation_function_and_settings():
    A_prev, W, b = rng.normal(size=(2, 4, 4, 2)), rng.normal(size=(3, 3, 2, 3)), rng.normal(size=(1, 1, 1, 3))
    identity = lambda z: z  # noqa: E731 - conv_backward receives dZ, so the activation must be the identity
    report = gv.check_pair(nhwc_conv.conv_forward, nhwc_conv.conv_backward, A_prev, W, b, identity,
                           padding="same", stride=(1, 1))
    assert report.ok and set(statuses(report)) == {"A_prev", "W", "b"}
    assert "explicit arguments" in notes(report)
    bad = gv.check_pair(nhwc_conv_bug.conv_forward, nhwc_conv_bug.conv_backward, A_prev, W, b, identity,
                        padding="valid", stride=(1, 1))
    assert statuses(bad) == {"A_prev": "FAIL", "W": "PASS", "b": "PASS"}
    assert "conv_backward returned dA_prev of shape (2, 0, 0, 2); A_prev has shape (2, 4, 4, 2)" in bad.verdict


def test_pool_pair_with_kernel_shape_and_mode_passing_through():
    A_prev = rng.normal(size=(2, 4, 4, 2))
    for mode in ("max", "avg"):
        assert gv.check_pair(nhwc_conv.pool_forward, nhwc_conv.pool_backward, A_prev, (2, 2), stride=(2, 2),
                             mode=mode).ok
    bad = gv.check_pair(nhwc_conv_bug.pool_forward, nhwc_conv_bug.pool_backward, A_prev, (2, 2), stride=(2, 2),
                        mode="avg")
    assert not bad.ok and "a division by the number of elements per window (4) is missing" in bad.verdict


def test_deeplearning_ai_per_example_dz_is_named_and_checkable_in_its_convention():
    A, W, b = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 1))
    plain = gv.check_pair(dlai_step_by_step.linear_forward, dlai_step_by_step.linear_backward, A, W, b)
    assert statuses(plain) == {"A": "PASS", "W": "FAIL", "b": "FAIL"}
    assert "deeplearning.ai convention" in plain.verdict and "--per-example-dout" in plain.verdict
    assert "times a constant" not in plain.verdict
    assert gv.check_pair(dlai_step_by_step.linear_forward, dlai_step_by_step.linear_backward, A, W, b,
                         batch_axis=1, per_example_dout=True).ok
    bug = gv.check_pair(dlai_step_by_step_bug.linear_forward, dlai_step_by_step_bug.linear_backward, A, W, b,
                        batch_axis=1, per_example_dout=True)
    assert statuses(bug) == {"A": "PASS", "W": "PASS", "b": "FAIL"}
    assert "linear_backward returned db of shape (1, 3); b has shape (2, 1)" in bug.verdict


def test_a_none_gradient_fails_alone_and_a_crash_is_an_error_with_the_users_line():
    def affine_backward_partial(dout, cache):
        x, w, b = cache
        return dout @ w.T, None, dout.sum(axis=0)

    def affine_backward_crash(dout, cache):
        x, w, b = cache
        return dout @ w, x.T @ dout, dout.sum(axis=0)  # w, not w.T: shapes do not line up

    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    partial = gv.check_pair(cs231n_layers.affine_forward, affine_backward_partial, x, w, b)
    assert statuses(partial) == {"x": "PASS", "w": "FAIL", "b": "PASS"}
    assert "affine_backward_partial returned None for the gradient of w" in partial.verdict
    crash = gv.check_pair(cs231n_layers.affine_forward, affine_backward_crash, x, w, b)
    assert set(statuses(crash).values()) == {"ERROR"} and not crash.ok
    assert "affine_backward_crash raised ValueError" in crash.verdict and "test_conventions.py:" in crash.verdict


def test_a_forward_or_loss_raising_on_its_inputs_is_an_error_in_every_function_form():
    x, w_wrong, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 3)), rng.normal(size=3)
    pair = gv.check_pair(cs231n_layers.affine_forward, cs231n_layers.affine_backward, x, w_wrong, b)
    assert not pair.ok and pair.status == "ERROR"
    assert statuses(pair) == {"x": "ERROR", "w": "ERROR", "b": "ERROR"}
    assert "affine_forward raised ValueError" in pair.verdict
    loss = gv.check_loss(cs231n_layers.softmax_loss, rng.normal(size=(5, 10)), np.array([0, 1, 2, 3, 12]))
    assert not loss.ok and statuses(loss) == {"x": "ERROR"}
    grad = gv.check_grad_fn(blog_layers.mse, blog_layers.mse_prime, rng.normal(size=(4, 1)), rng.normal(size=(3, 1)))
    assert not grad.ok and grad.status == "ERROR" and "mse raised ValueError" in grad.verdict


def test_backward_writing_into_dout_is_a_warning_not_a_failure():
    def relu_forward(x):
        return np.maximum(x, 0), x

    def relu_backward(dout, cache):
        dout[cache <= 0] = 0  # in place: the caller's upstream gradient is changed
        return dout

    report = gv.check_pair(relu_forward, relu_backward, rng.normal(size=(3, 4)))
    assert report.ok
    assert any("relu_backward wrote into its dout argument in place" in w for w in report.warnings)


# -- classes ----------------------------------------------------------------------------------------------------

def test_nnfs_results_on_self():
    good = gv.check_layer(nnfs_layers.Layer_Dense(4, 3), rng.normal(size=(5, 4)))
    assert good.ok and statuses(good) == {"inputs": "PASS", "weights": "PASS", "biases": "PASS"}
    assert "results kept on self" in notes(good)
    bad = gv.check_layer(nnfs_layers_bug.Layer_Dense(4, 3), rng.normal(size=(5, 4)))
    assert statuses(bad) == {"inputs": "PASS", "weights": "PASS", "biases": "FAIL"}
    assert "biases: it is 1/5 of the true gradient" in bad.verdict


def test_dlfs_affine_stores_dw_and_db_on_self():
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    assert gv.check_layer(dlfs_layers.Affine(W, b), rng.normal(size=(5, 4))).ok
    bad = gv.check_layer(dlfs_layers_bug.Affine(W, b), rng.normal(size=(5, 4)))
    assert statuses(bad) == {"x": "PASS", "W": "PASS", "b": "FAIL"}


def test_blog_learning_rate_updater_recovers_gradients_and_restores_parameters():
    layer = blog_layers.Dense(3, 2)
    before = layer.weights.copy(), layer.bias.copy()
    report = gv.check_layer(layer, rng.normal(size=(3, 1)))
    assert report.ok and statuses(report) == {"input": "PASS", "weights": "PASS", "bias": "PASS"}
    assert "learning-rate updater" in notes(report)
    np.testing.assert_array_equal(layer.weights, before[0])
    np.testing.assert_array_equal(layer.bias, before[1])
    bad = gv.check_layer(blog_layers_bug.Dense(3, 2), rng.normal(size=(3, 1)))
    assert statuses(bad) == {"input": "FAIL", "weights": "PASS", "bias": "PASS"}


def test_optimizer_based_layer_gets_a_recording_optimizer_and_lifecycle_calls():
    report = gv.check_layer(mlfs_layers.Dense(3), rng.normal(size=(5, 4)))
    assert report.ok and statuses(report) == {"X": "PASS", "W": "PASS", "w0": "PASS"}
    text = notes(report)
    assert "optimizer-based" in text and "set_input_shape((4,))" in text and "forward_pass()/backward_pass()" in text
    bad = gv.check_layer(mlfs_layers_bug.Dense(3), rng.normal(size=(5, 4)))
    assert statuses(bad)["w0"] == "FAIL" and "1/5 of the true gradient" in bad.verdict


class BatchNorm1d:
    """A class with running statistics (float arrays with no gradient) and a hard-coded in-place update."""

    def __init__(self, n):
        self.gamma, self.beta = np.ones(n) + 0.1 * np.arange(n), np.zeros(n)
        self.running_mean = np.zeros(n)

    def forward(self, x):
        self.mu, self.std = x.mean(axis=0), np.sqrt(x.var(axis=0) + 1e-5)
        self.xhat = (x - self.mu) / self.std
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dgamma, self.dbeta = (dout * self.xhat).sum(axis=0), dout.sum(axis=0)
        dxhat = dout * self.gamma
        self.running_mean += 0.1 * self.mu  # belongs in forward: backward changes state it should not
        return (n * dxhat - dxhat.sum(axis=0) - self.xhat * (dxhat * self.xhat).sum(axis=0)) / (n * self.std)


def test_unchecked_arrays_are_listed_and_a_changed_attribute_is_reported_by_name():
    layer = BatchNorm1d(3)
    report = gv.check_layer(layer, rng.normal(size=(6, 3)))
    assert report.ok and statuses(report) == {"x": "PASS", "gamma": "PASS", "beta": "PASS"}
    assert "not checked (the output does not depend on them, so they are not parameters): running_mean" in notes(report)
    assert any("BatchNorm1d.backward changed running_mean" in w for w in report.warnings)
    np.testing.assert_array_equal(layer.running_mean, np.zeros(3))


class DictAffine:
    """CS231n's model style: parameters in self.params, gradients in self.grads under the same keys."""

    def __init__(self, bug=False):
        self.params = {"W": rng.normal(size=(4, 3)), "b": np.zeros(3)}
        self.grads, self.bug = {}, bug

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.mean(axis=0) if self.bug else dout.sum(axis=0)
        return dout @ self.params["W"].T


def test_parameters_in_a_dict_are_matched_to_gradients_in_a_dict():
    good = gv.check_layer(DictAffine(), rng.normal(size=(5, 4)))
    assert good.ok and statuses(good) == {"x": "PASS", "params['W']": "PASS", "params['b']": "PASS"}
    bad = gv.check_layer(DictAffine(bug=True), rng.normal(size=(5, 4)))
    assert statuses(bad)["params['b']"] == "FAIL" and "1/5 of the true gradient" in bad.verdict


class TwoBackwards:
    def __init__(self):
        self.W = np.ones((2, 2))

    def forward(self, x):
        return x @ self.W

    def backward(self, dout):
        return dout @ self.W.T

    def backward_pass(self, dout):
        return dout @ self.W.T

    def forward_pass(self, x):
        return x @ self.W


class Predictor:
    def predict(self, x):
        return x

    def update(self, x):
        return x


def test_method_detection_names_both_candidates_or_lists_the_conventions_tried():
    with pytest.raises(gv.GradvizError, match=r"forward\(\)/backward\(\) and forward_pass\(\)/backward_pass\(\)"):
        gv.check_layer(TwoBackwards(), np.ones((2, 2)))
    assert gv.check_layer(TwoBackwards(), rng.normal(size=(2, 2)), forward="forward_pass",
                          backward="backward_pass", params=[]).ok
    with pytest.raises(gv.GradvizError, match="matches no layer convention.*tried.*--forward NAME --backward NAME"):
        gv.check_layer(Predictor(), np.ones((2, 2)))


# -- losses, functions and gradients, ctx Functions ------------------------------------------------------------

def test_loss_returning_both_with_integer_labels():
    x, y = rng.normal(size=(5, 10)), rng.integers(10, size=5)
    assert gv.check_loss(cs231n_layers.softmax_loss, x, y).ok
    bad = gv.check_loss(cs231n_layers_bug.softmax_loss, x, y)
    assert "x: it is 5 times the true gradient: a division by the batch size (5) is missing" in bad.verdict


def test_loss_classes_forward_t_backward_dout_and_nnfs_output_taking_backward():
    x, t = rng.normal(size=(5, 3)), rng.integers(3, size=5)
    assert gv.check_loss(dlfs_layers.SoftmaxWithLoss(), x, t).ok
    assert gv.check_loss(dlfs_layers.SoftmaxWithLoss(), x, np.eye(3)[t]).ok  # one-hot targets
    assert "5 times" in gv.check_loss(dlfs_layers_bug.SoftmaxWithLoss(), x, t).verdict
    combined = gv.check_loss(nnfs_layers.Activation_Softmax_Loss_CategoricalCrossentropy(), x, t)
    assert combined.ok and "receives self.output" in notes(combined)
    assert not gv.check_loss(nnfs_layers_bug.Activation_Softmax_Loss_CategoricalCrossentropy(), x, t).ok
    probs = rng.uniform(0.1, 0.9, size=(5, 3))
    assert gv.check_loss(nnfs_layers.Loss_CategoricalCrossentropy(), probs, np.eye(3)[t]).ok


def test_function_and_gradient_with_wrt_guessed_and_said_or_given():
    y_true, y_pred = rng.normal(size=(4, 1)), rng.normal(size=(4, 1))
    report = gv.check_grad_fn(blog_layers.mse, blog_layers.mse_prime, y_true, y_pred)
    assert report.ok and list(statuses(report)) == ["y_pred"]
    assert "guessed from the names" in notes(report) and "--wrt" in notes(report)
    assert gv.check_grad_fn(blog_layers.mse, blog_layers.mse_prime, y_true, y_pred, wrt="y_pred").ok
    wrong_wrt = gv.check_grad_fn(blog_layers.mse, blog_layers.mse_prime, y_true, y_pred, wrt="y_true")
    assert "sign is flipped" in wrong_wrt.verdict  # d/dy_true is minus d/dy_pred
    bad = gv.check_grad_fn(blog_layers_bug.mse, blog_layers_bug.mse_prime, y_true, y_pred)
    assert "half the true gradient" in bad.verdict


def test_a_model_over_a_dict_of_parameters_matches_d_keys():
    params = {"W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=(3, 1)), "W2": rng.normal(size=(1, 3)),
              "b2": rng.normal(size=(1, 1))}
    X, Y = rng.normal(size=(2, 5)), rng.normal(size=(1, 5))
    report = gv.check_grad_fn(two_layer_model.cost, two_layer_model.model_backward, params, X, Y)
    assert report.ok and list(statuses(report)) == ["W1", "b1", "W2", "b2"]

    def buggy_backward(parameters, X, Y):
        return two_layer_model.model_backward(parameters, X, Y, bug=True)

    bad = gv.check_grad_fn(two_layer_model.cost, buggy_backward, params, X, Y)
    assert statuses(bad) == {"W1": "FAIL", "b1": "FAIL", "W2": "PASS", "b2": "PASS"}


def test_ctx_functions_without_torch():
    assert gv.check_function(minitorch_functions.Mul, 2.0, 3.0).ok
    assert gv.check_function(minitorch_functions.Log, 2.0).ok
    assert gv.check_function(minitorch_functions.Mul, rng.normal(size=3), rng.normal(size=3)).ok
    bad = gv.check_function(minitorch_functions_bug.Mul, 2.0, 3.0)
    assert statuses(bad) == {"a": "FAIL", "b": "FAIL"}
    assert "a: it is the true gradient times a constant 0.666667" in bad.verdict  # 2/3: a*d instead of b*d


# -- the command line ----------------------------------------------------------------------------------------

def gradviz(*args, cwd=CODE):
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args, "-q"], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


AFFINE = ["--input", "x=4,5", "--input", "w=5,3", "--input", "b=3"]
BN = ["--input", "x=6,4", "--input", "gamma=4", "--input", "beta=4", "--args", '{"bn_param": {"mode": "train"}}']
LINEAR = ["--input", "A=4,3", "--input", "W=2,4", "--input", "b=2,1"]
CONV = ["--input", "A_prev=2,4,4,2", "--input", "W=3,3,2,3", "--input", "b=1,1,1,3", "--input", "activation=identity",
        "--args", '{"padding": "valid"}']
CLI_CASES = [
    ("cs231n_layers.py:affine_forward,affine_backward", AFFINE, 0, "PASS"),
    ("cs231n_layers.py:affine", AFFINE, 0, "PASS"),
    ("cs231n_layers_bug.py:batchnorm", BN, 1, "batchnorm_backward returned dgamma of shape (1, 4)"),
    ("cs231n_layers_bug.py:softmax_loss", ["--input", "x=5,10", "--input", "y=randint(10, size=5)"], 1, "5 times"),
    ("nhwc_conv.py:conv_forward,nhwc_conv_bug.py:conv_backward", CONV, 1, "dA_prev of shape (2, 0, 0, 2)"),
    ("nhwc_conv.py:conv_forward,conv_backward", CONV, 0, "PASS"),
    ("dlai_step_by_step.py:linear", LINEAR, 1, "deeplearning.ai convention"),
    ("dlai_step_by_step.py:linear", LINEAR + ["--batch-axis", "1", "--per-example-dout"], 0, "PASS"),
    ("nnfs_layers_bug.py:Layer_Dense", ["--args", '{"n_inputs": 4, "n_neurons": 3}', "--input", "inputs=5,4"], 1,
     "biases: it is 1/5"),
    ("dlfs_layers.py:Affine", ["--init", "W=4,3", "--init", "b=3", "--input", "x=5,4"], 0, "PASS"),
    ("dlfs_layers_bug.py:SoftmaxWithLoss", ["--input", "x=5,3", "--input", "t=randint(3, size=5)"], 1, "5 times"),
    ("blog_layers_bug.py:Dense", ["--args", '{"input_size": 3, "output_size": 2}', "--input", "input=3,1"], 1,
     "input:"),
    ("blog_layers_bug.py:mse", ["--input", "y_true=4,1", "--input", "y_pred=4,1"], 1, "half the true gradient"),
    ("blog_layers.py:mse,mse_prime", ["--input", "y_true=4,1", "--input", "y_pred=4,1", "--wrt", "y_pred"], 0, "PASS"),
    ("mlfs_layers_bug.py:Dense", ["--args", '{"n_units": 3}', "--input-shape", "5,4"], 1, "w0: it is 1/5"),
    ("minitorch_functions_bug.py:Mul", ["--input", "a=2.0", "--input", "b=3.0"], 1, "a: it is the true gradient"),
    ("nnfs_layers.py:Layer_Dense", ["--input", "inputs=5,4"], 2, "give n_inputs, n_neurons"),
    ("blog_layers.py:mse", [], 2, "mse needs its argument y_true: give it with --input y_true=SPEC"),
    # a cs231n *_param dict left out: the hint names the keys the forward reads and the --args form, not --input 4,5
    ("cs231n_layers.py:conv", ["--input", "x=2,3,5,5", "--input", "w=2,3,3,3", "--input", "b=2"], 2,
     """conv_forward_naive needs its argument conv_param, which it reads as a dict (stride, pad): give it in --args """
     """JSON, e.g. --args '{"conv_param": {"stride": ..., "pad": ...}}'"""),
    ("cs231n_layers.py:batchnorm", BN[:6], 2, """e.g. --args '{"bn_param": {"mode": ...}}'"""),
    ("nhwc_conv.py:conv_forward,conv_backward", CONV[:6], 2,
     "conv_forward needs its argument activation, which it calls as a function: give it with "
     "--input activation=identity (or relu, tanh, sigmoid)"),
    # inverted dropout: seeded through dropout_param it checks; unseeded, each call draws a new mask, which is an
    # ERROR saying so rather than a FAIL diagnosing a kink
    ("cs231n_dropout.py:dropout", ["--input", "x=4,5", "--args", '{"dropout_param": {"p": 0.5, "mode": "train", '
     '"seed": 123}}'], 0, "PASS"),
    ("cs231n_dropout.py:dropout", ["--input", "x=4,5", "--args", '{"dropout_param": {"p": 0.5, "mode": "train"}}'],
     1, "dropout_forward/dropout_backward: its forward gives different outputs for the same inputs (randomness"),
    # one half of a pair named alone is a usage error naming the pair, not a FAIL "a loss must be one number"
    ("cs231n_layers.py:affine_forward", AFFINE, 2,
     "cs231n_layers.py:affine_forward is one half of the pair affine_forward/affine_backward: check the two "
     "together, cs231n_layers.py:affine_forward,affine_backward (or cs231n_layers.py:affine)"),
    ("cs231n_layers.py:conv_backward_naive", [], 2, "cs231n_layers.py:conv_forward_naive,conv_backward_naive"),
    # layer sizes typed as --init n_inputs=4 became arrays: the error says so, points at the user's line, says --args
    ("nnfs_layers.py:Layer_Dense", ["--init", "n_inputs=4", "--init", "n_neurons=3", "--input", "inputs=5,4"], 2,
     """nnfs_layers.py:8); --init n_inputs=4 made a random array of shape (4,), not the number 4: give numbers in """
     """--args JSON, e.g. --args '{"n_inputs": 4, "n_neurons": 3}'"""),
    # the user's forward raising on the inputs given is an ERROR (exit 1), never an empty report that passes
    ("cs231n_layers.py:affine", ["--input", "x=4,5", "--input", "w=4,3", "--input", "b=3"], 1,
     "affine_forward raised ValueError"),
]


@pytest.mark.parametrize("target,flags,code,expected", CLI_CASES, ids=[f"{c[0]}-{c[2]}" for c in CLI_CASES])
def test_cli_checks_course_code_with_flags_only(target, flags, code, expected):
    done = gradviz(target, *flags)
    assert done.returncode == code, done.stdout + done.stderr
    assert expected in done.stdout + done.stderr


def test_cli_an_ambiguous_stem_names_both_pairs(tmp_path):
    (tmp_path / "layers.py").write_text(
        "def relu_forward(x):\n    return x, x\n\ndef relu_backward(d, c):\n    return d\n\n"
        "def forward_relu(x):\n    return x, x\n\ndef backward_relu(d, c):\n    return d\n")
    done = gradviz("layers.py:relu", "--input", "x=3", cwd=tmp_path)
    assert done.returncode == 2
    assert "relu_forward,relu_backward or forward_relu,backward_relu" in done.stderr


def test_cli_a_class_matching_no_convention_lists_the_conventions_tried(tmp_path):
    (tmp_path / "model.py").write_text(
        "class Predictor:\n    def predict(self, x):\n        return x\n\n    def update(self, x):\n        return x\n")
    done = gradviz("model.py:Predictor", "--input", "x=3,2", cwd=tmp_path)
    assert done.returncode == 2
    assert "matches no layer convention" in done.stderr and "forward_pass()/backward_pass()" in done.stderr
    assert "--forward NAME --backward NAME" in done.stderr and "Traceback" not in done.stderr


def test_cli_json_says_which_convention_was_picked_and_what_was_checked():
    import json

    done = subprocess.run([sys.executable, "-m", "gradviz", "check", "mlfs_layers.py:Dense", "--args",
                           '{"n_units": 3}', "--input-shape", "5,4", "--json"], capture_output=True, text=True,
                          cwd=CODE, timeout=300)
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)["reports"]
    assert [i["name"] for i in report["inputs"]] == ["X", "W", "w0"]
    assert any("optimizer-based layer" in n for n in report["notes"])
    assert "checked: X, W, w0" in report["notes"]


def test_cli_a_numpy_function_where_a_graph_function_is_expected_is_a_usage_error(tmp_path):
    (tmp_path / "numpy_code.py").write_text("import numpy as np\n\ndef energy(x):\n    x = np.asarray(x, dtype=np.float64)\n    return float(x @ x)\n")
    done = gradviz("numpy_code.py:energy", cwd=tmp_path)
    assert done.returncode == 2
    assert "does not build a gradviz graph" in done.stderr and "FILE:energy,energy_prime" in done.stderr


def test_the_gradviz_script_sees_the_working_directory(tmp_path):
    (tmp_path / "helpers.py").write_text("import numpy as np\n\ndef square(x):\n    return x * x\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "loss.py").write_text(
        "from helpers import square\n\ndef half_sq(x):\n    return 0.5 * square(x).sum(), x\n")
    script = Path(sys.executable).parent / "gradviz"
    done = subprocess.run([str(script), "check", "sub/loss.py:half_sq", "--input", "x=3", "-q"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr



def affine_backward_dw_transposed(dout, cache):
    """cs231n's affine_backward with dw written as dout.T @ x: shape (M, D) for a (D, M) weight."""
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    return dx, dw, np.sum(dout, axis=0)


def test_a_non_square_gradient_of_the_wrong_shape_is_named_as_the_transpose():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    report = gv.check_pair(cs231n_layers.affine_forward, affine_backward_dw_transposed, x, w, b)
    by_name = {r.name: r for r in report.results}
    assert by_name["x"].status == "PASS" and by_name["b"].status == "PASS"
    assert by_name["w"].status == "FAIL"
    assert "shape (5, 4)" in by_name["w"].message and "w has shape (4, 5)" in by_name["w"].message
    assert by_name["w"].diagnosis and by_name["w"].diagnosis[0].cause == "transposed"
    assert "transposed" in report.verdict
