"""Verdicts you can trust everywhere (issue 13): independent streams, findings in the report, IEEE floats.

Each case is code written the way courses write it, correct or with one planted bug, and the
expected verdict comes from the mathematics (closed-form derivatives written here), never from
gradviz itself.
"""

import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import gradviz as gv


# --- 0. no false PASS from correlated test data ----------------------------------------------------

DENSE_TRANSPOSED_DW = textwrap.dedent("""
    import numpy as np

    class Dense:
        def __init__(self):
            rng = np.random.default_rng(5)
            self.W = rng.normal(size=(3, 3))
            self.b = np.zeros(3)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dZ):
            self.dW = dZ.T @ self.x        # planted bug: should be self.x.T @ dZ
            self.db = dZ.sum(axis=0)
            return dZ @ self.W.T
""")


def _dense_module(tmp_path):
    (tmp_path / "layers.py").write_text(DENSE_TRANSPOSED_DW)
    namespace: dict = {}
    exec(compile(DENSE_TRANSPOSED_DW, "layers.py", "exec"), namespace)  # the test's own fixture code
    return namespace["Dense"]


def test_transposed_dw_on_square_shapes_fails_through_check_layer(tmp_path):
    Dense = _dense_module(tmp_path)
    for seed in range(3):
        report = gv.check_layer(Dense(), np.random.default_rng(seed).normal(size=(3, 3)), seed=seed)
        assert not report.ok
        assert {r.name: r.status for r in report.results}["W"] == "FAIL"


def test_transposed_dw_on_square_shapes_fails_through_the_cli(tmp_path):
    _dense_module(tmp_path)
    for seed in ("0", "1"):
        done = subprocess.run([sys.executable, "-m", "gradviz", "check", "layers.py:Dense", "--input-shape", "3,3",
                               "--seed", seed], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "W" in done.stdout and "FAIL" in done.stdout


def test_streams_are_independent_per_purpose():
    from gradviz.checking.streams import COTANGENT, INPUTS, stream

    x = stream(0, INPUTS).normal(size=(3, 3))
    dz = stream(0, COTANGENT).normal(size=(3, 3))
    assert not np.allclose(x, dz)
    np.testing.assert_array_equal(x, stream(0, INPUTS).normal(size=(3, 3)))


# --- 2. every finding is in the report ---------------------------------------------------------------

class MatMulWrongShape(gv.Function):
    @staticmethod
    def forward(x, w):
        return x @ w

    @staticmethod
    def backward(grad, x, w, out):
        return grad @ w.T, grad.T @ x  # planted bug: dW transposed, shape (4, 3) for w (3, 4)


class MatMulRaises(gv.Function):
    @staticmethod
    def forward(x, w):
        return x @ w

    @staticmethod
    def backward(grad, x, w, out):
        return grad @ w.T, x.T @ grad.T  # planted bug: matmul of (3, 2) and (4, 2) raises


class MatMulOneGradient(gv.Function):
    @staticmethod
    def forward(x, w):
        return x @ w

    @staticmethod
    def backward(grad, x, w, out):
        return (grad @ w.T,)  # planted bug: forgot the gradient of w


@pytest.fixture
def xw():
    rng = np.random.default_rng(0)
    return gv.Tensor(rng.normal(size=(2, 3)), label="x"), gv.Tensor(rng.normal(size=(3, 4)), label="w")


def test_wrong_shape_gradient_is_a_report_naming_op_node_input_and_shapes(xw):
    report = gv.check(lambda x, w: MatMulWrongShape.apply(x, w).sum(), *xw)
    assert not report.ok and report.status == "FAIL"
    bad = report.first_bad_node
    assert bad.op == "MatMulWrongShape"
    assert "input 1" in bad.message and "(4, 3)" in bad.message and "(3, 4)" in bad.message
    assert "node #" in report.verdict and "(4, 3)" in report.verdict


def test_backward_that_raises_is_an_error_report(xw):
    report = gv.check(lambda x, w: MatMulRaises.apply(x, w).sum(), *xw)
    assert not report.ok and report.status == "ERROR"
    assert "MatMulRaises.backward raised ValueError" in report.verdict
    assert report.first_bad_node.status == "ERROR" and report.first_bad_node.op == "MatMulRaises"


def test_wrong_number_of_gradients_is_a_report(xw):
    report = gv.check(lambda x, w: MatMulOneGradient.apply(x, w).sum(), *xw)
    assert report.status == "FAIL" and "returned 1 gradients for 2 inputs" in report.verdict


def test_checked_function_that_raises_is_an_error_report():
    report = gv.check(lambda x: x * (1 / 0), gv.Value(1.0, label="x"))
    assert report.status == "ERROR" and not report.ok and "ZeroDivisionError" in report.verdict


# --- 6. one float semantics ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["sqrt", "log"])
def test_value_follows_ieee_like_tensor_at_zero(method):
    with pytest.warns(gv.NumericWarning, match="divides by zero"):
        v = gv.Value(0.0)
        getattr(v, method)().backward()
    assert v.grad == math.inf  # d sqrt(x)/dx = 1/(2 sqrt x), d log x/dx = 1/x: +inf at 0+
    t = gv.Tensor(np.zeros(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        getattr(t, method)().sum().backward()
    assert t.grad[0] == v.grad


def test_tolerances_are_validated():
    for bad in ({"eps": 0}, {"eps": -1e-6}, {"atol": float("nan")}, {"rtol": -1}):
        with pytest.raises(gv.GradvizError, match=next(iter(bad))):
            gv.check(lambda x: x * x, gv.Value(1.0), **bad)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_cli_eps_zero_is_a_usage_error():
    done = _cli("check", "x*x", "--at", "x=1", "--eps", "0")
    assert done.returncode == 2
    assert "--eps" in done.stderr and "Traceback" not in done.stderr


def test_cli_sqrt_at_zero_says_the_derivative_is_infinite_without_traceback():
    done = _cli("check", "sqrt(x)", "--at", "x=0")
    assert "Traceback" not in done.stderr and "gradviz/" not in done.stderr, done.stderr
    assert "infinite" in done.stdout and done.returncode == 0


def test_numeric_warnings_are_folded_into_the_report():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping gv.check would raise here
        report = gv.check(lambda x: x.sqrt(), gv.Value(0.0, label="x"))
    assert any(w.startswith("numeric:") and "sqrt" in w for w in report.warnings)
