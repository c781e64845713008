"""gv.check: the three oracles, the verdict, localization, kinks, sweep and report formats."""

import json
import math

import numpy as np
import pytest
import sympy

import gradviz as gv

from oracles import wrong_tanh


WrongTanh = wrong_tanh()


class TwinBug(gv.Function):
    """A correct backward with a wrong symbolic twin: SymPy must be named the odd one out."""

    elementwise = True

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(grad, x, out):
        return (2 * x * grad,)

    @staticmethod
    def symbolic(x):
        return x**3


class AllTiedMax(gv.Function):
    """max over a vector whose backward sends the full gradient to every tied maximum (a student bug)."""

    @staticmethod
    def forward(x):
        return np.max(x)

    @staticmethod
    def backward(grad, x, out):
        return (grad * (x == out),)


def test_a_correct_scalar_graph_passes_with_sympy_formulas():
    w, x, b = gv.Value(0.5, label="w"), gv.Value(2.0, label="x"), gv.Value(-1.0, label="b")
    report = gv.check(lambda w, x, b: (w * x + b).tanh(), w, x, b)
    assert report.ok and report.status == "PASS"
    by_name = {r.name: r for r in report.results}
    assert set(by_name) == {"w", "x", "b"}
    expected_dw = 2.0 * (1 - math.tanh(0.0) ** 2)
    assert by_name["w"].rows[0].symbolic == pytest.approx(expected_dw)
    assert by_name["w"].rows[0].finite == pytest.approx(expected_dw, rel=1e-6)
    sw, sx, sb = sympy.symbols("w x b", real=True)
    truth = sympy.diff(sympy.tanh(sw * sx + sb), sw)
    assert sympy.simplify(report.formulas()["w"] - truth) == 0
    assert "tanh" in report.formulas(latex=True)["w"]
    assert "eps=1e-06 atol=1e-05 rtol=0.001" in str(report)


def test_a_wrong_backward_deep_in_a_graph_is_localized_and_autograd_is_the_odd_one_out():
    rng = np.random.default_rng(0)
    x = gv.Tensor(rng.normal(size=(3, 4)), label="x")
    W = gv.Tensor(rng.normal(size=(4, 2)), label="W")

    def model(x, W):
        with gv.scope("hidden"):
            h = (x @ W).sigmoid()
        z = WrongTanh.apply(h * 2.0 - 1.0)
        return (z * z).mean() + (x * x).sum() * 0.01

    report = gv.check(model, x, W)
    assert not report.ok and report.status == "FAIL"
    assert "yours is the odd one out" in report.verdict
    bad = report.first_bad_node
    assert bad is not None and bad.op == "WrongTanh" and bad.oracle == "symbolic"
    assert all(n.status == "PASS" for n in report.nodes if n.op != "WrongTanh")
    failing = [row for row in report.rows() if row.status == "FAIL"]
    assert failing and all(row.note == "yours is the odd one out" for row in failing)
    assert "WrongTanh" in str(report)


def test_a_user_op_without_twin_is_localized_by_local_finite_differences():
    class NoTwin(gv.Function):
        @staticmethod
        def forward(x):
            return x * x * x

        @staticmethod
        def backward(grad, x, out):
            return (2 * x * x * grad,)  # should be 3 x^2

    report = gv.check(lambda a: NoTwin.apply(a.tanh()) + a, gv.Value(0.7, label="a"))
    assert not report.ok
    assert report.first_bad_node.op == "NoTwin"
    assert report.first_bad_node.oracle.startswith("finite")


def test_twin_bug_names_sympy_as_the_odd_one_out_without_failing_the_gradient():
    report = gv.check(lambda a: TwinBug.apply(a), gv.Value(1.5, label="a"))
    assert report.results[0].status == "PASS"
    assert "SymPy is the odd one out" in report.verdict
    assert report.ok and report.first_bad_node is None  # local finite differences side with backward
    assert any(n.message.startswith("twin bug") for n in report.nodes)


def test_relu_at_zero_and_max_ties_are_nondiff_not_fail():
    relu = gv.check(lambda x: x.relu() * 3.0, gv.Value(0.0, label="x"))
    assert relu.ok and relu.results[0].status == "NONDIFF"
    assert "relu has a kink at 0" in relu.verdict
    ties = gv.check(lambda x: x.max(axis=1).sum(), gv.Tensor([[1.0, 2.0, 2.0], [0.5, 0.1, 0.2]], label="x"))
    assert ties.ok
    statuses = {row.index: row.status for row in ties.results[0].rows}
    assert statuses[(0, 1)] == statuses[(0, 2)] == "NONDIFF"
    assert statuses[(1, 0)] == "PASS"


def test_full_gradient_to_every_tied_maximum_fails_with_the_explanation():
    report = gv.check(lambda x: AllTiedMax.apply(x) * 2.0, gv.Tensor([1.0, 3.0, 3.0, 0.0], label="x"))
    assert not report.ok
    assert any("not a valid subgradient" in d for d in report.results[0].diagnosis)
    # coordinate by coordinate each tied element alone looks fine; only the joint test catches it
    one_max = gv.check(lambda x: x.max() * 2.0, gv.Tensor([1.0, 3.0, 3.0, 0.0], label="x"))
    assert one_max.ok


def test_float32_input_is_warned_about_and_upcast():
    x32 = gv.Tensor(np.array([0.3, -0.2], dtype=np.float32), label="x")
    with pytest.warns(gv.PrecisionWarning, match="float32"):
        report = gv.check(lambda x: (x * x).sum(), x32)
    assert report.ok
    assert any("float32" in w for w in report.warnings)


def test_step_size_sweep_shows_the_truncation_roundoff_valley_and_float32():
    x32 = gv.Tensor(np.array([0.7, -1.3], dtype=np.float32), label="x")
    with pytest.warns(gv.PrecisionWarning):
        report = gv.check(lambda x: x.exp().sum() + (x * 3.0).tanh().sum(), x32)
    sweep = report.sweep()
    errors = dict(zip(sweep.steps, sweep.error64))
    assert errors[1e-1] > 100 * errors[1e-5]  # truncation on the left
    assert errors[1e-12] > 100 * errors[1e-5]  # round-off on the right
    assert 1e-7 <= sweep.best_step <= 1e-3
    errors32 = dict(zip(sweep.steps, sweep.error32))
    assert errors32[1e-6] > 1000 * errors[1e-6]  # why float32 cannot be checked at h = 1e-6
    assert "smallest float64 error" in str(sweep)


def test_directional_mode_checks_big_inputs_in_few_evaluations():
    rng = np.random.default_rng(1)
    W = gv.Tensor(rng.normal(size=(300, 400)) * 0.05, label="W")
    x = gv.Tensor(rng.normal(size=(2, 300)), label="x")
    calls = []

    def model(x, W):
        calls.append(1)
        return (x @ W).tanh().sum()

    report = gv.check(model, x, W, methods=("finite",))
    assert report.settings["mode"] == "directional" and report.ok
    assert len(calls) < 40
    broken = gv.check(lambda x, W: WrongTanh.apply(x @ W).sum(), x, W, methods=("finite",), mode="directional")
    assert not broken.ok and "random directions" in broken.verdict


def test_non_scalar_output_is_checked_through_a_random_cotangent():
    x = gv.Tensor(np.array([[0.5, -1.0], [2.0, 0.1]]), label="x")
    report = gv.check(lambda x: x.tanh() * 2.0, x)
    assert report.ok
    assert any("random cotangent" in w for w in report.warnings)


def test_params_are_checked_and_restored():
    rng = np.random.default_rng(2)
    W = gv.Tensor(rng.normal(size=(3, 2)), label="W")
    W.grad = np.full((3, 2), 7.0)
    before = W.data.copy()
    report = gv.check(lambda x: (x @ W).sigmoid().sum(), gv.Tensor(rng.normal(size=(4, 3)), label="x"), params=[W])
    assert report.ok and [r.name for r in report.results] == ["x", "W"]
    np.testing.assert_array_equal(W.data, before)
    np.testing.assert_array_equal(W.grad, np.full((3, 2), 7.0))


def test_nan_and_inf_are_reported_never_passed():
    nan_in = gv.check(lambda x: x * 2.0, gv.Value(float("nan"), label="x"))
    assert not nan_in.ok and "nan" in nan_in.verdict
    inf_out = gv.check(lambda x: x.exp(), gv.Value(1000.0, label="x"))
    assert not inf_out.ok and "output is nan or inf" in inf_out.verdict
    assert any("overflows" in w for w in inf_out.warnings)  # folded into the report, not printed


def test_large_graph_uses_per_op_symbolic_derivatives_and_says_so():
    rng = np.random.default_rng(3)
    x = gv.Tensor(rng.normal(size=(12, 20)), label="x")  # 240 elements, > 300 over the whole graph
    report = gv.check(lambda x: (x.tanh() * x).sum(), x, mode="directional")
    assert report.ok
    assert any("per-op derivatives" in w for w in report.warnings)
    assert report.results[0].rows[0].symbolic is not None


def test_per_node_check_of_a_big_scalar_graph():
    def chain(a):
        y = a
        for i in range(500):
            y = (y * 0.9 + 0.05).tanh() + a * 0.001
        return y

    report = gv.check(chain, gv.Value(0.3, label="a"))
    assert report.ok
    assert len(report.nodes) > 2000 and all(n.status == "PASS" for n in report.nodes)


def test_report_formats_are_machine_and_human_readable():
    report = gv.check(lambda x: WrongTanh.apply(x), gv.Value(0.4, label="x"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["status"] == "FAIL"
    assert data["settings"]["atol"] == 1e-5
    assert data["inputs"][0]["worst"][0]["status"] == "FAIL"
    assert data["first_bad_node"]["op"] == "WrongTanh"
    md = report.to_markdown()
    # a scalar has no index column; the columns say whose answer they hold (the JSON keys stay as they were)
    assert "| input | yours | finite differences | SymPy |" in md and "❌ FAIL" in md
    assert {"autograd", "finite", "symbolic"} <= set(data["inputs"][0]["worst"][0])
    text = str(report)
    assert "yours" in text and "FAIL" in text.splitlines()[0]


def test_bad_arguments_are_clear_errors():
    with pytest.raises(gv.GradvizError, match="methods"):
        gv.check(lambda x: x, gv.Value(1.0), methods=("magic",))
    with pytest.raises(gv.GradvizError, match="must return a gradviz Value or Tensor"):
        gv.check(lambda x: 3.0, gv.Value(1.0))
    raised = gv.check(lambda x: 1 / 0, gv.Value(1.0))  # user code raising is a finding, not a crash
    assert raised.status == "ERROR" and "raised ZeroDivisionError" in raised.verdict


@pytest.mark.parametrize("numpy_code", [lambda x: np.tanh(x).sum(), lambda x: float(np.sum(x.data))],
                         ids=["numpy ufunc on a Tensor", "returns a float"])
def test_a_numpy_function_given_to_check_is_a_usage_error_naming_the_forms_to_use(numpy_code):
    with pytest.raises(gv.GradvizTypeError) as caught:
        gv.check(numpy_code, np.array([0.5, -1.0, 2.0]))
    message = str(caught.value)
    assert "gv.check_grad_fn(f, grad_f, x)" in message and "gv.check_pair" in message
