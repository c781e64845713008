"""An activation and its derivative, both returning arrays, are read as what they are (never "a loss must be
one number", a FAIL blamed on the student): an elementwise function's derivative is checked as the upstream
gradient times it; a function whose outputs mix its inputs is refused with the way to check it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from unseen_code import activation_pairs as pairs

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
CASES = [("sigmoid", "sigmoid_derivative"), ("tanh", "tanh_prime"), ("leaky_relu", "leaky_relu_backward_grad")]


def _x(seed=0):
    x = np.random.default_rng(seed).normal(size=(3, 4))
    return np.where(np.abs(x) < 0.05, 0.3, x)  # away from leaky_relu's kink


@pytest.mark.parametrize("f, f_prime", CASES)
def test_a_correct_activation_and_derivative_pass_and_the_planted_slip_fails(f, f_prime):
    x = _x()
    good = gv.check_grad_fn(getattr(pairs, f), getattr(pairs, f_prime), x)
    assert good.status == "PASS", str(good)
    assert any("elementwise" in n for n in good.notes)
    bad = gv.check_grad_fn(getattr(pairs, f), getattr(pairs, f_prime + "_bug"), x)
    assert bad.status == "FAIL" and [r.name for r in bad.results if r.status == "FAIL"] == [x_name(f)]


def x_name(f):
    return {"sigmoid": "x", "tanh": "z", "leaky_relu": "Z"}[f]


def test_the_reading_multiplies_the_upstream_gradient_by_the_derivative_element_by_element():
    z = _x(1)
    report = gv.check_grad_fn(pairs.tanh, pairs.tanh_prime_bug, z)
    rows = report.rows()
    assert rows and all(r.finite is not None for r in rows)
    # closed forms: yours = dout * (1 - tanh z), true = dout * (1 - tanh(z)**2), so yours / true = 1 / (1 + tanh z)
    for r in rows:
        if abs(r.finite) > 1e-6:
            assert r.autograd / r.finite == pytest.approx(1 / (1 + np.tanh(z[r.index])), rel=1e-4)


def test_a_loss_returning_per_element_errors_and_its_derivative():
    y_hat, y = _x(2), _x(3)
    assert gv.check_grad_fn(pairs.squared_error, pairs.squared_error_prime, y_hat, y).status == "PASS"
    bad = gv.check_grad_fn(pairs.squared_error, pairs.squared_error_prime_bug, y_hat, y)
    assert bad.status == "FAIL"


def test_a_function_whose_outputs_mix_its_inputs_is_refused_not_failed():
    with pytest.raises(gv.GradvizError, match=r"softmax returns an array of shape \(5,\), not one number, and its "
                                              r"elements mix several elements of x.*forward/backward pair"):
        gv.check_grad_fn(pairs.softmax, pairs.softmax_derivative, np.linspace(-1, 1, 5))


def cli(*args):
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True,
                          cwd=HERE / "unseen_code", env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)


@pytest.mark.parametrize("f, f_prime", CASES)
def test_cli_activation_pairs(f, f_prime):
    arg = f"{x_name(f)}=[[0.5, -1.2, 2.0], [-0.3, 0.8, -2.5]]"
    good = cli(f"activation_pairs.py:{f},{f_prime}", "--input", arg)
    assert good.returncode == 0, good.stdout[-1500:] + good.stderr[-1500:]
    bad = cli(f"activation_pairs.py:{f},{f_prime}_bug", "--input", arg)
    assert bad.returncode == 1 and "FAIL" in bad.stdout, bad.stdout[-1500:] + bad.stderr[-1500:]


def test_cli_refuses_softmax_with_its_elementwise_derivative_with_exit_2():
    done = cli("activation_pairs.py:softmax,softmax_derivative", "--input", "x=[0.1, 0.5, -0.3]")
    assert done.returncode == 2 and "mix several elements of x" in done.stderr and "Traceback" not in done.stderr
