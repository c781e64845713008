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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = gv.Value(0.0)
        getattr(v, method)().backward()
    assert any(issubclass(w.category, gv.NumericWarning) and "divides by zero" in str(w.message) for w in caught)
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


# --- 1. kinks and ties, judged correctly in every mode ------------------------------------------------

from gradviz.checking.finite import clarke_check  # noqa: E402

UPSTREAM = np.array([[1.0, 1.0], [1.0, -1.0]])  # mixed signs over the kinked elements
AT_ZERO = np.array([[0.0, 0.5], [-0.3, 0.0]])  # two exact zeros, one under each sign


class ReLUWithoutKinks(gv.Function):
    """A correct relu written by a student who never heard of kinks(): PyTorch's mask x > 0."""

    elementwise = True

    @staticmethod
    def forward(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(grad, x, out):
        return grad * (x > 0)

    @staticmethod
    def symbolic(x):
        import sympy

        return sympy.Max(x, 0)


class MaxFirstWinner(gv.Function):
    """max over all entries, the gradient to the first maximum (numpy's argmax): correct."""

    @staticmethod
    def forward(x):
        return np.max(x)

    @staticmethod
    def backward(grad, x, out):
        mask = np.zeros_like(x)
        mask.flat[np.argmax(x)] = 1.0
        return grad * mask


class MaxAllTied(gv.Function):
    """The tie-only bug: mask = (x == max) sends the full gradient to every tied maximum."""

    @staticmethod
    def forward(x):
        return np.max(x)

    @staticmethod
    def backward(grad, x, out):
        return grad * (x == np.max(x))


def _pool_windows(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)


class MaxPool2x2(gv.Function):
    """A student's 2x2 max pool, NCHW; `bug` plants a wrong backward at ties."""

    bug = None

    @classmethod
    def forward(cls, x):
        return _pool_windows(x).max(axis=-1)

    @classmethod
    def backward(cls, grad, x, out):
        windows = _pool_windows(x)
        if cls.bug == "all_ties":
            mask = (windows == windows.max(axis=-1, keepdims=True)).astype(float)
        elif cls.bug == "wrong_side":
            mask = (windows == windows.min(axis=-1, keepdims=True)).astype(float)
        else:
            mask = np.zeros_like(windows)
            np.put_along_axis(mask, windows.argmax(axis=-1)[..., None], 1.0, axis=-1)
        dx = mask * grad[..., None]
        n, c, h, w = x.shape
        return dx.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)


class PoolAllTies(MaxPool2x2):
    bug = "all_ties"


class PoolWrongSide(MaxPool2x2):
    bug = "wrong_side"


TIED_IMAGE = np.array([[[[1.0, 2.0, 0.5, 0.1], [2.0, 0.0, 0.3, 0.7],
                         [0.4, 0.4, 1.0, -1.0], [0.4, 0.4, 2.0, 0.0]]]])  # ties in three windows
POOL_UPSTREAM = np.array([[[[1.0, -1.0], [-2.0, 0.5]]]])

MODES = ["full", "directional", "auto"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("relu", ["builtin", "user op without kinks()"])
def test_correct_relu_at_zero_under_mixed_upstream_is_nondiff(mode, relu):
    apply = (lambda x: x.relu()) if relu == "builtin" else ReLUWithoutKinks.apply
    report = gv.check(lambda x: (apply(x) * UPSTREAM).sum(), gv.Tensor(AT_ZERO, label="x"), mode=mode)
    assert report.ok and report.status == "NONDIFF", report
    assert report.first_bad_node is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_correct_max_at_a_tie_is_nondiff_under_either_upstream_sign(mode, sign):
    x = gv.Tensor([[1.0, 3.0], [3.0, 0.0]], label="x")
    builtin = gv.check(lambda x: x.max() * sign + (x * UPSTREAM).sum(), x, mode=mode)
    user = gv.check(lambda x: MaxFirstWinner.apply(x) * sign + (x * UPSTREAM).sum(), x, mode=mode)
    pool = gv.check(lambda x: (MaxPool2x2.apply(x) * POOL_UPSTREAM * sign).sum(), gv.Tensor(TIED_IMAGE, label="x"),
                    mode=mode)
    builtin_pool = gv.check(lambda x: (gv.F.max_pool2d(x, 2) * POOL_UPSTREAM * sign).sum(),
                            gv.Tensor(TIED_IMAGE, label="x"), mode=mode)
    for report in (builtin, user, pool, builtin_pool):
        assert report.ok and report.status == "NONDIFF", report


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", [MaxAllTied, PoolAllTies, PoolWrongSide])
def test_tie_bugs_fail_and_are_localized_to_their_node(mode, op):
    if op is MaxAllTied:
        report = gv.check(lambda x: op.apply(x) * -2.0 + (x * UPSTREAM).sum(), gv.Tensor([[1.0, 3.0], [3.0, 0.0]],
                          label="x"), mode=mode)
    else:
        report = gv.check(lambda x: (op.apply(x) * POOL_UPSTREAM).sum(), gv.Tensor(TIED_IMAGE, label="x"), mode=mode)
    assert not report.ok and report.status == "FAIL"
    assert report.first_bad_node is not None and report.first_bad_node.op == op.__name__
    assert "valid subgradient" in report.first_bad_node.message or op is PoolWrongSide


def test_large_relu_network_with_one_exact_zero_passes_in_auto_mode():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 50))
    x[3, 4] = 0.0
    W = gv.Tensor(rng.normal(size=(50, 10)), label="W")
    report = gv.check(lambda x: (x.relu() @ W).tanh().sum(), gv.Tensor(x, label="x"))
    assert report.settings["mode"] == "directional"
    assert report.ok and report.status == "NONDIFF"


def _valid(phi, z, v):
    return clarke_check(phi, np.asarray(z, float), np.asarray(v, float), 1e-6, 1e-5, 1e-3,
                        np.random.default_rng(0)).valid


def test_clarke_check_accepts_every_subgradient_and_nothing_else():
    # relu(x1) - relu(x2) at 0: the pieces' gradients are (a, -b), a, b in {0, 1}: the box [0,1] x [-1,0].
    relu_diff = lambda z: max(z[0], 0.0) - max(z[1], 0.0)  # noqa: E731
    assert _valid(relu_diff, [0, 0], [0, 0])  # PyTorch's choice, which the joint-direction test rejected
    assert _valid(relu_diff, [0, 0], [1, -1]) and _valid(relu_diff, [0, 0], [0.5, -0.2])
    assert not _valid(relu_diff, [0, 0], [2, 0]) and not _valid(relu_diff, [0, 0], [0, 0.5])
    # 2 max(x1, x2, x3) at a tie of the first two: the hull of (2, 0, 0) and (0, 2, 0).
    tie = lambda z: 2.0 * max(z)  # noqa: E731
    assert _valid(tie, [1, 1, 0], [2, 0, 0]) and _valid(tie, [1, 1, 0], [1, 1, 0])
    assert not _valid(tie, [1, 1, 0], [2, 2, 0])  # the full gradient to every tied maximum
    assert not _valid(tie, [1, 1, 0], [1, 1, 0.5])
    # relu(x1 + x2) - relu(x1 - x2) at 0: kinks not along the axes; pieces (0,0), (1,1), (-1,1), (0,2).
    skew = lambda z: max(z[0] + z[1], 0.0) - max(z[0] - z[1], 0.0)  # noqa: E731
    assert _valid(skew, [0, 0], [0, 0]) and _valid(skew, [0, 0], [0, 2]) and _valid(skew, [0, 0], [0, 1])
    assert not _valid(skew, [0, 0], [3, 3])


RELU_LAYER = textwrap.dedent("""
    import numpy as np

    class ReLU:
        def forward(self, x):
            self.cache = x
            return np.maximum(0, x)

        def backward(self, dout):
            return dout * (self.cache > 0)
""")


def test_hand_written_relu_layer_at_zeros_is_nondiff_under_a_random_upstream():
    namespace: dict = {}
    exec(compile(RELU_LAYER, "relu_layer.py", "exec"), namespace)  # the test's own fixture code
    x = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 0.5]])
    report = gv.check_layer(namespace["ReLU"](), x)
    assert report.ok and report.results[0].counts().get("NONDIFF") == 3


# --- 3. bounded SymPy cost, and the report says which strategy ------------------------------------------

def test_sympy_strategy_and_reason_are_in_the_report(monkeypatch):
    from gradviz.checking import symbolic_stage

    small = gv.check(lambda w, x: (w * x).tanh(), gv.Value(0.5, label="w"), gv.Value(2.0, label="x"))
    assert small.settings["sympy"].startswith("whole expression") and "w" in small.formulas()
    x = np.random.default_rng(1).normal(size=(10, 10))
    big = gv.check(lambda t: t.tanh().sum(), gv.Tensor(x, label="x"))
    assert big.settings["sympy"].startswith("per-op") and "201 scalar elements (> 40)" in big.settings["sympy"]
    np.testing.assert_allclose(big.results[0].symbolic, 1 - np.tanh(x) ** 2, rtol=1e-12)
    monkeypatch.setattr(symbolic_stage, "WHOLE_EXPRESSION_BUDGET", 0.0)
    over = gv.check(lambda w, x: (w * x).tanh(), gv.Value(0.5, label="w"), gv.Value(2.0, label="x"))
    assert "budget" in over.settings["sympy"] and over.ok
    assert over.results[0].symbolic == pytest.approx(2.0 * (1 - math.tanh(1.0) ** 2), rel=1e-12)


def test_array_twins_are_differentiated_once_per_distinct_expression():
    from gradviz.checking import symbolic
    from gradviz.ops import pool

    x = np.random.default_rng(2).normal(size=(1, 2, 6, 6))
    g = np.random.default_rng(3).normal(size=(1, 2, 3, 3))
    (dx,) = symbolic.symbolic_vjp(pool.MAX_POOL2D, (x,), {"kernel": (2, 2), "stride": (2, 2)}, g)
    windows = x.reshape(1, 2, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(1, 2, 3, 3, 4)
    winner = windows == windows.max(axis=-1, keepdims=True)  # no ties at a random point
    expected = (winner * g[..., None]).reshape(1, 2, 3, 3, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    np.testing.assert_allclose(dx, expected, atol=1e-12)
    compiled = symbolic._cache[("expanded", "max_pool2d", (x.shape,), g.shape,
                                symbolic._attrs_key({"kernel": (2, 2), "stride": (2, 2)}))]
    assert len(compiled.parts) == 1  # 18 windows, one expression Max(t0, t1, t2, t3)


# --- 4. strict mode: the tolerance comes from the finite differences' own measured error -----------------

LN_EPS = 1e-5


def _layer_norm_backward(grad, h, eps):
    n = h.shape[-1]
    xhat = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + eps)
    return (n * grad - grad.sum(-1, keepdims=True) - xhat * (grad * xhat).sum(-1, keepdims=True)) / (
        n * np.sqrt(h.var(-1, keepdims=True) + eps))


class LayerNorm(gv.Function):
    @staticmethod
    def forward(h):
        return (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + LN_EPS)

    @staticmethod
    def backward(grad, h, out):
        return _layer_norm_backward(grad, h, LN_EPS)


class LayerNormForgotEps(LayerNorm):
    @staticmethod
    def backward(grad, h, out):
        return _layer_norm_backward(grad, h, 0.0)  # planted bug: sqrt(var) instead of sqrt(var + eps)


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_strict_mode_catches_a_layer_norm_without_eps_that_default_tolerances_pass(mode):
    h = gv.Tensor(np.random.default_rng(4).normal(size=(3, 5)), label="h")
    w = np.random.default_rng(5).normal(size=(3, 5))
    bug = lambda t: (LayerNormForgotEps.apply(t) * w).sum()  # noqa: E731
    default = gv.check(bug, h, mode=mode)
    assert default.ok  # 1e-5 relative: under rtol=1e-3, as in torch gradcheck
    strict = gv.check(bug, h, mode=mode, strict=True)
    assert not strict.ok and strict.settings["strict"]
    assert "measured finite-difference error" in strict.settings["tolerance"]
    correct = gv.check(lambda t: (LayerNorm.apply(t) * w).sum(), h, mode=mode, strict=True)
    assert correct.ok


def test_strict_mode_raises_no_alarm_on_any_op_of_the_table_at_kinks_included():
    from gradviz import selftest

    outcomes = list(selftest.run(0, strict=True))
    assert any(item.expect == "NONDIFF" for item, _ in outcomes)
    failed = [(item.name, outcome.status) for item, outcome in outcomes if not selftest.passed(item, outcome)]
    assert failed == []


def test_cli_strict_states_the_tolerance_it_applied():
    done = _cli("check", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "--strict")
    assert done.returncode == 0 and "strict: per element" in " ".join(done.stdout.split())  # wrapped at 80


# --- 5. numbers a student can read --------------------------------------------------------------------------

class SquareWrongFactor(gv.Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(grad, x, out):
        return (3 * x * grad,)  # planted bug: d(x^2)/dx is 2x

    @staticmethod
    def symbolic(x):
        return x**2


class SquareWrongFactorNoTwin(SquareWrongFactor):
    symbolic = None


@pytest.mark.parametrize("op", [SquareWrongFactor, SquareWrongFactorNoTwin])
def test_scalar_node_messages_compare_local_derivatives(op):
    report = gv.check(lambda a: op.apply(a) * 2.0, gv.Value(1.5, label="a"))
    message = report.first_bad_node.message
    # at a = 1.5 the true local derivative is 2a = 3; the buggy backward gives 3a = 4.5
    assert "local derivative 4.5" in message and " 3 (" in message
    assert "upstream gradient 2, the real one" in message


def test_array_node_messages_say_it_is_a_vector_jacobian_product():
    report = gv.check(lambda a: (SquareWrongFactor.apply(a) * 2.0).sum(), gv.Tensor(np.full(3, 1.5), label="a"))
    assert "vector-Jacobian product along a random upstream gradient" in report.first_bad_node.message


def test_a_directional_pass_says_it_compared_directions_not_every_element():
    x = gv.Tensor(np.random.default_rng(5).normal(size=(40, 60)), label="x")
    report = gv.check(lambda x: (x.tanh() * x).sum(), x, mode="directional", methods=("finite",))
    assert report.ok
    assert "along 8 random directions through all 2400 elements" in report.verdict
    assert "on all 2400 elements" not in report.verdict
