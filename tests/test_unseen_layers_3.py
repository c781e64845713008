"""Hand-written layers in course and textbook styles gradviz was not written for (a third new-user pass).

The pass found: Nielsen's network.py (`backprop(x, y)` fed by `self.cost_derivative`) refused with flags that
could not help; deeplearning.ai's `L_model_backward(AL, Y, caches)`, which starts from compute_cost's derivative,
refused (and `--input Y` rejected because the forward does not take it); a Sequential container whose sub-layers were replaced by gradviz's own placeholder (an ERROR
blaming the user's forward) and whose parameters in those sub-layers went unchecked; a Keras-like layer that
makes its weights on its first call (told "2 parameter gradients for the 0 float arrays", a FAIL); CS231n's
`loss, grads = model.loss(X, y)` refused; and PReLU's slope kept as a Python float silently left out, so a
wrong `dalpha` passed. Each fixture (tests/unseen_code/course_styles_3.py) is correct and has a planted bug;
nnfs's dense layer with `weight_regularizer_l2` was failed for the penalty gradient its book adds to
`dweights`. The truth of each is set here by the test's own central differences of the fixture's forward or loss, and
gradviz's verdict must name exactly the arrays the oracle finds wrong.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from unseen_code import course_styles_3 as c

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(c.__file__).parent


def _fd(f, arr, eps=1e-6):
    """Central differences of the scalar f() in every element of arr (perturbed in place and put back)."""
    g = np.zeros(arr.shape)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        up = f()
        arr[i] = old - eps
        down = f()
        arr[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def _agrees(yours, true):
    yours = np.asarray(yours, dtype=float)
    return yours.shape == true.shape and np.allclose(yours, true, rtol=1e-5, atol=1e-7)


# -- each case: (how gradviz is called, the oracle: {gradviz's name for the array: (your gradient, the truth)}) ---
def _layer(make, shape, names):
    """A layer class: gradviz's check_layer, and the oracle sum(forward(x) * R) through the fixture's own methods."""
    def check(cls):
        return gv.check_layer(make(cls), np.random.default_rng(1).normal(size=shape))

    def oracle(cls):
        layer, x = make(cls), np.random.default_rng(1).normal(size=shape)
        fwd, bwd, arrays = names(layer)
        out = fwd(layer, x)
        R = np.random.default_rng(2).normal(size=out.shape)
        yours = bwd(layer, R)
        return {name: (yours[name], _fd(lambda: np.sum(fwd(layer, x) * R), a)) for name, a in arrays(layer, x).items()}

    return check, oracle


def _nnfs_fwd(layer, x):
    layer.forward(x)
    return layer.output


def _nnfs_bwd(layer, R):
    layer.backward(R)
    return {"inputs": layer.dinputs, "weights": getattr(layer, "dweights", None),
            "biases": getattr(layer, "dbiases", None)}


def _ret_bwd(grads):
    def bwd(layer, R):
        return grads(layer, layer.backward(R))
    return bwd


def _call(layer, x):
    return layer.forward(x)


SOFTMAX = _layer(lambda cls: cls(), (4, 5), lambda l: (_nnfs_fwd, _nnfs_bwd, lambda l, x: {"inputs": x}))
DENSE_REG = _layer(lambda cls: cls(4, 3, weight_regularizer_l2=0.1), (5, 4), lambda l: (
    _nnfs_fwd, _nnfs_bwd, lambda l, x: {"inputs": x, "weights": l.weights, "biases": l.biases}))
CONV = _layer(lambda cls: cls(2, 3), (2, 2, 5, 5), lambda l: (
    _call, _ret_bwd(lambda l, dx: {"X": dx, "W": l.dW, "b": l.db}), lambda l, x: {"X": x, "W": l.W, "b": l.b}))
RMS = _layer(lambda cls: cls(4), (3, 4), lambda l: (
    _call, _ret_bwd(lambda l, dx: {"x": dx, "gamma": l.dgamma}), lambda l, x: {"x": x, "gamma": l.gamma}))
SEQUENTIAL = _layer(lambda cls: cls(), (5, 4), lambda l: (_call, _ret_bwd(lambda l, dx: {
    "x": dx, "layers[0].W": l.layers[0].dW, "layers[0].b": l.layers[0].db, "layers[2].W": l.layers[2].dW,
    "layers[2].b": l.layers[2].db}), lambda l, x: {"x": x, "layers[0].W": l.layers[0].W, "layers[0].b": l.layers[0].b,
                                                   "layers[2].W": l.layers[2].W, "layers[2].b": l.layers[2].b}))


def _keras_fwd(layer, x):
    return layer(x)


def _keras_bwd(layer, R):
    dx, (dk, db) = layer.get_gradients(R)
    return {"inputs": dx, "kernel": dk, "bias": db}


def _keras_arrays(layer, x):
    layer(x)
    return {"inputs": x, "kernel": layer.kernel, "bias": layer.bias}


KERAS = _layer(lambda cls: cls(3), (5, 4), lambda l: (_keras_fwd, _keras_bwd, _keras_arrays))


def _prelu_oracle(cls):
    layer, x = cls(), np.random.default_rng(1).normal(size=(4, 3))
    R = np.random.default_rng(2).normal(size=x.shape)
    dx = layer.forward(x) is not None and layer.backward(R)
    slope = np.array(layer.alpha)

    def f():
        layer.alpha = float(slope)
        return np.sum(layer.forward(x) * R)

    true_alpha = _fd(f, slope)
    layer.alpha = float(slope)
    return {"x": (dx, _fd(f, x)), "alpha": (layer.dalpha, true_alpha)}


PRELU = (lambda cls: gv.check_layer(cls(), np.random.default_rng(1).normal(size=(4, 3))), _prelu_oracle)


def _nielsen_inputs():
    rng = np.random.default_rng(1)
    return {"x": rng.normal(size=(3, 1)), "y": rng.uniform(size=(2, 1))}


def _nielsen_oracle(cls):
    """Nielsen's quadratic cost 0.5 * ||feedforward(x) - y||^2, whose gradient backprop returns."""
    net, given = cls([3, 4, 2]), _nielsen_inputs()
    nabla_b, nabla_w = net.backprop(given["x"], given["y"])

    def cost():
        return 0.5 * np.sum((net.feedforward(given["x"]) - given["y"]) ** 2)

    return {**{f"biases[{i}]": (g, _fd(cost, b)) for i, (g, b) in enumerate(zip(nabla_b, net.biases))},
            **{f"weights[{i}]": (g, _fd(cost, w)) for i, (g, w) in enumerate(zip(nabla_w, net.weights))}}


NIELSEN = (lambda cls: gv.check_layer(cls([3, 4, 2]), _nielsen_inputs()), _nielsen_oracle)


def _dlai_inputs():
    rng = np.random.default_rng(1)
    parameters = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=(3, 1)), "W2": rng.normal(size=(1, 3)),
                  "b2": rng.normal(size=(1, 1))}
    return rng.normal(size=(4, 6)), parameters, (rng.uniform(size=(1, 6)) > 0.5).astype(float)


def _dlai_oracle(bwd):
    """compute_cost(L_model_forward(X, parameters)[0], Y), the cost whose derivative L_model_backward starts from."""
    X, parameters, Y = _dlai_inputs()
    AL, caches = c.L_model_forward(X, parameters)
    grads = bwd(AL, Y, caches)
    return {f"parameters[{k!r}]": (grads["d" + k], _fd(lambda: c.compute_cost(c.L_model_forward(X, parameters)[0], Y),
                                                       parameters[k])) for k in parameters}


def _dlai_check(bwd):
    X, parameters, Y = _dlai_inputs()
    return gv.check_pair(c.L_model_forward, bwd, X, parameters, Y=Y)


DLAI = (_dlai_check, _dlai_oracle)


def _net_inputs():
    rng = np.random.default_rng(1)
    return rng.normal(size=(6, 4)), rng.integers(3, size=6)


def _net_oracle(cls):
    net, (X, y) = cls(4, 5, 3), _net_inputs()
    _, grads = net.loss(X, y)
    return {f"params[{k!r}]": (grads[k], _fd(lambda: net.loss(X, y)[0], net.params[k])) for k in net.params}


TWO_LAYER = (lambda cls: gv.check_loss(cls(4, 5, 3), *_net_inputs()), _net_oracle)


def _pair_case(fwd, shapes):
    def args():
        rng = np.random.default_rng(1)
        return [rng.normal(size=s) for s in shapes]

    def check(bwd):
        return gv.check_pair(fwd, bwd, *args())

    def oracle(bwd):
        arrays = args()
        out, cache = fwd(*arrays)
        R = np.random.default_rng(2).normal(size=out.shape)
        yours = bwd(R, cache)
        names = list(fwd.__code__.co_varnames[:len(arrays)])
        return {n: (g, _fd(lambda: np.sum(fwd(*arrays)[0] * R), a)) for n, g, a in zip(names, yours, arrays)}

    return check, oracle


GRU = _pair_case(c.gru_step_forward, [(2, 4), (2, 3), (4, 9), (3, 9), (9,)])
TRANSPOSED = _pair_case(c.conv1d_transpose_forward, [(2, 3, 4), (3, 2, 3)])


def _focal_inputs():
    rng = np.random.default_rng(1)
    return rng.normal(size=6), rng.integers(2, size=6)


def _focal_oracle(fn):
    z, y = _focal_inputs()
    return {"logits": (fn(z, y)[1], _fd(lambda: fn(z, y)[0], z))}


FOCAL = (lambda fn: gv.check_loss(fn, *_focal_inputs()), _focal_oracle)


def _smooth_inputs():
    rng = np.random.default_rng(1)
    return rng.normal(size=(4, 5)), rng.integers(5, size=4)


def _smooth_oracle(cls):
    z, labels = _smooth_inputs()
    loss = cls()
    loss.forward(z, labels)
    return {"logits": (loss.backward(), _fd(lambda: cls().forward(z, labels), z))}


SMOOTHING = (lambda cls: gv.check_loss(cls(), *_smooth_inputs()), _smooth_oracle)

CASES = {  # name: (the correct version, the one with the planted bug, (check, oracle))
    "Nielsen network.backprop": (c.Network, c.NetworkBug, NIELSEN),
    "nnfs softmax Jacobian": (c.Activation_Softmax, c.Activation_SoftmaxBug, SOFTMAX),
    "deeplearning.ai L_model_backward(AL, Y, caches)": (c.L_model_backward, c.L_model_backward_bug, DLAI),
    "CS231n TwoLayerNet.loss": (c.TwoLayerNet, c.TwoLayerNetBug, TWO_LAYER),
    "GRU step pair": (c.gru_step_backward, c.gru_step_backward_bug, GRU),
    "im2col convolution": (c.ConvIm2Col, c.ConvIm2ColBug, CONV),
    "transposed 1-D convolution": (c.conv1d_transpose_backward, c.conv1d_transpose_backward_bug, TRANSPOSED),
    "RMSNorm, gamma (1, D)": (c.RMSNorm, c.RMSNormBug, RMS),
    "focal loss": (c.focal_loss, c.focal_loss_bug, FOCAL),
    "label-smoothing CE": (c.LabelSmoothingCrossEntropy, c.LabelSmoothingCrossEntropyBug, SMOOTHING),
    "Keras-like lazy build": (c.Dense, c.DenseBug, KERAS),
    "PReLU float slope": (c.PReLU, c.PReLUBug, PRELU),
    "Sequential of sub-layers": (c.Sequential, c.SequentialBug, SEQUENTIAL),
}


def _wrong_by_oracle(truth):
    return {name for name, (yours, true) in truth.items() if not _agrees(yours, true)}


@pytest.mark.parametrize("case", list(CASES))
def test_correct_passes_and_bug_fails_where_the_oracle_says(case):
    correct, buggy, (check, oracle) = CASES[case]
    assert _wrong_by_oracle(oracle(correct)) == set()
    wrong = _wrong_by_oracle(oracle(buggy))
    assert wrong  # the planted bug is a real one
    report = check(correct)
    assert report.status == "PASS", report
    assert {r.name for r in report.results} == set(oracle(correct))  # every array the oracle knows was checked
    report = check(buggy)
    assert report.status == "FAIL", report
    assert {r.name for r in report.results if r.status != "PASS"} == wrong


def test_a_declared_regularizer_is_expected_in_dweights():
    """nnfs: `weight_regularizer_l2` declared, the loss adds l2 * sum(W**2) and backward adds 2 * l2 * W to dweights.

    The oracle is the forward's output plus that penalty; the version adding l2 * W fails on weights alone."""
    def oracle(cls):
        layer, x = cls(4, 3, weight_regularizer_l2=0.1), np.random.default_rng(1).normal(size=(5, 4))
        R = np.random.default_rng(2).normal(size=(5, 3))
        layer.forward(x)
        layer.backward(R)

        def total():
            layer.forward(x)
            return np.sum(layer.output * R) + 0.1 * np.sum(layer.weights ** 2)

        return {"inputs": (layer.dinputs, _fd(total, x)), "weights": (layer.dweights, _fd(total, layer.weights)),
                "biases": (layer.dbiases, _fd(total, layer.biases))}

    assert _wrong_by_oracle(oracle(c.Layer_Dense_Reg)) == set()
    assert _wrong_by_oracle(oracle(c.Layer_Dense_RegBug)) == {"weights"}
    report = DENSE_REG[0](c.Layer_Dense_Reg)
    assert report.status == "PASS", report
    assert any("weight_regularizer_l2 = 0.1" in n for n in report.notes)
    report = DENSE_REG[0](c.Layer_Dense_RegBug)
    failing = [r for r in report.results if r.status != "PASS"]
    assert [r.name for r in failing] == ["weights"]
    assert failing[0].diagnosis[0].cause == "regularization_mismatch"
    assert "add 0.1 * weights" in failing[0].diagnosis[0]


def test_a_layer_without_a_declared_penalty_is_checked_against_its_forward_alone():
    """The same layer with weight_regularizer_l2=0 adds nothing, and nothing is taken off."""
    report = gv.check_layer(c.Layer_Dense_Reg(4, 3), np.random.default_rng(1).normal(size=(5, 4)))
    assert report.status == "PASS" and not any("penalty" in n for n in report.notes)


def test_sub_layers_are_left_as_they_are_and_the_layer_is_usable_after():
    model = c.Sequential()
    layers = list(model.layers)
    x = np.random.default_rng(1).normal(size=(5, 4))
    before = model.forward(x).copy()
    gv.check_layer(model, x)
    assert all(a is b for a, b in zip(model.layers, layers))
    assert np.array_equal(model.forward(x), before)


def test_a_python_float_slope_is_a_number_again_after_the_check():
    layer = c.PReLU()
    report = gv.check_layer(layer, np.random.default_rng(1).normal(size=(4, 3)))
    assert any("PReLU.alpha: a Python number" in n for n in report.notes)
    assert type(layer.alpha) is float and layer.alpha == 0.25  # a number again, as the user made it


def test_a_network_without_its_inputs_is_told_which_to_give():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "gradviz", "check", "course_styles_3.py:Network", "--args",
                           '{"sizes": [3, 4, 2]}', "--input-shape", "3,1"], cwd=CODE, capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2
    assert "--input x=SPEC --input y=SPEC" in done.stderr


def test_a_backward_returning_gradients_no_array_fits_is_refused_not_failed():
    """What backward returns fits no array gradviz found: its reading, not the user's slip; the refusal says params=."""
    class Hidden:
        def __init__(self):
            self.store = {"weights": [np.ones((3, 2))]}  # out of gradviz's sight (a list inside a dict)

        def forward(self, x):
            return x @ self.store["weights"][0]

        def backward(self, dout, x):
            return dout @ self.store["weights"][0].T, [x.T @ dout, dout.sum(axis=0)]

    with pytest.raises(gv.GradvizError, match="params="):
        gv.check_layer(Hidden(), np.random.default_rng(1).normal(size=(4, 3)))


CLI = [
    ("L_model_forward,L_model_backward", ["--input", "X=4,6", "--input", "parameters={W1: randn(3,4), b1: randn(3,1), "
                                          "W2: randn(1,3), b2: randn(1,1)}", "--input", "Y=randint(2, size=(1, 6))"], 0),
    ("L_model_forward,L_model_backward_bug", ["--input", "X=4,6", "--input", "parameters={W1: randn(3,4), "
                                              "b1: randn(3,1), W2: randn(1,3), b2: randn(1,1)}",
                                              "--input", "Y=randint(2, size=(1, 6))"], 1),
    ("Network", ["--args", '{"sizes": [3, 4, 2]}', "--input", "x=3,1", "--input", "y=2,1"], 0),
    ("NetworkBug", ["--args", '{"sizes": [3, 4, 2]}', "--input", "x=3,1", "--input", "y=2,1"], 1),
    ("Sequential", ["--input-shape", "5,4"], 0),
    ("SequentialBug", ["--input-shape", "5,4"], 1),
    ("Dense", ["--args", '{"units": 3}', "--input-shape", "5,4"], 0),
    ("DenseBug", ["--args", '{"units": 3}', "--input-shape", "5,4"], 1),
    ("TwoLayerNet", ["--args", '{"input_size": 4, "hidden_size": 5, "output_size": 3}', "--input", "X=6,4",
                     "--input", "y=randint(3, size=6)"], 0),
    ("TwoLayerNetBug", ["--args", '{"input_size": 4, "hidden_size": 5, "output_size": 3}', "--input", "X=6,4",
                        "--input", "y=randint(3, size=6)"], 1),
    ("PReLU", ["--input-shape", "4,3"], 0),
    ("PReLUBug", ["--input-shape", "4,3"], 1),
]


@pytest.mark.parametrize("target,flags,code", CLI, ids=[t.split(",")[-1] for t, _, _ in CLI])
def test_command_line_gives_the_verdict_with_flags_only(target, flags, code):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "gradviz", "check", f"course_styles_3.py:{target}", *flags, "--json"],
                          cwd=CODE, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == code, done.stdout + done.stderr
    assert "Warning" not in done.stderr  # readings tried and dropped print nothing at the user's lines
    report = json.loads(done.stdout)
    statuses = {r["name"]: r["status"] for r in report["reports"][0]["inputs"]}
    dlai = {f"parameters['{k}']" for k in ("W1", "b1", "W2", "b2")}
    wanted = {"L_model_forward,L_model_backward": dlai, "Network": {"biases[0]", "biases[1]", "weights[0]", "weights[1]"}, "Sequential": {"x", "layers[0].W", "layers[0].b", "layers[2].W", "layers[2].b"},
              "Dense": {"inputs", "kernel", "bias"}, "PReLU": {"x", "alpha"},
              "TwoLayerNet": {"params['W1']", "params['b1']", "params['W2']", "params['b2']"}}
    assert set(statuses) == wanted[target.removesuffix("Bug").removesuffix("_bug")]
    failing = {n for n, s in statuses.items() if s != "PASS"}
    assert failing == {"L_model_forward,L_model_backward_bug": {"parameters['b1']", "parameters['b2']"}, "NetworkBug": {"biases[0]", "biases[1]", "weights[0]", "weights[1]"}, "SequentialBug": {"x", "layers[0].W", "layers[0].b"}, "DenseBug": {"bias"},
                       "PReLUBug": {"alpha"}, "TwoLayerNetBug": {"params['W2']"}}.get(target, set())
