"""One pipeline behind every entry point (issue #28): the same modes, rules, diagnosis and cost.

Every gradient here is judged against closed forms written in the test or
against finite differences; the layers are written the way courses write them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradviz as gv

rng = np.random.default_rng(28)


class Dense:
    """The MNIST layer every course has: cache on self, gradients kept as self.dW / self.db."""

    def __init__(self, n_in, n_out, bug=None, seed=0):
        r = np.random.default_rng(seed)
        self.W = r.normal(size=(n_in, n_out)) * 0.05
        self.b = r.normal(size=n_out) * 0.1
        self.bug = bug
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.calls += 1
        self.dW = self.x.T @ dout
        self.db = dout.mean(axis=0) if self.bug == "mean" else dout.sum(axis=0)
        if self.bug == "only dx":
            del self.dW, self.db
        return dout @ self.W.T


@pytest.mark.parametrize("bug", [None, "mean"])
def test_a_784x256_dense_costs_a_bounded_number_of_passes(bug):
    layer = Dense(784, 256, bug=bug)
    report = gv.check_layer(layer, rng.normal(size=(8, 784)))
    assert layer.calls <= 300, layer.calls  # forward + backward calls, whatever the verdict
    assert report.settings["mode"] == "directional"
    statuses = {r.name: r.status for r in report.results}
    if bug is None:
        assert report.ok and statuses == {"x": "PASS", "W": "PASS", "b": "PASS"}
        return
    assert statuses == {"x": "PASS", "W": "PASS", "b": "FAIL"}
    b = next(r for r in report.results if r.name == "b")
    worst = b.rows[0]
    # The true db is dout.sum(axis=0); the buggy one is 1/8 of it: every re-checked element shows that ratio.
    ratios = [row.autograd / row.finite for row in b.rows if abs(row.finite) > 1e-3]
    assert ratios and np.allclose(ratios, 1 / 8, rtol=1e-3)
    assert "batch size (8) once too often" in b.diagnosis[0]
    assert worst.status == "FAIL" and len(worst.index) == 1


def test_full_mode_is_still_available_and_strict_works_on_a_layer():
    x = rng.normal(size=(3, 4))
    full = gv.check_layer(Dense(4, 2), x, mode="full")
    assert full.ok and full.settings["mode"] == "full"
    directional = gv.check_layer(Dense(4, 2), x, mode="directional")
    assert directional.ok and directional.settings["mode"] == "directional"
    assert "random directions" in directional.verdict
    strict = gv.check_layer(Dense(4, 2), x, strict=True)
    assert strict.ok and strict.settings["strict"] and strict.settings["tolerance"].startswith("strict")


class SlightlyOff:
    """x**2 whose backward is 2x (1 + 2e-5): inside rtol=1e-3, outside strict mode's measured tolerance."""

    def forward(self, x):
        self.x = x
        return x ** 2

    def backward(self, dout):
        return 2 * self.x * (1 + 2e-5) * dout


def slightly_off_pair():
    def square_forward(x):
        return x ** 2, x

    def square_backward(dout, cache):
        return 2 * cache * (1 + 2e-5) * dout

    return square_forward, square_backward


class CtxSquare:
    """minitorch's ctx-style Function template, with the same 2e-5 slip."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, d_out):
        (x,) = ctx.saved_values
        return 2 * x * (1 + 2e-5) * d_out


def test_strict_catches_a_tiny_error_on_every_entry_point():
    x = rng.normal(size=(4,)) + 2.0
    fwd, bwd = slightly_off_pair()

    class Square(gv.Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def backward(grad, x, out):
            return (2 * x * (1 + 2e-5) * grad,)

    checks = {
        "check_layer": lambda **kw: gv.check_layer(SlightlyOff(), x, **kw),
        "check_pair": lambda **kw: gv.check_pair(fwd, bwd, x, **kw),
        "check_grad_fn": lambda **kw: gv.check_grad_fn(lambda v: float(np.sum(v ** 2)),
                                                       lambda v: 2 * v * (1 + 2e-5), x, **kw),
        "gv.check": lambda **kw: gv.check(lambda t: Square.apply(t), gv.Tensor(x, label="x"),
                                          methods=("finite",), **kw),
        "check_loss": lambda **kw: gv.check_loss(lambda v: (float(np.sum(v ** 2)), 2 * v * (1 + 2e-5)), x, **kw),
        "check_function": lambda **kw: gv.check_function(CtxSquare, x, **kw),
    }
    for name, run in checks.items():
        assert run().ok, name
        assert not run(strict=True).ok, name
        assert not run(strict=True, mode="directional").ok, name


def pair_with_suffix_dict(bug=False):
    def two_layer_forward(x, W1, b1):
        h = np.tanh(x @ W1 + b1)
        return h, (x, W1, h)

    def two_layer_backward(dout, cache):
        x, W1, h = cache
        dz = dout * (1 - h ** 2)
        return {"dx": dz @ W1.T, "W1_grad": x.T @ dz * (2.0 if bug else 1.0), "b1_grad": dz.sum(axis=0)}

    return two_layer_forward, two_layer_backward


def test_a_gradient_dict_with_suffix_names_is_compared_for_every_array():
    x, W1, b1 = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    report = gv.check_pair(*pair_with_suffix_dict(), x, W1, b1)
    assert report.ok and [r.name for r in report.results] == ["x", "W1", "b1"]
    assert all(r.status == "PASS" for r in report.results)
    wrong = gv.check_pair(*pair_with_suffix_dict(bug=True), x, W1, b1)
    assert {r.name: r.status for r in wrong.results} == {"x": "PASS", "W1": "FAIL", "b1": "PASS"}
    assert "twice the true gradient" in wrong.verdict


class DictBackward:
    """A layer whose backward hands back one dict for everything."""

    def __init__(self):
        self.W = rng.normal(size=(3, 2))
        self.b = rng.normal(size=2)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        return {"dx": dout @ self.W.T, "dW": self.x.T @ dout, "db": dout.sum(axis=0)}


def test_a_layer_backward_returning_one_dict_passes():
    report = gv.check_layer(DictBackward(), rng.normal(size=(4, 3)))
    assert report.ok and {r.name: r.status for r in report.results} == {"x": "PASS", "W": "PASS", "b": "PASS"}


def test_a_backward_without_parameter_gradients_fails_naming_them():
    report = gv.check_layer(Dense(3, 2, bug="only dx"), rng.normal(size=(4, 3)))
    assert not report.ok and report.status == "FAIL"
    statuses = {r.name: r.status for r in report.results}
    assert statuses == {"x": "PASS", "W": "FAIL", "b": "FAIL"}
    assert "W, b: no gradient from Dense.backward, although the output depends on it" in report.verdict
    # Saying which arrays are parameters overrides the guess: then only x is checked.
    assert gv.check_layer(Dense(3, 2, bug="only dx"), rng.normal(size=(4, 3)), params=[]).ok


class Affine(gv.Function):
    """A custom op with the classic slip: db = dout.mean(axis=0)."""

    @staticmethod
    def forward(x, W, b):
        return x @ W + b

    @staticmethod
    def backward(grad, x, W, b, out):
        return grad @ W.T, x.T @ grad, grad.mean(axis=0)


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)


def causes_of(report, name):
    result = next(r for r in report.results if r.name == name)
    return [getattr(d, "cause", None) for d in result.diagnosis]


def test_the_same_planted_bug_gets_the_same_cause_through_every_entry_point():
    x, W, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    layer = Dense(4, 3, bug="mean")
    layer.W, layer.b = W.copy(), b.copy()
    reports = {
        "gv.Function": gv.check(lambda x, W, b: Affine.apply(x, W, b),
                                gv.Tensor(x, label="x"), gv.Tensor(W, label="W"), gv.Tensor(b, label="b")),
        "check_layer": gv.check_layer(layer, x),
        "check_pair": gv.check_pair(affine_forward, affine_backward, x, W, b),
    }
    for entry, report in reports.items():
        assert "extra_batch_division" in causes_of(report, "b"), (entry, report.verdict)
        assert "batch size (5) once too often" in report.verdict, entry


def test_the_same_planted_bug_through_torch_gets_the_same_cause():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch)")

    class TorchAffine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, W, b):
            ctx.save_for_backward(x, W)
            return x @ W + b

        @staticmethod
        def backward(ctx, grad):
            x, W = ctx.saved_tensors
            return grad @ W.T, x.T @ grad, grad.mean(dim=0)

    x, W, b = (torch.tensor(rng.normal(size=s)) for s in ((5, 4), (4, 3), (3,)))
    report = gv.torch.check(TorchAffine.apply, x, W, b)
    b_name = report.results[2].name
    assert [r.status for r in report.results] == ["PASS", "PASS", "FAIL"]
    assert "extra_batch_division" in causes_of(report, b_name), report.verdict


def test_relu_at_exact_zeros_with_a_mixed_sign_upstream_is_not_a_failure_in_auto_mode():
    data = rng.normal(size=(50, 50))
    data.flat[rng.choice(data.size, size=12, replace=False)] = 0.0
    upstream = rng.normal(size=(50, 50))
    report = gv.check(lambda x: (gv.F.relu(x) * gv.Tensor(upstream)).sum(), gv.Tensor(data, label="x"))
    assert report.settings["mode"] == "directional"
    assert report.ok, report.verdict


def test_steps_are_validated_before_user_code_runs():
    layer = Dense(3, 2)
    with pytest.raises(gv.GradvizError, match="eps=1e-300 is too small for x"):
        gv.check_layer(layer, rng.normal(size=(2, 3)) + 1.0, eps=1e-300)
    assert layer.calls == 0
    for bad in (0, -1e-6, float("nan"), "big"):
        with pytest.raises(gv.GradvizError, match="eps"):
            gv.check_layer(layer, rng.normal(size=(2, 3)), eps=bad)
    assert layer.calls == 0
    with pytest.raises(gv.GradvizError, match="mode must be"):
        gv.check_pair(affine_forward, affine_backward, np.ones((2, 2)), np.ones((2, 2)), np.ones(2), mode="fast")


def test_a_huge_step_is_a_warning_about_the_step_not_a_kink():
    report = gv.check(lambda x: x.tanh().sum(), gv.Tensor(rng.normal(size=3), label="x"), eps=10.0)
    assert any("visibly curves" in w for w in report.warnings)
    assert "kink" not in report.verdict and "kink" not in str(report.results[0].notes.tolist())


def test_a_nan_input_is_named_as_such_not_as_an_in_place_change():
    x = rng.normal(size=(3, 4))
    x[1, 2] = np.nan
    for report in (gv.check_layer(Dense(4, 2), x), gv.check_pair(affine_forward, affine_backward, x,
                                                                   np.ones((4, 2)), np.ones(2))):
        assert not report.ok and "x contains nan or inf" in report.verdict
        assert "in place" not in report.verdict


def test_a_tight_tolerance_reaches_the_node_checks_too():
    class Cube(gv.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def backward(grad, x, out):
            return (3 * x ** 2 * (1 + 5e-4) * grad,)  # 5e-4 relative: inside rtol=1e-3, outside 1e-4

    value = gv.Value(1.5, label="x")
    assert gv.check(lambda v: Cube.apply(v), value, methods=("finite",)).ok
    tight = gv.check(lambda v: Cube.apply(v), value, methods=("finite",), rtol=1e-4)
    assert not tight.ok and tight.first_bad_node is not None
    assert "local derivative" in tight.first_bad_node.message


def test_a_hypothesis_that_raises_is_not_hidden():
    from gradviz.checking import diagnosis
    from gradviz.checking.diagnosis import registry

    def broken(user, reference, context):
        raise RuntimeError("hypothesis bug")

    registry.HYPOTHESES.append((broken, False))
    try:
        with pytest.raises(RuntimeError, match="hypothesis bug"):
            diagnosis.diagnose(np.ones(3), 2 * np.ones(3))
    finally:
        registry.HYPOTHESES.remove((broken, False))


def test_numeric_warnings_stay_in_the_report_for_hand_written_code():
    def log_forward(x):
        return np.log(x), x

    def log_backward(dout, cache):
        return dout / cache

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may be printed
        report = gv.check_pair(log_forward, log_backward, np.abs(rng.normal(size=4)) + 0.5)
    assert report.ok


LAYER_FILE = '''
import numpy as np


class Dense:
    def __init__(self, n_in=3, n_out=2, finished=True):
        r = np.random.default_rng(0)
        self.W = r.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.finished = finished

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        if self.finished:
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
        return dout @ self.W.T


class SlightlyOff:
    def forward(self, x):
        self.x = x
        return x ** 2

    def backward(self, dout):
        return 2 * self.x * (1 + 2e-5) * dout
'''


def gradviz_cli(tmp_path, *args):
    import json
    import subprocess
    import sys

    (tmp_path / "layers.py").write_text(LAYER_FILE)
    done = subprocess.run([sys.executable, "-m", "gradviz", "check", *args, "--json"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stderr)


def test_the_cli_checks_hand_written_code_in_every_mode_and_strictly(tmp_path):
    code, doc = gradviz_cli(tmp_path, "layers.py:Dense", "--input-shape", "4,3", "--mode", "directional")
    assert code == 0 and doc["reports"][0]["settings"]["mode"] == "directional"
    code, doc = gradviz_cli(tmp_path, "layers.py:Dense", "--input-shape", "4,3", "--strict")
    assert code == 0 and doc["reports"][0]["settings"]["strict"] is True
    code, _ = gradviz_cli(tmp_path, "layers.py:SlightlyOff", "--input-shape", "4,3")
    assert code == 0
    code, doc = gradviz_cli(tmp_path, "layers.py:SlightlyOff", "--input-shape", "4,3", "--strict")
    assert code == 1 and doc["reports"][0]["status"] == "FAIL"


def test_the_cli_fails_an_unfinished_layer_unless_told_its_parameters(tmp_path):
    code, doc = gradviz_cli(tmp_path, "layers.py:Dense", "--input-shape", "4,3", "--args", '{"finished": false}')
    report = doc["reports"][0]
    assert code == 1 and {i["name"]: i["status"] for i in report["inputs"]} == {"x": "PASS", "W": "FAIL", "b": "FAIL"}
    code, doc = gradviz_cli(tmp_path, "layers.py:Dense", "--input-shape", "4,3", "--args", '{"finished": false}',
                            "--params", "")
    assert code == 0 and [i["name"] for i in doc["reports"][0]["inputs"]] == ["x"]


class WideLayerNorm(gv.Function):
    """A layer norm with a SymPy twin: each output is an expression in every element of its row."""

    @staticmethod
    def forward(h):
        return (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-5)

    @staticmethod
    def backward(grad, h, out):
        n = h.shape[-1]
        inv = 1 / np.sqrt(h.var(-1, keepdims=True) + 1e-5)
        xhat = (h - h.mean(-1, keepdims=True)) * inv
        return (inv / n * (n * grad - grad.sum(-1, keepdims=True) - xhat * (grad * xhat).sum(-1, keepdims=True)),)

    @staticmethod
    def symbolic(h):
        import sympy

        out = np.empty(h.shape, dtype=object)
        n = h.shape[-1]
        for i in range(h.shape[0]):
            mean = sum(h[i]) / n
            inv = 1 / sympy.sqrt(sum((v - mean) ** 2 for v in h[i]) / n + 1e-5)
            for j in range(n):
                out[i, j] = (h[i, j] - mean) * inv
        return out


def test_sympy_has_a_time_budget_per_node_and_finite_differences_still_judge():
    import time

    h = gv.Tensor(rng.normal(size=(2, 32)), label="h")
    w = rng.normal(size=(2, 32))
    start = time.process_time()
    report = gv.check(lambda t: (WideLayerNorm.apply(t) * gv.Tensor(w)).sum(), h)
    assert time.process_time() - start < 60  # without the budget: minutes (width^4)
    assert report.ok and "finite differences" in report.verdict
    assert any("CPU budget" in w and "SymPy" in w for w in report.warnings), report.warnings


class CourseReLU:
    """ReLU as cs231n writes it: the mask cached in forward."""

    def __init__(self, at_zero=None):
        self.at_zero = at_zero

    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dout):
        mask = (self.x > 0).astype(float)
        if self.at_zero is not None:
            mask[self.x == 0] = self.at_zero
        return dout * mask


def relu_input_with_zeros(seed):
    r = np.random.default_rng(seed)
    x = r.normal(size=(50, 50))  # 2500 elements: auto mode checks along random directions
    x.flat[r.choice(x.size, size=12, replace=False)] = 0.0  # the output of an earlier ReLU has exact zeros
    return x


@pytest.mark.parametrize("seed", range(4))
def test_a_correct_hand_written_relu_at_exact_zeros_is_never_failed_in_directional_mode(seed):
    for at_zero in (None, 1.0, 0.5):  # 0, 1 and anything between are valid subgradients at 0
        report = gv.check_layer(CourseReLU(at_zero), relu_input_with_zeros(seed), seed=seed)
        assert report.settings["mode"] == "directional" and report.ok, (at_zero, report.verdict)


def test_a_hand_written_relu_wrong_at_its_kinks_fails_as_a_kink():
    report = gv.check_layer(CourseReLU(at_zero=3.0), relu_input_with_zeros(7))  # 3 is outside [0, 1]
    assert not report.ok and report.status == "FAIL"
    assert "kink" in [getattr(d, "cause", "") for d in report.results[0].diagnosis]


class LastRowSkipped:
    def forward(self, x):
        self.x = x
        return np.tanh(x)

    def backward(self, dout):
        grad = dout * (1 - np.tanh(self.x) ** 2)
        grad[-1] = 0.0  # the last sample's gradient is lost
        return grad


def test_a_sparse_error_in_a_large_input_is_found_by_bisection():
    report = gv.check_layer(LastRowSkipped(), rng.normal(size=(50, 50)))
    assert not report.ok
    wrong = [row.index for row in report.results[0].rows if row.status == "FAIL"]
    assert wrong and all(index[0] == 49 for index in wrong)  # every element named is in the last row
