"""Layer classes whose forward takes several arguments, integer data, or keeps gradients under lecture-note names.

A new-user pass found correct layers told they were wrong: `forward(x, h_prev)` read as a loss (a traceback,
or FAIL "dx of shape (2, 3, 4)"), a `mask=` argument silently dropped, integer ids turned into floats, and
`self.dLdW` not found. Here each is read as the layer it is: every argument the user names reaches the forward,
float arrays are differentiated and integer ones are data, backward's gradients are matched per input. Each
correct fixture passes and its planted bug fails on the gradient it breaks; the truth of every fixture is
established in the test by a closed form checked against the test's own central differences.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.adapters.layer_readings import layer_readings
from gradviz.checking.adapters.loss import loss_readings
from gradviz.checking.confirm import confirm
from gradviz.errors import GradvizError
from readings import confirmed_readings_pass
from unseen_code import multi_input_layers as m

ROOT = Path(__file__).resolve().parents[1]
FILE = Path(m.__file__)


@dataclass
class Case:
    correct: str
    make: str
    wrong: set
    said: dict = field(default_factory=dict)


CASES = [
    Case("ElmanCell", "elman_make", {"h_prev"}),
    Case("ProductGate", "gate_make", {"u", "v"}),
    Case("SkipProjection", "skip_make", {"x"}),
    Case("ProjectAdd", "project_make", {"x"}),
    Case("MaskedDropout", "dropout_make", {"x"}),
    Case("TokenTable", "table_make", {"params[0]"}),
    Case("LinearCMU", "cmu_make", {"b"}),
    Case("NablaLinear", "nabla_make", {"W"}, {"grads": {"W": "nabla_W", "b": "nabla_b"}}),
]


def _made(case, name, seed=1):
    return getattr(m, case.make)(np.random.default_rng(seed), getattr(m, name))


def _failing(report):
    return {r.name for r in report.results if r.status != "PASS"}


# -- the oracle: closed forms of d sum(out * R), each checked against central differences of the forward --------
def _closed_form(name, layer, inputs, R):
    """The true gradients of L = sum(forward(inputs) * R), written out for each fixture."""
    if name == "ElmanCell":
        h = np.tanh(layer.Wx @ inputs["x"] + layer.Wh @ inputs["h_prev"] + layer.b)
        da = R * (1 - h ** 2)
        return {"x": layer.Wx.T @ da, "h_prev": layer.Wh.T @ da, "Wx": da @ inputs["x"].T,
                "Wh": da @ inputs["h_prev"].T, "b": da.sum(axis=1, keepdims=True)}
    if name == "ProductGate":
        return {"u": R * inputs["v"], "v": R * inputs["u"]}
    if name == "SkipProjection":
        return {"x": R @ layer.W.T, "skip": R, "W": inputs["x"].T @ R}
    if name == "ProjectAdd":
        return {"x": R @ layer.W.T, "h": R, "W": inputs["x"].T @ R}
    if name == "MaskedDropout":
        return {"x": R * inputs["mask"] / (1 - layer.drop)}
    if name == "TokenTable":
        table = np.zeros_like(layer.params[0])
        for row, i in enumerate(inputs["ids"]):
            table[i] += R[row]
        return {"params[0]": table}
    if name == "LinearCMU":
        return {"A": R @ layer.W, "W": R.T @ inputs, "b": R.sum(axis=0)[:, None]}
    return {"x": R @ layer.W.T, "W": inputs.T @ R, "b": R.sum(axis=0)}  # NablaLinear


def _array(layer, inputs, key):
    if key == "params[0]":
        return layer.params[0]
    if isinstance(inputs, dict):
        return inputs[key] if key in inputs else getattr(layer, key)
    return inputs if key in ("A", "x") else getattr(layer, key)


def _loss(layer, inputs, R):
    out = layer.forward(**inputs) if isinstance(inputs, dict) else layer.forward(inputs)
    return float(np.sum(out * R))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.correct)
def test_the_closed_forms_agree_with_central_differences_of_each_forward(case):
    layer, inputs = _made(case, case.correct)
    out = layer.forward(**inputs) if isinstance(inputs, dict) else layer.forward(inputs)
    R = np.random.default_rng(9).normal(size=np.shape(out))
    for key, grad in _closed_form(case.correct, layer, inputs, R).items():
        array, numeric = _array(layer, inputs, key), np.zeros(np.shape(grad))
        for i in np.ndindex(array.shape):
            old = array[i]
            array[i] = old + 1e-6
            up = _loss(layer, inputs, R)
            array[i] = old - 1e-6
            down = _loss(layer, inputs, R)
            array[i] = old
            numeric[i] = (up - down) / 2e-6
        np.testing.assert_allclose(np.reshape(grad, numeric.shape), numeric, rtol=1e-6, atol=1e-8, err_msg=key)


def test_the_planted_bugs_break_exactly_the_gradients_they_are_said_to():
    """The recurrent cell's bug, against the closed form: dh_prev is wrong, dx is right."""
    layer, inputs = _made(CASES[0], "ElmanCellBug")
    layer.forward(**inputs)
    R = np.random.default_rng(9).normal(size=(4, 1))
    dx, dh_prev = layer.backward(R)
    truth = _closed_form("ElmanCell", layer, inputs, R)
    np.testing.assert_allclose(dx, truth["x"], rtol=1e-12)
    assert not np.allclose(dh_prev, truth["h_prev"])


# -- Python: correct passes, the bug fails on the gradient it breaks ------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.correct)
def test_a_correct_layer_passes_and_its_bug_fails_on_the_right_gradient(case):
    good = gv.check_layer(*_made(case, case.correct), **case.said)
    assert good.ok, good.verdict
    bad = gv.check_layer(*_made(case, case.correct + "Bug"), **case.said)
    assert _failing(bad) == case.wrong, {r.name: r.status for r in bad.results}
    assert all(r.status == "FAIL" for r in bad.results if r.name in case.wrong)


def test_each_input_gets_its_own_gradient_and_data_is_never_differentiated():
    report = gv.check_layer(*_made(CASES[0], "ElmanCell"))
    assert {r.name for r in report.results} == {"x", "h_prev", "Wx", "Wh", "b"}
    dropout = gv.check_layer(*_made(CASES[4], "MaskedDropout"))
    assert {r.name for r in dropout.results} == {"x"}  # the integer mask reached the forward and is data
    table = gv.check_layer(*_made(CASES[5], "TokenTable"))
    assert {r.name for r in table.results} == {"params[0]"}  # integer ids stay integers
    layer, inputs = _made(CASES[5], "TokenTableBug")
    named = gv.check_layer(layer, inputs, labels={"W": layer.params[0]})  # the user's name for params[0]
    assert {r.name: r.status for r in named.results} == {"W": "FAIL"} and "checked: W" in named.notes


def test_the_mask_the_user_gives_is_the_mask_the_forward_uses():
    layer, inputs = _made(CASES[4], "MaskedDropout")
    inputs["mask"] = np.zeros((4, 5), dtype=int)  # everything dropped: the output is zero whatever x is
    report = gv.check_layer(layer, inputs)
    assert report.ok and np.array_equal(layer.mask, inputs["mask"])
    assert all(np.allclose(r.autograd, 0) for r in report.results)


def test_a_float_input_the_backward_returns_nothing_for_is_held_as_data_and_said():
    layer, inputs = _made(CASES[4], "MaskedDropout")
    inputs["mask"] = inputs["mask"].astype(float)
    report = gv.check_layer(layer, inputs)
    assert report.ok and {r.name for r in report.results} == {"x"}
    assert any("returns no gradient for mask, held constant as data" in n for n in report.notes)


def test_gradients_returned_in_another_order_than_the_inputs_are_matched_by_shape_and_said():
    report = gv.check_layer(*_made(CASES[3], "ProjectAdd"))
    assert report.ok and {r.name for r in report.results} == {"x", "h", "W"}
    assert any(n.startswith("binding: ") and "-> x, h (by position, or by shape)" in n for n in report.notes)


def test_integer_inputs_and_no_parameters_leave_nothing_to_differentiate():
    with pytest.raises(GradvizError) as refused:
        gv.check_layer(m.MaskedDropout(0.5), {"x": np.arange(6).reshape(2, 3), "mask": np.ones((2, 3), int)})
    assert "nothing to differentiate" in str(refused.value)


def test_an_argument_the_forward_does_not_take_is_refused_not_dropped():
    layer, inputs = _made(CASES[4], "MaskedDropout")
    inputs["keep"] = inputs.pop("mask")
    with pytest.raises(GradvizError) as refused:
        gv.check_layer(layer, inputs)
    assert "has no argument keep" in str(refused.value)


def test_a_gradient_stored_under_an_unknown_name_is_refused_with_the_grad_flag_never_failed():
    layer, x = _made(CASES[7], "NablaLinear")
    with pytest.raises(GradvizError) as refused:
        gv.check_layer(layer, x)
    text = str(refused.value)
    assert "cannot read NablaLinear" in text and "self.nabla_W (the shape of W)" in text
    assert "--grad W=nabla_W --grad b=nabla_b" in text


def test_a_tuple_of_gradients_is_not_confirmed_as_one_loss_gradient_and_never_crashes():
    """forward(u, v) read as a loss: backward's (du, dv) is no gradient of u, and ragged pairs are no crash."""
    for make, name in (("gate_make", "ProductGate"), ("elman_make", "ElmanCell")):
        layer, inputs = getattr(m, make)(np.random.default_rng(1), getattr(m, name))
        for candidate in loss_readings(layer, tuple(inputs.values())):
            why = confirm(candidate.build())[0]
            assert why is not None and "one gradient per argument" in why


@pytest.mark.parametrize("case", CASES[:6], ids=lambda c: c.correct)
def test_every_reading_of_a_correct_multi_input_layer_is_unconfirmed_or_passes(case):
    assert confirmed_readings_pass(layer_readings(*_made(case, case.correct))) >= 1


# -- the command line ------------------------------------------------------------------------------------------
def run_cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args, "--json"], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env=env)


def _json_failing(done) -> set:
    return {r["name"] for r in json.loads(done.stdout)["reports"][0]["inputs"] if r["status"] != "PASS"}


CLI = [
    ("ElmanCell", ["--args", '{"n_in": 3, "n_hidden": 4}', "--input", "x=3,1", "--input", "h_prev=4,1"], {"h_prev"}),
    ("ProductGate", ["--input", "u=3,4", "--input", "v=3,4"], {"u", "v"}),
    ("MaskedDropout", ["--args", '{"drop": 0.2}', "--input", "x=4,5", "--input", "mask=randint(2, size=(4, 5))"],
     {"x"}),
    ("TokenTable", ["--init", "table=6,3", "--input", "ids=[0, 2, 0, 5]"], {"table"}),  # --init's name
    ("LinearCMU", ["--args", '{"in_features": 4, "out_features": 3}', "--input-shape", "5,4"], {"b"}),
    ("NablaLinear", ["--args", '{"n_in": 4, "n_out": 3}', "--input-shape", "5,4", "--grad", "W=nabla_W", "--grad",
                     "b=nabla_b"], {"W"}),
]


@pytest.mark.parametrize("name,flags,wrong", CLI, ids=[c[0] for c in CLI])
def test_cli_every_named_input_reaches_the_forward(name, flags, wrong):
    good = run_cli(f"{FILE}:{name}", *flags)
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr
    bad = run_cli(f"{FILE}:{name}Bug", *flags)
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr
    assert _json_failing(bad) == wrong


def test_cli_a_per_sample_loss_taking_two_arrays_is_still_read_as_a_loss():
    """The layer readings are tried first and not confirmed (backward's first argument is the predictions, not
    an upstream gradient); the loss reading is, and the mean of the per-sample losses is checked."""
    rng = np.random.default_rng(3)
    y, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    truth = 2 * (y - t) / y.size  # d mean((t - y)**2) / dy, checked against central differences here
    numeric = np.zeros_like(y)
    for i in np.ndindex(y.shape):
        e = np.zeros_like(y)
        e[i] = 1e-6
        numeric[i] = (np.mean(m.PerSampleSquaredError().forward(y + e, t))
                      - np.mean(m.PerSampleSquaredError().forward(y - e, t))) / 2e-6
    np.testing.assert_allclose(truth, numeric, rtol=1e-6, atol=1e-9)
    for cls, right in ((m.PerSampleSquaredError, True), (m.PerSampleSquaredErrorBug, False)):
        loss = cls()
        loss.backward(y, t)
        assert np.allclose(loss.dinputs, truth) == right
    flags = ["--input", "y_pred=5,3", "--input", "y_true=5,3"]
    good = run_cli(f"{FILE}:PerSampleSquaredError", *flags)
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr
    notes = json.loads(good.stdout)["reports"][0]["notes"]
    assert any("checked as a loss class" in n for n in notes)
    bad = run_cli(f"{FILE}:PerSampleSquaredErrorBug", *flags)
    assert bad.returncode == 1 and _json_failing(bad) == {"y_pred"}


def test_cli_refuses_an_unknown_gradient_name_with_exit_2_and_an_unknown_input_too():
    refused = run_cli(f"{FILE}:NablaLinear", "--args", '{"n_in": 4, "n_out": 3}', "--input-shape", "5,4")
    assert refused.returncode == 2 and "--grad W=nabla_W" in refused.stderr and "Traceback" not in refused.stderr
    unknown = run_cli(f"{FILE}:MaskedDropout", "--input", "x=4,5", "--input", "keep=randint(2, size=(4, 5))")
    assert unknown.returncode == 2 and "has no argument keep" in unknown.stderr
