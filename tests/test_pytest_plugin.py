"""The testing API (gv.assert_*) and the pytest plugin, run through pytester as a user's suite would."""

import subprocess
import sys

import numpy as np
import pytest

import gradviz as gv

pytest_plugins = ["pytester"]

# A user's own module: a course-style affine layer (results on self, backward(dout) -> dx) and a scalar
# function with its own gv.Function op. Each has a correct and a planted-bug version.
USER_CODE = '''
import numpy as np
import gradviz as gv


class Dense:
    def __init__(self, n_in, n_out, bug=False):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(n_in, n_out)) * 0.5
        self.b = np.zeros(n_out)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.mean(axis=0) if self.bug else dout.sum(axis=0)   # the bug: mean over the batch
        return dout @ self.W.T


class Softplus(gv.Function):
    bug = False

    @staticmethod
    def forward(x):
        return np.log1p(np.exp(x))

    @staticmethod
    def backward(grad, x, out):
        slope = np.exp(x) if Softplus.bug else 1 / (1 + np.exp(-x))     # the bug: exp(x), not sigmoid(x)
        return (grad * slope,)
'''


def _suite(pytester, tests: str):
    pytester.makepyfile(userlayers=USER_CODE)
    pytester.makepyfile(test_user=tests)


def test_gradient_error_message_is_the_report(pytester):
    _suite(pytester, '''
import numpy as np
import gradviz as gv
from userlayers import Dense

def test_good_layer():
    report = gv.assert_layer(Dense(3, 2), np.random.default_rng(1).normal(size=(4, 3)))
    assert report.ok and [r.name for r in report.results] == ["x", "W", "b"]

def test_buggy_layer():
    gv.assert_layer(Dense(3, 2, bug=True), np.random.default_rng(1).normal(size=(4, 3)))
''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # pytest shows the report itself: the table header, the failing parameter, the diagnosis line
    result.stdout.fnmatch_lines(["*GradientError: gradviz check of Dense: FAIL*",
                                 "*input*index*yours*finite*",
                                 "*b (2,): FAIL*"])
    assert "diagnosis:" in out
    # and the user's line, not gradviz's frames
    assert "gv.assert_layer(Dense(3, 2, bug=True)" in out and "def require" not in out


def test_fixture_attaches_reports_shown_when_the_test_fails(pytester):
    _suite(pytester, '''
import numpy as np
import gradviz as gv
from userlayers import Softplus

def test_custom_op(gradviz_report):
    Softplus.bug = True
    x = gv.Tensor(np.array([0.5, -1.0, 2.0]), label="logits")
    report = gradviz_report(gv.check(lambda t: Softplus.apply(t).sum(), x))
    assert report.ok

def test_custom_op_fixed(gradviz_report):
    Softplus.bug = False
    x = gv.Tensor(np.array([0.5, -1.0, 2.0]), label="logits")
    assert gradviz_report(gv.check(lambda t: Softplus.apply(t).sum(), x)).ok
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # pytest's assertion rewriting prints the one-line repr; the plugin's section prints the whole report
    result.stdout.fnmatch_lines(["*where False = <Report *: FAIL; 1 input; wrong: logits*",
                                 "*- gradviz report -*",
                                 "gradviz check of *: FAIL*"])
    assert "logits (3,): FAIL" in out
    # the reports of every test are recorded as junit properties, passing ones included
    junit = (pytester.path / "junit.xml").read_text()
    assert junit.count('name="gradviz"') == 2 and "PASS;" in junit


def test_render_option_draws_failing_checks(pytester):
    _suite(pytester, '''
import numpy as np
import gradviz as gv
from userlayers import Dense, Softplus

def test_op():
    Softplus.bug = True
    gv.assert_gradients(lambda t: Softplus.apply(t).sum(), gv.Tensor(np.array([0.3, 1.2]), label="z"))

def test_layer():
    gv.assert_layer(Dense(2, 2, bug=True), np.ones((3, 2)))

def test_passes():
    Softplus.bug = False
    gv.assert_gradients(lambda t: Softplus.apply(t).sum(), gv.Tensor(np.array([0.3, 1.2]), label="z"))
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "--gradviz-render", "drawings")
    result.assert_outcomes(passed=1, failed=2)
    files = sorted(p.name for p in (pytester.path / "drawings").iterdir())
    assert files == ["test_user.py_test_op.svg"]
    svg = (pytester.path / "drawings" / files[0]).read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "Softplus" in svg and "z" in svg
    result.stdout.fnmatch_lines(["*gradviz drawings of failing checks*",
                                 "*test_op: *test_user.py_test_op.svg",
                                 "*test_layer: no drawing for Dense (hand-written code has no recorded graph)"])


def test_plugin_is_registered_by_its_entry_point(pytester):
    """A fresh pytest process finds the plugin through the installed `pytest11` entry point."""
    pytester.makepyfile(test_x="def test_x(gradviz_report):\n    assert gradviz_report.reports == []\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--help"],
                         cwd=pytester.path, capture_output=True, text=True)
    assert "--gradviz-render=DIR" in run.stdout
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    disabled = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:gradviz")
    disabled.stdout.fnmatch_lines(["*fixture 'gradviz_report' not found*"])


def test_assert_functions_pass_through_options_and_return_the_report(monkeypatch):
    x = gv.Value(0.4, label="x")
    report = gv.assert_gradients(lambda v: (v * v).tanh(), x, eps=1e-5, atol=1e-4)
    assert report.ok and report.settings["eps"] == 1e-5 and report.settings["atol"] == 1e-4

    target = np.array([1.0, 0.0, 2.0])

    def mse(y_pred):
        return float(np.mean((y_pred - target) ** 2))

    def mse_prime_wrong(y_pred):
        return (y_pred - target) / y_pred.size  # the missing factor 2

    with pytest.raises(gv.GradientError) as info:
        gv.assert_grad_fn(mse, mse_prime_wrong, np.array([0.5, 0.3, 1.0]))
    assert isinstance(info.value, AssertionError) and not info.value.report.ok
    assert "FAIL" in str(info.value).splitlines()[0]
    # the message is the report, narrowed by pytest's 8-column "E       " indent so each line still fits
    monkeypatch.setenv("COLUMNS", "80")
    error = gv.GradientError(info.value.report)
    assert str(error) == gv.checking.text.format_report(info.value.report, width=72)
    table = [line for line in str(error).splitlines()
             if line.endswith(("PASS", "FAIL", "status")) and not line.startswith("gradviz check of")]
    assert table and max(len(line) for line in table) <= 72


def affine_forward(x, w, b):
    """cs231n-style cache pair: out, cache = affine_forward(x, w, b)."""
    return x @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def affine_backward_wrong_db(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.T @ dout, dout[0]  # the bug: only the first example's bias gradient


def test_assert_pair_checks_a_cache_style_function_pair():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    report = gv.assert_pair(affine_forward, affine_backward, x, w, b)
    assert report.ok and [r.name for r in report.results] == ["x", "w", "b"]
    with pytest.raises(gv.GradientError) as info:
        gv.assert_pair(affine_forward, affine_backward_wrong_db, x, w, b)
    bad = {r.name: r.status for r in info.value.report.results}
    assert bad == {"x": "PASS", "w": "PASS", "b": "FAIL"}
