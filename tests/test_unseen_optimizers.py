"""Optimizers in conventions gradviz was not written for, read by structure and confirmed before any verdict.

The fixtures in tests/unseen_optimizers/ were written for these tests in the styles of a major course's
"optimization methods" assignment (dicts keyed W1/b1 with state keyed dW1, a step counter t passed in), a
school's one-variable tasks (hyperparameters first, the state handed back), small numpy libraries (lists of
layers with gradients in backprop order, per-parameter objects keyed by a name or a slot), each correct and with
a planted bug. The reference rules are checked against hand-written updates in tests/test_optimizers.py; the
first step of two fixtures is recomputed here in closed form.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.optimizers import check
from gradviz.checking.optimizers.conventions import Setup, explicit, parameter
from gradviz.checking.optimizers.hypotheses import Context
from gradviz.checking.optimizers.layouts import LAYER_SHAPES
from gradviz.checking.optimizers.problem import fixed_gradients
from gradviz.checking.optimizers.conventions import layer_objects
from unseen_optimizers import book_layers, course_dicts, dict_returns, layer_lists, odd, param_objects, variables

ROOT = Path(__file__).resolve().parent.parent
CODE = Path(__file__).resolve().parent / "unseen_optimizers"
EXPLICIT, PER, LAYER = "function with explicit state", "per-parameter update", "layer object"

# (module, correct, with a planted bug, rule, convention, the cause named (or None: no single cause fits), first
# step that differs)
PAIRS = [
    (course_dicts, "update_parameters_with_momentum", "update_parameters_with_momentum_bug", "momentum-ema", EXPLICIT,
     None, 1),
    (course_dicts, "update_parameters_with_adam", "update_parameters_with_adam_bug", "adam", EXPLICIT, None, 1),
    (course_dicts, "update_parameters_with_adam_corrected", "update_parameters_with_adam_corrected_bug", "adam",
     EXPLICIT, "bias_correction_missing", 1),
    (variables, "update_variables_momentum", "update_variables_momentum_bug", "momentum-ema", EXPLICIT, None, 1),
    (variables, "update_variables_RMSProp", "update_variables_RMSProp_bug", "rmsprop", EXPLICIT,
     "gradient_not_squared", 1),
    (variables, "update_variables_Adam", "update_variables_Adam_bug", "adam", EXPLICIT, "eps_inside_root", 1),
    (layer_lists, "momentum_update", "momentum_update_bug", "momentum", EXPLICIT, "momentum_convention", 1),
    (layer_lists, "nesterov_step", "nesterov_step_bug", "nesterov", EXPLICIT, None, 1),
    (dict_returns, "rmsprop_update", "rmsprop_update_bug", "rmsprop", EXPLICIT, "gradient_not_squared", 1),
    (dict_returns, "adam_step", "adam_step_bug", "adam", EXPLICIT, "bias_power_fixed", 2),
    (dict_returns, "heavy_ball", "heavy_ball_bug", "momentum", EXPLICIT, "lr_applied_twice", 1),
    (param_objects, "RMSProp", "RMSPropBug", "rmsprop", PER, "state_shared", 2),
    (param_objects, "AdamSlots", "AdamSlotsBug", "adam", PER, "state_shared", 2),
    (param_objects, "AdamIteration", "AdamIterationBug", "adam", PER, "bias_one_moment", 1),
    (book_layers, "Optimizer_SGD", "Optimizer_SGD_bug", "momentum", LAYER, None, 2),
    (book_layers, "Optimizer_Adam", "Optimizer_Adam_bug", "adam", LAYER, "bias_power_fixed", 2),
    (book_layers, "Optimizer_RMSprop", "Optimizer_RMSprop_bug", "rmsprop", LAYER, "gradient_not_squared", 1),
]
IDS = [p[1] for p in PAIRS]


def run_cli(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env=env)


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_a_correct_optimizer_passes_and_auto_names_its_rule(pair):
    module, good, _, kind, convention, _, _ = pair
    report = gv.check_optimizer(getattr(module, good))
    assert report.ok, str(report)
    assert report.settings["kind"] == kind and report.settings["convention"] == convention
    assert f"identified as {kind}" in report.verdict
    assert gv.check_optimizer(getattr(module, good), kind=kind).ok


@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_its_planted_bug_fails_at_the_first_wrong_step_with_the_cause(pair):
    module, _, bad, kind, _, cause, step = pair
    report = gv.check_optimizer(getattr(module, bad), kind=kind)
    assert report.status == "FAIL", str(report)
    first = next(r for r in report.results if r.status == "FAIL")
    assert first.message.startswith(f"first diverges at step {step},"), first.message
    causes = [d.cause for r in report.results for d in (r.diagnosis or [])]
    assert causes[:1] == ([cause] if cause else []), causes


def test_the_binding_names_each_argument_and_the_containers():
    adam = gv.check_optimizer(course_dicts.update_parameters_with_adam)
    assert ("binding: parameters <- the parameters (a dict keyed W1, b1, ...), grads <- their gradients (a dict keyed "
            "dW1, db1, ...), v <- state (a dict keyed dW1, db1, ..., zeros at first), s <- state") in adam.notes[0]
    assert "the state is made by initialize_adam(...) from your file" in adam.notes[0]
    lists = gv.check_optimizer(layer_lists.momentum_update)
    assert "grads <- their gradients (a list [W1, b1, W2, b2] in reversed layer order)" in lists.notes[0]
    assert "init_velocity(...)" in lists.notes[0]
    objects = gv.check_optimizer(param_objects.RMSProp())
    assert objects.notes == ["binding: param <- the parameter, param_grad <- its gradient, param_name <- the "
                             "parameter's name"]


def test_a_step_counter_passed_in_is_driven_from_1_or_from_0_as_the_rule_follows_and_said():
    course = gv.check_optimizer(course_dicts.update_parameters_with_adam)
    assert course.settings["counter"] == "t = 1, 2, 3, ... (counted from 1)"
    assert ("step counter passed: t = 1, 2, 3, ... (counted from 1); the reference rule follows this count"
            in course.notes)
    handed_back = gv.check_optimizer(dict_returns.adam_step)  # t starts at 0 and the function returns t + 1
    assert handed_back.ok and handed_back.settings["counter"] == "t = 0, 1, 2, ... (counted from 0)"
    loop_index = gv.check_optimizer(param_objects.AdamIteration)  # the training loop's index, 0, 1, 2, ...
    assert loop_index.ok and loop_index.settings["counter"] == "0, 1, 2, ... (steps counted from 0)"


def test_the_first_step_of_two_fixtures_against_closed_forms():
    """Momentum as an average moves b1 by lr*(1-beta)*g at step 1; the bug moves it by lr*g. Adam's first step
    from zero moments is lr*g/(|g| + eps) whatever the gradient's size."""
    problem = fixed_gradients(0, 5, shapes=LAYER_SHAPES)
    g = problem.gradients(1, problem.start)
    report = gv.check_optimizer(course_dicts.update_parameters_with_momentum_bug, kind="momentum-ema")
    row = next(r for r in report.worst(50) if r.input == "b1" and r.index == (0, 0))
    assert row.finite == pytest.approx(problem.start["b1"][0, 0] - 0.01 * 0.1 * g["b1"][0, 0], rel=1e-12)
    assert row.autograd == pytest.approx(problem.start["b1"][0, 0] - 0.01 * g["b1"][0, 0], rel=1e-12)
    adam = gv.check_optimizer(course_dicts.update_parameters_with_adam, steps=1)
    for row in adam.worst(50):
        name, index = row.input, row.index
        expected = problem.start[name][index] - 0.01 * g[name][index] / (abs(g[name][index]) + 1e-8)
        assert row.autograd == pytest.approx(expected, rel=1e-12, abs=1e-15)


CORRECT_FUNCTIONS = [(getattr(m, good), kind) for m, good, _, kind, conv, _, _ in PAIRS if conv == EXPLICIT]
CORRECT_OBJECTS = [(getattr(m, good), kind) for m, good, _, kind, conv, _, _ in PAIRS if conv == PER]


def _follows(kind, runs):
    return check._choose_alternative(kind, runs, {}, check.RTOL, check.ATOL)[4]


@pytest.mark.parametrize("fn, kind", CORRECT_FUNCTIONS, ids=lambda v: getattr(v, "__name__", v))
def test_every_reading_of_a_correct_function_is_unconfirmed_or_passes(fn, kind):
    setup = Setup(0, 5, {})
    args = explicit.arguments_of(fn, {}, {})
    starts = (1, 0) if args.counter else (None,)
    tried = confirmed = 0
    for reading in explicit.readings(args.data, {}):
        tried += 1
        if not any(explicit.confirm(fn, reading, args, setup, s, False) is None for s in starts):
            continue
        confirmed += 1
        runs = [explicit._drive(fn, reading, args, setup, s) for s in starts]
        assert _follows(kind, runs), f"{fn.__name__} confirmed as {reading.describe()} and does not pass"
    assert confirmed >= 1 and tried > confirmed


@pytest.mark.parametrize("cls, kind", CORRECT_OBJECTS, ids=lambda v: getattr(v, "__name__", v))
def test_every_reading_of_a_correct_object_is_unconfirmed_or_passes(cls, kind):
    setup = Setup(0, 5, {})
    confirmed = [roles for roles in parameter.readings(cls, {}) if parameter.confirm(cls, setup, roles, False) is None]
    assert confirmed and len(confirmed) < len(parameter.readings(cls, {}))
    for roles in confirmed:
        runs = parameter.drive_per_parameter(cls, setup, roles)
        hp, _ = check.hyper.resolve(kind, {}, [s for run in runs for s in run.sources])
        groups = {run.alternative for run in runs}
        assert any(Context(kind, hp, [r for r in runs if r.alternative == g], check.RTOL, check.ATOL).follows()
                   for g in groups), f"{cls.__name__} confirmed as {roles} and does not pass"


@pytest.mark.parametrize("cls", [book_layers.Optimizer_SGD, book_layers.Optimizer_Adam, book_layers.Optimizer_RMSprop],
                         ids=lambda c: c.__name__)
def test_a_layer_object_is_confirmed_only_under_the_spelling_it_reads(cls):
    setup = Setup(0, 5, {})
    confirmed = [s for s in layer_objects.SPELLINGS if layer_objects.confirm(cls, setup, "update_params", s) is None]
    assert confirmed == [("weights", "biases", "dweights", "dbiases")]
    report = gv.check_optimizer(cls)
    assert report.notes[0].startswith("binding: layer.weights, layer.biases <- the parameters, layer.dweights, "
                                      "layer.dbiases <- their gradients; update_params(layer) for each of two layers")


def test_a_layer_object_with_a_spelling_gradviz_does_not_try_is_refused():
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_optimizer(odd.KernelSGD)
    text = str(refused.value)
    assert text.startswith("gradviz cannot read KernelSGD.update_params(layer): none of the 5 spellings")
    assert "1. layer.weights, layer.biases <- the parameters, layer.dweights, layer.dbiases <- their gradients: " \
           "raised AttributeError" in text


def test_a_gradient_named_outside_the_vocabulary_is_found_by_data_flow():
    report = gv.check_optimizer(param_objects.AdamSlots())  # update(slot, tensor, delta)
    assert report.ok and report.notes == ["binding: tensor <- the parameter, delta <- its gradient, slot <- the "
                                          "parameter's name"]


# -- deliberately odd conventions: refused, never failed, and resolved by saying the roles ------------------------
def test_weight_decay_written_into_the_step_is_refused_and_resolved_by_naming_the_gradient():
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_optimizer(odd.sgd_decayed)
    text = str(refused.value)
    assert text.startswith("gradviz cannot read sgd_decayed: none of the")
    assert "1. theta <- the parameters (an array), g <- their gradients (an array): from a fresh state, with a zero " \
           "gradient at theta[" in text
    assert "--role grad=NAME" in text
    resolved = gv.check_optimizer(odd.sgd_decayed, kind="sgd", roles={"grad": "g"}, weight_decay=1e-4)
    assert resolved.ok, str(resolved)
    named = gv.check_optimizer(odd.sgd_decayed, kind="sgd", roles={"grad": "g"})
    assert [d.cause for r in named.results for d in (r.diagnosis or [])] == ["different_hyperparameter"]
    assert "weight_decay = 0.0001" in named.verdict


def test_a_gradient_spent_in_place_is_refused_and_resolved_by_naming_it():
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_optimizer(odd.ScaledInPlace)
    assert "1. value <- the parameter, delta <- its gradient: it changed delta in place" in str(refused.value)
    report = gv.check_optimizer(odd.ScaledInPlace, roles={"grad": "delta"})
    assert report.ok and report.settings["kind"] == "sgd"


def test_roles_naming_no_argument_or_no_role_are_one_clear_error():
    with pytest.raises(gv.GradvizError, match="ScaledInPlace.update has no argument nope; its arguments are value, "
                                              "delta"):
        gv.check_optimizer(odd.ScaledInPlace(), roles={"grad": "nope"})
    with pytest.raises(gv.GradvizError, match="role 'velocity' is not one gradviz reads; the roles are param, grad, "
                                              "state, step, name"):
        gv.check_optimizer(course_dicts.update_parameters_with_momentum, roles={"velocity": "v"})


def test_roles_said_for_a_function_are_honoured():
    report = gv.check_optimizer(course_dicts.update_parameters_with_adam,
                                roles={"param": "parameters", "grad": "grads", "state": ["v", "s"], "step": "t"})
    assert report.ok and report.settings["counter"].startswith("t = 1")


# -- the command line ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", PAIRS, ids=IDS)
def test_cli_every_pair(pair):
    module, good, bad, kind, _, _, step = pair
    target = str(CODE / f"{module.__name__.rsplit('.', 1)[-1]}.py")
    done = run_cli(f"{target}:{good}", "--optimizer", "-q")
    assert done.returncode == 0 and f"identified as {kind}" in done.stdout, done.stdout + done.stderr
    failed = run_cli(f"{target}:{bad}", "--optimizer", kind, "-q")
    assert failed.returncode == 1 and f"first diverges at step {step}," in failed.stdout, failed.stdout + failed.stderr


def test_cli_refuses_odd_conventions_with_exit_2_and_the_role_flag_resolves_them():
    target = str(CODE / "odd.py")
    refused = run_cli(f"{target}:ScaledInPlace", "--optimizer")
    assert refused.returncode == 2 and "gradviz cannot read ScaledInPlace.update" in refused.stderr
    assert "--role grad=NAME" in refused.stderr and "Traceback" not in refused.stderr
    resolved = run_cli(f"{target}:ScaledInPlace", "--optimizer", "--role", "grad=delta", "-q")
    assert resolved.returncode == 0 and "identified as sgd" in resolved.stdout
    decayed = run_cli(f"{target}:sgd_decayed", "--optimizer", "sgd")
    assert decayed.returncode == 2 and "gradviz cannot read sgd_decayed" in decayed.stderr
    said = run_cli(f"{target}:sgd_decayed", "--optimizer", "sgd", "--role", "grad=g",
                   "--args", '{"weight_decay": 1e-4}')
    assert said.returncode == 0, said.stdout + said.stderr
    bad_flag = run_cli(f"{target}:ScaledInPlace", "--optimizer", "--role", "grad")
    assert bad_flag.returncode == 2 and "--role takes ROLE=NAME[,NAME]" in bad_flag.stderr


def test_roles_for_a_convention_that_does_not_read_them_are_a_clear_error():
    def sgd(w, dw, config=None):
        return w - 0.01 * dw, config

    with pytest.raises(gv.GradvizError, match="sgd is a CS231n-style function .* leave roles out"):
        gv.check_optimizer(sgd, roles={"grad": "dw"})


def test_the_course_momentum_asked_as_momentum_fails_naming_the_averaged_form():
    report = gv.check_optimizer(course_dicts.update_parameters_with_momentum, kind="momentum")
    assert report.status == "FAIL" and "check it as kind='momentum-ema'" in report.verdict
    causes = [d.cause for r in report.results for d in (r.diagnosis or [])]
    assert causes[0] == "momentum_convention", causes
