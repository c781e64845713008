"""Layer classes, losses, function/gradient pairs and ctx Functions gradviz was not written for (issue 22).

Every reading these adapters make passes the confirm stage before any verdict: which methods are forward and
backward, where the output is (returned, (out, cache), self.NAME, the newest entry of a history list), which
backward parameter takes the upstream gradient (`backward(input, grad_output)`, `backward(x, delta_h,
activator)`), which argument a loss's gradient belongs to, what a ctx Function's backward returns. Each
fixture is correct and has a planted bug; the oracle is central finite differences (and, for the recurrent
layer, a gradient written out in the test). Odd conventions are refused (GradvizError, exit 2), never failed,
and the flag the refusal names resolves them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.adapters.ctx import function_readings
from gradviz.checking.adapters.layer_readings import layer_readings
from gradviz.checking.adapters.loss import grad_fn_readings, loss_readings
from gradviz.checking.confirm import confirm
from gradviz.checking.handwritten import _options, check_subject
from gradviz.checking.subject import UserCodeError
from gradviz.errors import GradvizError
from readings import confirmed_readings_pass
from unseen_code import layer_classes
from unseen_code.catalogue import LAYERS as LIBRARY_LAYERS
from unseen_code.class_catalogue import CASES, ODD

ROOT = Path(__file__).resolve().parents[1]
CODE = Path(__file__).resolve().parent / "unseen_code"


def _made(case, name):
    """(the object or functions, the arguments) of a fixture, from a fixed generator."""
    rng = np.random.default_rng(1)
    maker = getattr(case.module, case.inputs)
    if case.kind == "layer":
        return maker(rng, getattr(case.module, name))
    args = maker(rng)
    if case.kind == "grad_fn":
        f, g = name.split(",")
        return (getattr(case.module, f), getattr(case.module, g)), args
    if case.kind == "loss":
        return getattr(case.module, name)(), args
    return getattr(case.module, name), args


def _check(case, name, **said):
    subject, args = _made(case, name)
    if case.kind == "layer":
        return gv.check_layer(subject, args, **said)
    if case.kind == "loss":
        return gv.check_loss(subject, *args, **said)
    if case.kind == "grad_fn":
        return gv.check_grad_fn(*subject, *args, **said)
    return gv.check_function(subject, *args, **said)


def _readings(case, name):
    subject, args = _made(case, name)
    if case.kind == "layer":
        return layer_readings(subject, args)
    if case.kind == "loss":
        return loss_readings(subject, args)
    if case.kind == "grad_fn":
        return grad_fn_readings(*subject, args)
    return function_readings(subject, args)


def _failing(report):
    return {r.name for r in report.results if r.status != "PASS"}


# -- Python: correct code passes, a planted bug fails on the gradient it breaks ------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_correct_class_passes_and_its_bug_fails_on_the_right_gradient(case):
    good = _check(case, case.correct)
    assert good.ok, good.verdict
    bad = _check(case, case.bug)
    assert _failing(bad) == case.wrong, {r.name: r.status for r in bad.results}
    assert all(r.status == "FAIL" for r in bad.results if r.name in case.wrong)


def test_a_recurrent_layer_is_read_from_its_history_list_and_its_weights_match_a_written_out_gradient():
    """backward(x, delta_h, activator): the upstream gradient is the second argument, the activator the layer's."""
    rng = np.random.default_rng(5)
    layer, x = layer_classes.recurrent_make(rng, layer_classes.RecurrentLayer)
    report = gv.check_layer(layer, x)
    assert report.ok and {r.name for r in report.results} == {"U", "W", "b"}
    binding = next(n for n in report.notes if n.startswith("binding: "))
    assert "delta_h <- the upstream gradient" in binding and "activator <- self.activator" in binding
    assert "self.state_list[-1]" in binding
    assert any("computes no gradient for its input input_array" in n for n in report.notes)
    assert len(layer.state_list) == 1 and layer.times == 0  # evaluated on a fresh copy each time
    # the oracle written out: s = tanh(U x + W s0 + b), L = sum(s * R) -> dW = ((1 - s**2) * R) s0^T
    R = rng.normal(size=(4, 1))
    s0 = layer.state_list[0]
    s = np.tanh(layer.U @ x + layer.W @ s0 + layer.b)
    layer.forward(x)
    layer.backward(x, R, layer.activator)
    np.testing.assert_allclose(layer.W_grad, ((1 - s ** 2) * R) @ s0.T, rtol=1e-12)


def test_a_layer_updating_its_own_weights_with_self_learning_rate_gives_them_back():
    layer, x = layer_classes.dense_make(np.random.default_rng(2), layer_classes.Dense)
    weights, biases, rate = layer.weights, layer.biases.copy(), layer.learning_rate
    report = gv.check_layer(layer, x)
    assert report.ok and {r.name for r in report.results} == {"input", "weights", "biases"}
    assert any("self.learning_rate set to 1" in n for n in report.notes)
    assert layer.weights is weights and layer.learning_rate == rate
    np.testing.assert_array_equal(layer.biases, biases)


def test_an_optimizer_the_backward_calls_with_a_name_and_reads_from_is_stood_in_for_and_left_untouched():
    """update(param, grad, name) and optimizer.cache: gradviz's stand-in takes both; the user's state is kept."""
    layer, x = layer_classes.layernorm_make(np.random.default_rng(3), layer_classes.LayerNorm1D)
    optimizer, gamma = layer.optimizer, layer.gamma.copy()
    report = gv.check_layer(layer, x)
    assert report.ok and {r.name for r in report.results} == {"X", "gamma", "beta"}
    assert "recording optimizer" in report.notes[0]
    assert layer.optimizer is optimizer and optimizer.cache == {}
    np.testing.assert_array_equal(layer.gamma, gamma)
    # the oracle written out: d/dbeta of sum(out * R) is R summed over the batch
    R = np.random.default_rng(4).normal(size=x.shape)
    layer.forward(x)
    layer.optimizer = layer_classes.StepRule(lr=1.0)
    before = layer.beta.copy()
    layer.backward(R)
    np.testing.assert_allclose(before - layer.beta, R.sum(axis=0), rtol=1e-12)


# -- the guarantee: no reading gradviz may try turns correct code into a FAIL --------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_reading_of_correct_code_is_either_unconfirmed_or_passes(case):
    confirmed = 0
    for candidate in _readings(case, case.correct):
        try:
            reading = candidate.build()
        except (GradvizError, UserCodeError):
            continue  # not buildable: not confirmed
        if confirm(reading)[0] is not None:
            continue
        confirmed += 1
        report = check_subject(reading, _options(1e-6, 1e-5, 1e-3, False, "auto", 0, 16))
        assert report.ok, f"{candidate.describe}: {report.verdict}"
    assert confirmed >= 1


class Clamp:
    """backward(inp, g): no name says which parameter is the upstream gradient."""

    def forward(self, inp):
        return np.maximum(0, inp)

    def backward(self, inp, g):
        return g * (inp > 0)


@pytest.mark.parametrize("layer", LIBRARY_LAYERS, ids=lambda layer: layer.correct)
def test_every_reading_of_the_library_layers_is_either_unconfirmed_or_passes(layer):
    """The layers of tests/unseen_code/library_layers.py (history lists, gradient dicts, an unused optimizer)."""
    obj, x = getattr(layer.module, layer.make)(np.random.default_rng(1), getattr(layer.module, layer.correct))
    assert confirmed_readings_pass(layer_readings(obj, x)) >= 1


def test_readings_that_call_backward_wrongly_are_tried_and_not_confirmed():
    x = np.array([[0.5, -1.0, 2.0], [-0.3, 1.5, -2.0]])
    readings = layer_readings(Clamp(), x)
    assert "inp <- the upstream gradient" in readings[0].describe and not readings[0].certain
    assert confirm(readings[0].build())[0] is not None  # x * (dout > 0) is not linear in dout
    assert "g <- the upstream gradient" in readings[1].describe and confirm(readings[1].build())[0] is None
    report = gv.check_layer(Clamp(), x)
    assert report.ok and any(n.startswith("binding: Clamp.backward(g <- the upstream gradient, inp <- the input)")
                             for n in report.notes)


# -- odd conventions: refused, never failed; the named flag resolves them -------------------------------------
@pytest.mark.parametrize("odd", ODD, ids=lambda o: o.name)
def test_an_odd_convention_is_refused_with_what_was_tried_and_resolved_by_the_flag(odd):
    case = _as_case(odd)
    with pytest.raises(GradvizError) as refused:
        _check(case, odd.name)
    text = str(refused.value)
    assert "cannot read" in text and "both hold and disagree" in text
    assert "  1. " in text and "  2. " in text
    flag = odd.flags[0]
    assert f"({flag} NAME)" in text  # the refusal names the flag that resolves it
    assert ".py:" not in text  # gradviz's own probing is never reported at the user's line
    assert _check(case, odd.name, **odd.said).ok


def _as_case(odd):
    from unseen_code.class_catalogue import Case

    return Case(odd.kind, odd.module, odd.name, odd.name, odd.inputs)


def test_a_layer_whose_backward_takes_what_gradviz_cannot_supply_is_refused_listing_each_position():
    class NoActivator(layer_classes.RecurrentLayer):
        def __init__(self, *args):
            super().__init__(*args)
            del self.activator  # backward(x, delta_h, activator) needs one; the layer keeps none

        def forward(self, input_array):
            state = self.U @ input_array + self.W @ self.state_list[-1] + self.b
            self.state_list.append(np.tanh(state))

    layer, x = layer_classes.recurrent_make(np.random.default_rng(1), NoActivator)
    with pytest.raises(GradvizError) as refused:
        gv.check_layer(layer, x)
    text = str(refused.value)
    assert "cannot read NoActivator" in text and "with delta_h as the upstream gradient" in text
    assert "nothing to pass to activator" in text and "--dout NAME" in text


# -- the command line -----------------------------------------------------------------------------------------
def run_cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)


def spec(value) -> str:
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return json.dumps(value.tolist())
    if isinstance(value, np.ndarray):
        return json.dumps(np.round(value, 6).tolist())
    return repr(value)


def cli_arguments(case, name) -> list[str]:
    """The target and its --init/--input/--args flags, from the fixture's own values (layers: random --init)."""
    import inspect

    path = CODE / (case.module.__name__.rsplit(".", 1)[-1] + ".py")
    subject, args = _made(case, name)
    out = [f"{path}:{name}"]
    if case.kind == "layer":
        fwd = next(getattr(subject, m) for m in ("forward", "__call__") if hasattr(subject, m))
        out += [a for k, v in case.init.items() for a in ("--init", f"{k}={v}")]
        return out + ["--input", f"{list(inspect.signature(fwd).parameters)[0]}={spec(args)}"]
    fn = subject[0] if case.kind == "grad_fn" else getattr(subject, "forward", None) if case.kind == "function" \
        else next(getattr(subject, m) for m in ("compute_loss", "loss", "forward", "__call__") if hasattr(subject, m))
    names = [p for p in inspect.signature(fn).parameters if p != "ctx"]
    settings = {}
    for n, v in zip(names, args):
        if isinstance(v, int):
            settings[n] = v
        else:
            out += ["--input", f"{n}={spec(v)}"]
    return out + (["--args", json.dumps(settings)] if settings else [])


def _json_failing(done) -> set:
    report = json.loads(done.stdout)["reports"][0]
    return {r["name"] for r in report["inputs"] if r["status"] != "PASS"}


@pytest.mark.parametrize("case", [c for c in CASES if c.correct in ("RecurrentLayer", "SquareLoss", "Power")],
                         ids=lambda c: c.id)
def test_cli_reads_the_unseen_styles_with_flags_only(case):
    good = run_cli(*cli_arguments(case, case.correct), "--json")
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr
    bad = run_cli(*cli_arguments(case, case.bug), "--json")
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr
    assert _json_failing(bad) == case.wrong


def test_cli_refuses_an_unnamed_history_with_exit_2_and_outputs_resolves_it():
    odd = ODD[0]
    arguments = cli_arguments(_with_init(odd), odd.name)
    refused = run_cli(*arguments)
    assert refused.returncode == 2 and "cannot read GatedCellUnnamed" in refused.stderr
    assert "--outputs NAME" in refused.stderr and "Traceback" not in refused.stderr
    resolved = run_cli(*arguments, *odd.flags)
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr


def _with_init(odd):
    case = _as_case(odd)
    case.init = odd.init
    return case


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_every_class_fixture(case):
    for name, wrong in ((case.correct, set()), (case.bug, case.wrong)):
        done = run_cli(*cli_arguments(case, name), "--json")  # layers: random --init of the fixture's shapes
        assert done.returncode == (1 if wrong else 0), done.stdout[-2000:] + done.stderr
        assert _json_failing(done) == wrong


@pytest.mark.slow
@pytest.mark.parametrize("odd", ODD, ids=lambda o: o.name)
def test_cli_every_odd_class_convention_exits_2_never_1(odd):
    arguments = cli_arguments(_with_init(odd), odd.name)
    done = run_cli(*arguments)
    assert done.returncode == 2, done.stdout + done.stderr
    assert run_cli(*arguments, *odd.flags).returncode == 0


# -- the course code gradviz read before: every reading it may try now is unconfirmed or passes ----------------
def _course_subjects():
    sys.path.insert(0, str(Path(__file__).parent / "course_code"))
    import blog_layers
    import dlfs_layers
    import minitorch_functions
    import mlfs_layers
    import nnfs_layers

    rng = np.random.default_rng(6)
    x, t = rng.normal(size=(5, 3)), rng.integers(3, size=5)
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    return [
        ("layer", lambda: layer_readings(nnfs_layers.Layer_Dense(4, 3), rng.normal(size=(5, 4)))),
        ("layer", lambda: layer_readings(dlfs_layers.Affine(rng.normal(size=(4, 3)), rng.normal(size=3)),
                                         rng.normal(size=(5, 4)))),
        ("layer", lambda: layer_readings(blog_layers.Dense(3, 2), rng.normal(size=(3, 1)))),
        ("layer", lambda: layer_readings(mlfs_layers.Dense(3), rng.normal(size=(5, 4)))),
        ("loss", lambda: loss_readings(dlfs_layers.SoftmaxWithLoss(), (x, t))),
        ("loss", lambda: loss_readings(nnfs_layers.Activation_Softmax_Loss_CategoricalCrossentropy(), (x, t))),
        ("loss", lambda: loss_readings(nnfs_layers.Loss_CategoricalCrossentropy(), (probs, np.eye(3)[t]))),
        ("grad_fn", lambda: grad_fn_readings(blog_layers.mse, blog_layers.mse_prime,
                                             (rng.normal(size=(4, 1)), rng.normal(size=(4, 1))))),
        ("function", lambda: function_readings(minitorch_functions.Mul, (2.0, 3.0))),
        ("function", lambda: function_readings(minitorch_functions.Log, (2.0,))),
    ]


@pytest.mark.parametrize("k", range(10))
def test_every_reading_of_the_course_code_read_before_is_either_unconfirmed_or_passes(k):
    kind, readings = _course_subjects()[k]
    assert confirmed_readings_pass(readings()) >= 1, kind
