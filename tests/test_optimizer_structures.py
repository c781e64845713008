"""Optimizers read by structure, not by the names of their arguments (QA of new-user code, issue 22).

Objects that update every parameter in one call (update/step/apply over two dicts or lists, gradients keyed
alike or dW), functions whose state is a nested dict made by the file's own builder, Adagrad, RMSProp written
with eps inside the root (TensorFlow 1's way), and a name that says another rule than the steps follow. The
fixtures are in tests/unseen_optimizers/whole_updates.py; every expected trajectory is written out by hand here,
independently of gradviz's reference rules.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.optimizers import check, rules
from gradviz.checking.optimizers.conventions import Setup, containers, explicit
from gradviz.checking.optimizers.hypotheses import Context
from gradviz.checking.optimizers.layouts import LAYER_SHAPES
from gradviz.checking.optimizers.problem import DEFAULT_SHAPES, fixed_gradients
from unseen_optimizers import whole_updates as wu

ROOT = Path(__file__).resolve().parent.parent
FILE = Path(__file__).resolve().parent / "unseen_optimizers" / "whole_updates.py"
WHOLE, EXPLICIT = "update over all parameters", "function with explicit state"


# -- the rules written out by hand, one element at a time through numpy's broadcasting ---------------------------
def hand(kind, steps, shapes, **hp):
    """Every parameter after `steps` steps of `kind`, on the gradients gradviz drives with (seed 0)."""
    problem = fixed_gradients(0, steps, shapes=shapes)
    p = {k: v.copy() for k, v in problem.start.items()}
    s1 = {k: np.zeros_like(v) for k, v in p.items()}
    s2 = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(1, steps + 1):
        g = problem.gradients(t, p)
        for k in p:
            if kind == "momentum":  # v = mu*v + lr*g; p -= v
                s1[k] = hp["mu"] * s1[k] + hp["lr"] * g[k]
                p[k] = p[k] - s1[k]
            elif kind == "sgd":
                p[k] = p[k] - hp["lr"] * g[k]
            elif kind == "rmsprop":
                s1[k] = hp["rho"] * s1[k] + (1 - hp["rho"]) * g[k] ** 2
                root = np.sqrt(s1[k] + hp["eps"]) if hp.get("inside") else np.sqrt(s1[k]) + hp["eps"]
                p[k] = p[k] - hp["lr"] * g[k] / root
            elif kind == "adagrad":
                s1[k] = s1[k] + g[k] ** 2
                p[k] = p[k] - hp["lr"] * g[k] / (np.sqrt(s1[k]) + hp["eps"])
            elif kind in ("adam", "adamw"):
                if kind == "adamw":
                    p[k] = p[k] * (1 - hp["lr"] * hp["wd"])
                s1[k] = hp["b1"] * s1[k] + (1 - hp["b1"]) * g[k]
                s2[k] = hp["b2"] * s2[k] + (1 - hp["b2"]) * g[k] ** 2
                m_hat, v_hat = s1[k] / (1 - hp["b1"] ** t), s2[k] / (1 - hp["b2"] ** t)
                p[k] = p[k] - hp["lr"] * m_hat / (np.sqrt(v_hat) + hp["eps"])
    return list(p.values())


ADAMW = dict(lr=0.003, b1=0.85, b2=0.995, eps=1e-8, wd=0.05)
# (correct, with a planted bug, rule, convention, the cause of the bug, hand-written rule, its shapes)
PAIRS = [
    (wu.MomentumDeltas, wu.MomentumDeltasBug, "momentum", WHOLE, "momentum_convention",
     ("momentum", DEFAULT_SHAPES, dict(lr=0.02, mu=0.8))),
    (wu.WeightsRMSProp, wu.WeightsRMSPropBug, "rmsprop", WHOLE, "gradient_not_squared",
     ("rmsprop", DEFAULT_SHAPES, dict(lr=0.005, rho=0.95, eps=1e-6))),
    (wu.DecoupledAdam, wu.DecoupledAdamBug, "adamw", WHOLE, "weight_decay_mode", ("adamw", DEFAULT_SHAPES, ADAMW)),
    (wu.GraphRMSProp, wu.GraphRMSPropBug, "rmsprop", WHOLE, "gradient_not_squared",
     ("rmsprop", DEFAULT_SHAPES, dict(lr=0.01, rho=0.9, eps=1e-6, inside=True))),
    (wu.TensorsSGD, wu.TensorsSGDBug, "sgd", WHOLE, "step_sign_flipped", ("sgd", DEFAULT_SHAPES, dict(lr=0.1))),
    (wu.adam_update, wu.adam_update_bug, "adam", EXPLICIT, "bias_counter_offset",
     ("adam", LAYER_SHAPES, dict(lr=0.002, b1=0.9, b2=0.99, eps=1e-8))),
    (wu.adagrad_step, wu.adagrad_step_bug, "adagrad", EXPLICIT, "eps_inside_root",
     ("adagrad", LAYER_SHAPES, dict(lr=0.05, eps=1e-10))),
]
IDS = [p[0].__name__ for p in PAIRS]


def yours(report):
    """Your values in the report's rows, parameter by parameter in order (a PASS shows the last step)."""
    return [np.array([row.autograd for row in r.rows]) for r in report.results]


def reference(report):
    return [np.array([row.finite for row in r.rows]) for r in report.results]


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_a_correct_optimizer_passes_and_matches_the_rule_written_by_hand(pair):
    good, _, kind, convention, _, (rule, shapes, hp) = pair
    report = gv.check_optimizer(good)
    assert report.ok, str(report)
    assert report.settings["kind"] == kind and report.settings["convention"] == convention
    assert f"identified as {kind}" in report.verdict
    for mine, expected in zip(yours(report), hand(rule, 5, shapes, **hp)):
        np.testing.assert_allclose(mine, expected.ravel(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_its_planted_bug_fails_at_step_1_with_the_cause_against_the_hand_written_rule(pair):
    _, bad, kind, _, cause, (rule, shapes, hp) = pair
    report = gv.check_optimizer(bad, kind=kind)
    assert report.status == "FAIL", str(report)
    first = next(r for r in report.results if r.status == "FAIL")
    assert first.message.startswith("first diverges at step 1,") or cause == "bias_counter_offset", first.message
    assert [d.cause for r in report.results for d in (r.diagnosis or [])][:1] == [cause]
    for k, (result, compared) in enumerate(zip(report.results, reference(report))):
        if result.status == "FAIL":  # its rows are at the step where it first diverges
            step = int(result.message.split("step ")[1].split(",")[0])
            expected = hand(rule, step, shapes, **hp)[k]
            np.testing.assert_allclose(compared, expected.ravel(), rtol=1e-12, atol=1e-14)


def test_the_bugs_name_what_the_code_does():
    assert "momentum sign mixed" in gv.check_optimizer(wu.MomentumDeltasBug, kind="momentum").verdict
    assert "weight decay applied twice" in gv.check_optimizer(wu.DecoupledAdamBug, kind="adamw").verdict
    counted = gv.check_optimizer(wu.adam_update_bug, kind="adam").verdict
    assert "step counter that starts at 2 instead of 1" in counted


def test_l2_decay_counted_twice_in_sgd_is_named():
    problem = fixed_gradients(0, 1)
    w0, g = problem.start["W"], problem.gradients(1, problem.start)["W"]
    good = gv.check_optimizer(wu.sgd_decay, kind="sgd", steps=1)
    assert good.ok and good.settings["hyperparameters"]["weight_decay"] == 1e-3
    np.testing.assert_allclose(yours(good)[0], (w0 - 0.05 * (g + 1e-3 * w0)).ravel(), rtol=1e-13)
    bad = gv.check_optimizer(wu.sgd_decay_bug, kind="sgd")
    assert "weight decay applied twice: each step decays p by 2*lr*weight_decay*p" in bad.verdict
    np.testing.assert_allclose(yours(bad)[0], (w0 - 0.05 * (g + 2e-3 * w0)).ravel(), rtol=1e-13)


# -- every reading: unconfirmed, or confirmed and then the correct code passes -----------------------------------
OBJECTS = [p for p in PAIRS if p[3] == WHOLE]


@pytest.mark.parametrize("pair", OBJECTS, ids=[p[0].__name__ for p in OBJECTS])
def test_every_reading_of_a_correct_object_is_unconfirmed_or_passes(pair):
    good, _, kind, _, _, _ = pair
    setup = Setup(0, 5, {})
    options = containers.readings(good, {})
    confirmed = [r for r in options if containers.confirm(good, setup, r, False) is None]
    assert confirmed and len(confirmed) < len(options)
    for reading in confirmed:
        runs = containers.drive_containers(good, setup, reading)
        hp, _ = check.hyper.resolve(kind, {}, [s for run in runs for s in run.sources])
        bases = [rules.REFERENCE] + [v for v, _ in rules.ACCEPTED.get(kind, [])]
        assert any(Context(kind, hp, runs, check.RTOL, check.ATOL, base=b).follows() for b in bases), reading


def test_a_reading_under_which_the_code_raises_is_a_failed_reading_not_an_error():
    """Gradients keyed W where the code reads dW: KeyError, so that reading is not confirmed; dW is."""
    setup = Setup(0, 5, {})
    same_keys, d_keys = [r for r in containers.readings(wu.MomentumDeltas, {}) if r.roles[0][0] == "params"][:2]
    assert (same_keys.pack, d_keys.pack) == ("dict", "dict-d")
    assert "raised KeyError: 'dW'" in containers.confirm(wu.MomentumDeltas, setup, same_keys, False)
    assert containers.confirm(wu.MomentumDeltas, setup, d_keys, False) is None
    report = gv.check_optimizer(wu.MomentumDeltas, kind="momentum")
    assert report.notes == ["binding: update(...): params <- the parameters (a dict keyed W, b), grads <- their "
                            "gradients (a dict keyed dW, db)"]


class Crashing:
    """Raises whatever it is given: no reading runs, so gradviz refuses rather than blame the code's line."""

    def update(self, params, grads):
        raise RuntimeError("not implemented yet")


def test_an_update_that_raises_under_every_reading_is_refused():
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_optimizer(Crashing)
    assert "gradviz cannot read Crashing.update" in str(refused.value)
    assert "raised RuntimeError: not implemented yet" in str(refused.value)


def test_roles_are_read_for_objects_updating_every_parameter():
    said = gv.check_optimizer(wu.MomentumDeltas, roles={"param": "params", "grad": "grads"})
    assert said.ok and said.settings["kind"] == "momentum"
    with pytest.raises(gv.GradvizError, match="MomentumDeltas.update has no argument weights"):
        gv.check_optimizer(wu.MomentumDeltas, roles={"param": "weights"})
    with pytest.raises(gv.GradvizError, match="keeps its state itself"):
        gv.check_optimizer(wu.MomentumDeltas, roles={"state": "grads"})


# -- state builders ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, builds", [("init_adam_state", True), ("initialize_velocity", True),
                                          ("adam_init", True), ("make_adam_state", True), ("build_cache", True),
                                          ("make_model", False), ("adam_update", False), ("reinit", False)])
def test_which_names_are_state_builders(name, builds):
    assert bool(explicit.BUILDER.search(name)) is builds


def test_a_nested_state_made_by_the_builder_is_used_and_said():
    report = gv.check_optimizer(wu.adam_update)
    assert ("state <- state (a dict keyed step, first, second, arrays zero at first); the state is made by "
            "make_adam_state(...) from your file") in report.notes[0]


# -- rules gradviz does not know, conventions, and names ---------------------------------------------------------
def test_an_update_following_no_known_rule_is_refused_under_auto_and_failed_when_a_rule_is_asked():
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_optimizer(wu.forgetful_adagrad)
    text = str(refused.value)
    assert text.startswith("forgetful_adagrad follows none of the update rules gradviz knows (sgd, momentum")
    assert "gradviz has no reference for the rule it follows" in text and "--optimizer adagrad" in text
    assert gv.check_optimizer(wu.forgetful_adagrad, kind="adagrad").status == "FAIL"


def test_adagrad_reference_against_a_scalar_written_out():
    out = rules.trajectory("adagrad", {"lr": 0.5, "eps": 0.0, "weight_decay": 0.0}, {"p": np.array(1.0)},
                           lambda step, params: {"p": np.array([3.0, 4.0][step - 1])}, 2)["p"]
    assert out[0] == pytest.approx(1.0 - 0.5 * 3.0 / 3.0)
    assert out[1] == pytest.approx(1.0 - 0.5 - 0.5 * 4.0 / 5.0)  # sqrt(9 + 16) = 5


def test_rmsprop_with_eps_inside_the_root_passes_naming_the_convention():
    report = gv.check_optimizer(wu.GraphRMSProp, kind="rmsprop")
    assert report.ok and "written with eps inside the square root" in report.verdict
    assert report.settings["written"].startswith("eps inside the square root, g/sqrt(s + eps)")
    assert any("both placements are in use" in n for n in report.notes)
    outside = gv.check_optimizer(wu.WeightsRMSProp, kind="rmsprop")
    assert outside.ok and outside.settings["written"] == ""


def test_a_name_that_says_another_rule_is_said_under_auto():
    report = gv.check_optimizer(wu.nesterov_sgd)
    assert report.ok and report.settings["kind"] == "momentum"
    assert report.warnings == ["the name nesterov_sgd says nesterov, but its steps follow momentum, not nesterov; if "
                               "nesterov is meant, check it as kind='nesterov' (--optimizer nesterov), which shows "
                               "where it departs"]
    assert gv.check_optimizer(wu.nesterov_sgd, kind="nesterov").status == "FAIL"
    assert gv.check_optimizer(wu.DecoupledAdam).warnings == []  # an Adam class decaying decoupled is still Adam


# -- the command line ----------------------------------------------------------------------------------------------
def run_cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)


@pytest.mark.parametrize("args, code, words", [
    (("MomentumDeltas", "--optimizer", "momentum"), 0, "follows momentum"),
    (("MomentumDeltasBug", "--optimizer", "momentum"), 1, "momentum sign mixed"),
    (("MomentumDeltas", "--optimizer", "momentum", "--role", "param=params", "--role", "grad=grads"), 0,
     "follows momentum"),
    (("TensorsSGD", "--optimizer", "--role", "param=tensors"), 0, "identified as sgd"),
    (("DecoupledAdam", "--optimizer", "adamw"), 0, "follows adamw"),
    (("DecoupledAdamBug", "--optimizer", "adamw"), 1, "weight decay applied twice"),
    (("adam_update_bug", "--optimizer", "adam"), 1, "starts at 2 instead of 1"),
    (("GraphRMSProp", "--optimizer"), 0, "written with eps inside the square root"),
    (("forgetful_adagrad", "--optimizer"), 2, "follows none of the update rules gradviz knows"),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_cli(args, code, words):
    done = run_cli(f"{FILE}:{args[0]}", *args[1:], "-q")
    assert done.returncode == code and words in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
