"""gv.check_optimizer: hand-written optimizers in every convention, correct ones pass, planted bugs are named.

The student code lives in tests/student_optimizers/ (one file per convention, as courses write them). The
reference rules are checked against scalar updates written out in this file, and gv.optim against them.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.optimizers import problem, rules

sys.path.insert(0, str(Path(__file__).parent / "student_optimizers"))

import cs231n_optim as cs  # noqa: E402
import loop_optim as loops  # noqa: E402
import object_optim as objects  # noqa: E402


def _layers():
    return {"hidden": objects.Layer(3, 4, 0), "out": objects.Layer(4, 2, 1)}


CORRECT = [
    (cs.sgd, "sgd", "CS231n-style function"),
    (cs.sgd_momentum, "momentum", "CS231n-style function"),
    (cs.nesterov_momentum, "nesterov", "CS231n-style function"),
    (cs.rmsprop, "rmsprop", "CS231n-style function"),
    (cs.rmsprop_eps_inside, "rmsprop", "CS231n-style function"),  # TensorFlow 1's placement: a convention
    (cs.adam, "adam", "CS231n-style function"),
    (cs.adamw, "adamw", "CS231n-style function"),
    (loops.gradient_descent, "sgd", "loop function"),
    (loops.momentum, "momentum", "loop function"),
    (loops.adam, "adam", "loop function"),
    (objects.Adam(), "adam", "per-parameter update"),
    (objects.SGD(), "sgd", "update over all parameters"),
    (objects.Momentum(), "momentum", "update over all parameters"),
    (objects.AdamEpoch(), "adam", "update over all parameters"),
    (objects.RMSPropTemplate, "rmsprop", "dict of layers"),
    (objects.RMSPropTemplate(_layers()), "rmsprop", "dict of layers"),
    (objects.RMSPropHolding, "rmsprop", "optimizer holding the parameters"),
    (objects.RMSPropHolding([np.ones((2, 2)), np.zeros(3)], lr=0.1), "rmsprop", "optimizer holding the parameters"),
    (objects.StepAdam, "adam", "PyTorch-style step()"),
    (objects.StepNesterov([objects.Parameter(np.ones((2, 2))), objects.Parameter(np.zeros(3))]), "nesterov",
     "PyTorch-style step()"),
]


@pytest.mark.parametrize("target, kind, convention", CORRECT, ids=lambda v: getattr(v, "__name__", None))
def test_correct_optimizers_pass_and_auto_identifies_their_rule(target, kind, convention):
    report = gv.check_optimizer(target)
    assert report.ok, str(report)
    assert report.settings["kind"] == kind and report.settings["convention"] == convention
    assert f"identified as {kind}" in report.verdict
    assert gv.check_optimizer(target, kind=kind).ok


BUGS = [
    (cs.adam_no_bias_correction_bug, "adam", "bias correction missing", 1),
    (cs.adam_t_from_zero_bug, "adam", "counter that starts at 0", 1),
    (objects.AdamEpochBug(), "adam", "from the epoch instead of the step", 1),
    (objects.AdamFixedPowerBug(), "adam", "fixed power", 2),
    (cs.adam_m_only_bug, "adam", "applied to m only", 1),
    (cs.adam_eps_before_correction_bug, "adam", "eps added before the bias correction", 1),
    (loops.adam_eps_inside_bug, "adam", "eps inside the square root", 1),
    (cs.adam_not_squared_bug, "adam", "squared gradient is not squared", 1),
    (cs.rmsprop_not_squared_bug, "rmsprop", "averages |g|", 1),
    (cs.sgd_momentum_sign_bug, "momentum", "momentum sign mixed", 1),
    (cs.sgd_momentum_mixed_bug, "momentum", "two momentum conventions mixed", 1),
    (loops.momentum_ema_bug, "momentum", "momentum as an average", 1),
    (cs.sgd_lr_twice_bug, "sgd", "learning rate is applied twice", 1),
    (cs.adamw_coupled_bug, "adamw", "weight decay coupled", 1),
    (objects.RMSPropSharedStateBug, "rmsprop", "state shared between parameters", 2),
    (objects.StepAdamCounterBug, "adam", "step counter is shared between parameters", 2),
    (objects.SGDCopyBug(), "sgd", "applied to a copy", 1),
    (objects.RMSPropHoldingCopyBug, "rmsprop", "applied to a copy", 1),
    (objects.KerasStyleAdam(), "adam", "it runs with eps = 1e-07, not 1e-08", 1),
    (loops.descend, "sgd", "it runs with lr = 0.05, not 0.01", 1),
]


@pytest.mark.parametrize("target, kind, cause, step", BUGS, ids=lambda v: getattr(v, "__name__", None))
def test_each_planted_bug_fails_with_its_cause_and_first_step(target, kind, cause, step):
    report = gv.check_optimizer(target, kind=kind)
    assert not report.ok and report.status == "FAIL"
    assert cause in report.verdict, report.verdict
    first = next(r for r in report.results if r.status == "FAIL")
    assert first.message.startswith(f"first diverges at step {step}, element "), first.message
    assert any(cause in d for d in first.diagnosis)


@pytest.mark.parametrize("target, kind, cause, step", [b for b in BUGS if b[1] != "adamw"
                                                        and b[0] is not loops.momentum_ema_bug],
                         ids=lambda v: getattr(v, "__name__", None))
def test_auto_finds_the_intended_rule_behind_a_bug(target, kind, cause, step):
    report = gv.check_optimizer(target)
    assert report.settings["kind"] == kind and cause in report.verdict


def test_auto_reads_the_averaged_velocity_as_the_momentum_ema_rule_not_as_a_bug():
    """Issue 22: v = beta*v + (1-beta)*g is a rule of its own; asked as momentum it is named, with the way out."""
    assert gv.check_optimizer(loops.momentum_ema_bug).ok
    asked = gv.check_optimizer(loops.momentum_ema_bug, kind="momentum")
    assert "momentum as an average" in asked.verdict and "momentum-ema" in asked.verdict


def test_the_no_bias_correction_adam_reports_both_values_of_the_first_step():
    """The course report's Adam: no correction, eps = 1e-7; its first step is ~3.16 x lr instead of ~lr."""
    report = gv.check_optimizer(cs.adam_no_bias_correction_bug, kind="adam")
    p = problem.fixed_gradients(0, 5)
    w0, g = p.start["W"], p.fixed[0]["W"]
    lr = 1e-3
    theirs = w0 - lr * 0.1 * g / (math.sqrt(0.001) * np.abs(g) + 1e-7)  # m = 0.1 g, v = 0.001 g^2
    reference = w0 - lr * g / (np.abs(g) + 1e-8)  # m_hat = g, v_hat = g^2 at the first step
    result = report.results[0]
    index = tuple(int(i) for i in result.message.split("element W[", 1)[1].split("]", 1)[0].split(","))
    assert f"yours {theirs[index]:.10g}, reference {reference[index]:.10g}" in result.message
    assert "3.16 x lr" in result.diagnosis[0].evidence and result.diagnosis[0].cause == "bias_correction_missing"
    assert report.to_dict()["inputs"][0]["diagnosis"][0]["cause"] == "bias_correction_missing"


def test_an_epoch_argument_is_driven_from_0_and_from_1_with_several_steps_per_epoch():
    report = gv.check_optimizer(objects.AdamEpochBug())
    names = [r.name for r in report.results]
    assert "dense1.W (epochs counted from 0)" in names and "dense1.W (epochs counted from 1)" in names
    by_name = {r.name: r for r in report.results}
    assert "step 1" in by_name["dense1.W (epochs counted from 0)"].message  # epoch 0: 1 - beta1**0 = 0
    assert "step 2" in by_name["dense1.W (epochs counted from 1)"].message  # epoch 1 twice: the wrong power
    assert "(0, 0, 0, 1, 1) and (1, 1, 1, 2, 2)" in report.verdict + str(report)


def test_a_raising_optimizer_is_an_error_naming_the_step_parameter_and_line():
    report = gv.check_optimizer(loops.rmsprop_raises_bug, kind="rmsprop")
    assert report.status == "ERROR" and not report.ok and report.verdict.startswith("ERROR: rmsprop_raises_bug raised")
    message = report.results[0].message
    assert message.startswith("step 3") and "NameError" in message and "loop_optim.py:" in message


def test_a_wrong_shape_fails_naming_the_step_and_the_parameter():
    def sgd_transposed(w, dw, config=None):
        config = config or {"learning_rate": 1e-2}
        return (w - config["learning_rate"] * dw).T, config

    report = gv.check_optimizer(sgd_transposed, kind="sgd")
    bad = {r.name: r for r in report.results}
    assert bad["W"].status == "FAIL" and bad["W"].message == "step 1: W came back with shape (3, 2); it has shape (2, 3)"
    assert bad["b"].status == "PASS"


def test_update_that_returns_nothing_useful_is_a_fail_not_a_traceback():
    class Broken:
        def update(self, w, grad):
            return "done"

    report = gv.check_optimizer(Broken(), kind="sgd")
    assert report.status == "FAIL" and "returned str for W, not numbers" in report.results[0].message


def test_an_unknown_convention_lists_the_conventions_tried():
    class NotAnOptimizer:
        def apply(self, x):
            return x

    with pytest.raises(gv.GradvizError) as err:
        gv.check_optimizer(NotAnOptimizer())
    text = str(err.value)
    for form in ("next_w, config = rule(w, dw, config)", "compute_gradient", "opt.update(w, grad)",
                 "opt.update(params, grads", "opt.step()", "update(grads, name", "opt.update(grads[, epoch])"):
        assert form in text


def test_bad_kind_steps_and_hyperparameter_names_are_clear_errors():
    with pytest.raises(gv.GradvizError, match="kind='adadelta'.*sgd, momentum"):
        gv.check_optimizer(cs.sgd, kind="adadelta")
    with pytest.raises(gv.GradvizError, match="steps must be a positive"):
        gv.check_optimizer(cs.sgd, steps=0)
    with pytest.raises(gv.GradvizError, match="unknown hyperparameter learning_rat"):
        gv.check_optimizer(cs.sgd, learning_rat=0.1)
    with pytest.raises(gv.GradvizError, match="hyperparameter lr='0.1' is not a number"):
        gv.check_optimizer(cs.sgd, lr="0.1")
    with pytest.raises(gv.GradvizError, match="betas is a pair"):
        gv.check_optimizer(cs.adam, betas=0.9)


def test_given_hyperparameters_reach_the_code_and_the_reference():
    report = gv.check_optimizer(loops.gradient_descent, kind="sgd", learning_rate=0.3)
    assert report.ok and report.settings["hyperparameters"]["lr"] == 0.3
    report = gv.check_optimizer(cs.adam, kind="adam", learning_rate=0.05, beta1=0.8)
    assert report.ok and report.settings["hyperparameters"]["beta1"] == 0.8
    assert "lr=0.05(given)" in str(report)


def test_hyperparameters_are_read_from_the_object():
    report = gv.check_optimizer(objects.Adam(learning_rate=0.02, b1=0.5))
    assert report.ok and report.settings["hyperparameters"]["lr"] == 0.02
    assert report.settings["hyperparameters"]["beta1"] == 0.5


def test_the_users_optimizer_and_parameters_are_left_untouched():
    params = [gv.Tensor(np.ones((2, 2)), label="W1")]
    opt = objects.StepAdam(params, lr=0.1)
    assert gv.check_optimizer(opt).ok
    assert opt.t == 0 and np.array_equal(params[0].data, np.ones((2, 2)))


def test_weight_decay_decoupled_where_coupled_was_asked():
    report = gv.check_optimizer(cs.adamw, kind="adam", weight_decay=0.1)
    assert "weight decay decoupled" in report.verdict


def test_the_report_serialises_and_prints_yours_against_the_reference():
    report = gv.check_optimizer(cs.rmsprop_not_squared_bug)
    json.dumps(report.to_dict())
    text = str(report)
    header = next(line for line in text.splitlines() if line.startswith("input"))  # after the wrapped verdict
    assert "yours" in header and "reference" in header
    assert "| yours | reference |" in report.to_markdown()


def test_gv_optim_follows_the_reference_rules():
    sgd = gv.optim.SGD([gv.Tensor(np.ones((2, 3)), label="W")], lr=0.1, momentum=0.9)
    assert gv.check_optimizer(sgd).settings["kind"] == "momentum"
    assert gv.check_optimizer(gv.optim.SGD([gv.Value(0.5, label="a")], lr=0.1), kind="sgd").ok
    adam = gv.optim.Adam([gv.Value(0.5, label="a"), gv.Tensor(np.ones(3), label="t")], lr=0.1)
    assert gv.check_optimizer(adam, kind="adam").ok


# -- the reference rules against updates written out by hand ---------------------------------------------------
def _scalar_run(kind, grads, **hp):
    out = rules.trajectory(kind, {**rules.DEFAULTS[kind], **hp}, {"p": np.array(1.0)},
                           lambda step, params: {"p": np.array(grads[step - 1])}, len(grads))
    return [float(v) for v in out["p"]]


GRADS = [0.5, -2.0, 0.25]


def test_reference_sgd_momentum_and_nesterov_by_hand():
    assert _scalar_run("sgd", GRADS, lr=0.1) == pytest.approx([0.95, 1.15, 1.125], abs=1e-15)
    p, v, expect = 1.0, 0.0, []
    for g in GRADS:  # the classic form: it must give the same trajectory
        v = 0.9 * v - 0.1 * g
        p += v
        expect.append(p)
    assert _scalar_run("momentum", GRADS, lr=0.1) == pytest.approx(expect, abs=1e-15)
    p, v, expect = 1.0, 0.0, []
    for g in GRADS:  # CS231n's Nesterov on the look-ahead variable
        v_prev, v = v, 0.9 * v - 0.1 * g
        p += -0.9 * v_prev + 1.9 * v
        expect.append(p)
    assert _scalar_run("nesterov", GRADS, lr=0.1) == pytest.approx(expect, abs=1e-15)


@pytest.mark.parametrize("kind", ["momentum", "nesterov"])
def test_both_momentum_forms_follow_one_trajectory_at_a_fixed_learning_rate(kind):
    p = problem.fixed_gradients(3, 6)
    hp = {**rules.DEFAULTS[kind], "lr": 0.05, "momentum": 0.8}
    pytorch = rules.trajectory(kind, hp, p.start, p.gradients, 6)
    classic = rules.trajectory(kind, hp, p.start, p.gradients, 6, rules.Variant(classic=True))
    for name in p.start:
        np.testing.assert_allclose(classic[name], pytorch[name], rtol=1e-12, atol=1e-14)
        assert not np.allclose(pytorch[name][-1], p.start[name])  # they moved


def test_reference_rmsprop_adam_and_adamw_by_hand():
    p, s, expect = 1.0, 0.0, []
    for g in GRADS:
        s = 0.9 * s + 0.1 * g * g
        p -= 0.01 * g / (math.sqrt(s) + 1e-8)
        expect.append(p)
    assert _scalar_run("rmsprop", GRADS, rho=0.9) == pytest.approx(expect, abs=1e-15)
    for kind, wd in (("adam", 0.0), ("adamw", 0.1)):
        p, m, v, expect = 1.0, 0.0, 0.0, []
        for t, g in enumerate(GRADS, 1):
            p *= 1 - 0.01 * wd
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
            p -= 0.01 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
            expect.append(p)
        assert _scalar_run(kind, GRADS, lr=0.01, weight_decay=wd) == pytest.approx(expect, abs=1e-15)
    # Adam's first step is lr * sign(g), whatever the gradient's size (the property bias correction buys)
    assert _scalar_run("adam", [1e-3], lr=0.01)[0] == pytest.approx(1.0 - 0.01, abs=1e-7)


# -- the self-test and the command line ---------------------------------------------------------------------------
def test_the_self_test_checks_gv_optim_against_the_reference_rules():
    from gradviz import selftest

    mine = [i for i in selftest.items() if i.name.startswith("reference rule: ")]
    assert [i.name for i in mine] == ["reference rule: optim.SGD (sgd)", "reference rule: optim.SGD (momentum)",
                                      "reference rule: optim.Adam (adam)"]
    for item in mine:
        outcome = item.run()
        assert outcome.status == "PASS" and outcome.report.settings["steps"] == 5


STUDENT = Path(__file__).parent / "student_optimizers"


def _gradviz(*args, cwd):
    import subprocess

    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_cli_checks_an_optimizer_in_a_file(tmp_path):
    done = _gradviz(f"{STUDENT / 'cs231n_optim.py'}:adam_no_bias_correction_bug", "--optimizer", "adam",
                    cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    said = " ".join(done.stdout.split())  # sentences wrap at 80 columns when piped
    assert "Likely cause: bias correction missing" in said and "first diverges at step 1" in said
    done = _gradviz(f"{STUDENT / 'object_optim.py'}:StepAdam", "--optimizer", "--args", '{"lr": 0.01}', "--json",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] and doc["reports"][0]["settings"]["kind"] == "adam"
    assert doc["reports"][0]["settings"]["hyperparameters"]["lr"] == 0.01


def test_cli_optimizer_errors_are_one_line_and_exit_2(tmp_path):
    (tmp_path / "plain.py").write_text("def double(x):\n    return 2 * x\n")
    done = _gradviz("plain.py:double", "--optimizer", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not written in a calling convention gradviz knows; tried CS231n-style function" in done.stderr
    done = _gradviz(f"{STUDENT / 'cs231n_optim.py'}:sgd", "--optimizer", "sgd", "--args", '{"lx": 1}', cwd=tmp_path)
    assert done.returncode == 2 and "unknown hyperparameter lx" in done.stderr
    done = _gradviz(f"{STUDENT / 'loop_optim.py'}:rmsprop_raises_bug", "--optimizer", "rmsprop", cwd=tmp_path)
    assert done.returncode == 1 and "ERROR" in done.stdout and "step 3" in done.stdout



def test_a_hard_coded_hyperparameter_is_named_and_passing_it_makes_the_check_pass():
    report = gv.check_optimizer(objects.KerasStyleAdam())
    assert "1e-08 was the default: none was found in your code" in report.results[0].diagnosis[0].evidence
    assert gv.check_optimizer(objects.KerasStyleAdam(), eps=1e-7).ok
    assert gv.check_optimizer(loops.descend, kind="sgd", lr=0.05).ok


def test_a_class_that_cannot_be_made_is_one_clear_error():
    class Needs:
        def __init__(self, lr, size):
            self.lr = lr

        def update(self, w, grad):
            return w - self.lr * grad

    with pytest.raises(gv.GradvizError, match="creating Needs raised TypeError.*give its arguments"):
        gv.check_optimizer(Needs)
