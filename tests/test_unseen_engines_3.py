"""Students' own engines, optimizers and losses in styles earlier tests do not hold, each right and with one bug.

The fixtures in tests/unseen_engines_3/ were written for these tests: a tinygrad-like Function.apply(ctx) engine,
gradients kept in a dict keyed by id(node), children in a set with no reflected operators, a numpy Tensor with
broadcasting, matmul and sum, an engine of module functions only (add(a, b), no operators), its own division
and __rpow__ rules, (parent, lambda) pairs ordered by a creation counter, a Wengert tape, a tinygrad-like array
Tensor, grad None with rules looked up by name (leaky_relu, abs), backward() outside the class, a dataclass with
ops attached afterwards, a Value exponent; Adam for scalar-engine parameters, Adagrad keyed by id(param), a
log-cosh function pair and a KL loss whose grad() takes no arguments.

The oracle is independent of gradviz: central differences of plain-math formulas written here (and
hand-written reference updates for the optimizers). Each pair is first checked against it, so a fixture that
stopped being right (or wrong) fails the test before gradviz is asked.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis.catalogue import CAUSES
from gradviz.checking.report import FAIL, PASS

HERE = Path(__file__).resolve().parent / "unseen_engines_3"
ROOT = HERE.parent.parent


def load(tmp_path: Path, fixture: str, bug: tuple[str, str] | None = None, name: str = "engine"):
    """The fixture's module, with the planted bug when given, imported from tmp_path as `name`.py."""
    source = (HERE / f"{fixture}.py").read_text()
    if bug is not None:
        assert source.count(bug[0]) == 1, f"the planted bug does not apply to {fixture}: {bug[0]!r}"
        source = source.replace(*bug)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"{fixture}_{abs(hash(source))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- the oracle: central differences of plain math, by an engine's own forms ----------------------------------------

def _fd(f, xs, h=1e-6):
    return [(f(*[x + (h if j == i else 0.0) for j, x in enumerate(xs)])
             - f(*[x - (h if j == i else 0.0) for j, x in enumerate(xs)])) / (2 * h) for i in range(len(xs))]


A2 = (0.7, -1.3)
SCALAR = {
    "a+b": (lambda a, b: a + b, lambda a, b: a + b, A2), "a*b": (lambda a, b: a * b, lambda a, b: a * b, A2),
    "a-b": (lambda a, b: a - b, lambda a, b: a - b, A2), "-a": (lambda a: -a, lambda a: -a, (0.7,)),
    "a/b": (lambda a, b: a / b, lambda a, b: a / b, A2), "2/a": (lambda a: 2.0 / a, lambda a: 2.0 / a, (0.7,)),
    "a**3": (lambda a: a ** 3, lambda a: a ** 3, (0.7,)), "a**b": (lambda a, b: a ** b, lambda a, b: a ** b, (1.7, 0.6)),
    "2**a": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, (0.7,)),
    "exp": (lambda a: a.exp(), math.exp, (0.7,)), "log": (lambda a: a.log(), math.log, (0.7,)),
    "tanh": (lambda a: a.tanh(), math.tanh, (0.7,)), "sqrt": (lambda a: a.sqrt(), math.sqrt, (0.7,)),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a)), (0.7,)),
    "softplus": (lambda a: a.softplus(), lambda a: math.log1p(math.exp(a)), (0.7,)),
    "leaky_relu": (lambda a: a.leaky_relu(), lambda a: a if a > 0 else 0.01 * a, (-0.7,)),
    "a*a+a": (lambda a: a * a + a, lambda a: a * a + a, (0.7,)),
    "diamond": (lambda a, b: (a * b) * (a + b), lambda a, b: (a * b) * (a + b), A2),
}


def oracle_wrong(make, forms) -> list[str]:
    """The forms whose gradients from the engine differ from central differences of the math (empty: right)."""
    wrong = []
    for key in forms:
        expr, math_fn, point = SCALAR[key] if isinstance(key, str) else key[1:]
        leaves = [make(x) for x in point]
        expr(*leaves).backward()
        got = [0.0 if leaf.grad is None else float(leaf.grad) for leaf in leaves]
        if not np.allclose(got, _fd(math_fn, list(point)), rtol=1e-4, atol=1e-6):
            wrong.append(key if isinstance(key, str) else key[0])
    return wrong


def array_oracle_wrong(module, exprs) -> list[str]:
    """The same for an array engine: every element of every input against central differences of numpy math."""
    rng = np.random.default_rng(0)
    A, B, P = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.random((3, 4)) + 0.5
    wrong = []
    for name, expr, math_fn, inputs in exprs(A, B, P):
        leaves = [module.Tensor(x.copy()) for x in inputs]
        expr(*leaves).backward()
        for k, x in enumerate(inputs):
            want = np.zeros_like(x)
            for idx in np.ndindex(x.shape):
                hi, lo = [y.copy() for y in inputs], [y.copy() for y in inputs]
                hi[k][idx] += 1e-6
                lo[k][idx] -= 1e-6
                want[idx] = (math_fn(*hi) - math_fn(*lo)) / 2e-6
            if leaves[k].grad is None or not np.allclose(leaves[k].grad, want, rtol=1e-4, atol=1e-6):
                wrong.append(name)
    return wrong


def _matrix_exprs(A, B, P):
    return [("matmul", lambda a, b: (a @ b).sum(), lambda a, b: (a @ b).sum(), [A, B]),
            ("matmul used twice", lambda a, b: ((a @ b) * (a @ b)).sum() + (a * a).sum(),
             lambda a, b: ((a @ b) ** 2).sum() + (a * a).sum(), [A, B]),
            ("relu", lambda a, b: (a @ b).relu().sum(), lambda a, b: np.maximum(a @ b, 0).sum(), [A, B])]


# -- (fixture, class, planted bug, oracle forms, the method gradviz must name) ----------------------------------------
ENGINES = [
    ("function_apply_ctx", "Scalar", ("return (g / x,)", "return (g * x,)"),
     ["a+b", "a*b", "a-b", "-a", "exp", "log", "a*a+a", "diamond"], "Scalar.log"),
    ("grads_by_id", "Node", ("(1.0 / other.value, -self.value / other.value ** 2)",
                             "(1.0 / other.value, -self.value / other.value)"),
     ["a+b", "a*b", "a-b", "-a", "a/b", "sigmoid", "diamond"], "Node.__truediv__"),
    ("set_children", "Node", ("            other.grad -= out.grad\n        out.backward_fn = fn\n        return out\n\n"
                              "    def __mul__", "            other.grad += out.grad\n        out.backward_fn = fn\n"
                              "        return out\n\n    def __mul__"),
     ["a+b", "a*b", "a-b", "-a", "a**3", "exp", "diamond"], "Node.__sub__"),
    ("own_division_rules", "Value", ("self.grad += (-other / self.data ** 2) * out.grad",
                                     "self.grad += (other / self.data ** 2) * out.grad"),
     ["a+b", "a*b", "a-b", "a/b", "2/a", "a**3", "2**a", "log", "diamond"], "Value.__rtruediv__"),
    ("lambda_pairs", "Scalar", ("(self, lambda g: g * p * self.data ** (p - 1))", "(self, lambda g: g * self.data ** (p - 1))"),
     ["a+b", "a*b", "a-b", "-a", "a**3", "tanh", "sigmoid", "diamond"], "Scalar.__pow__"),
    ("wengert_tape", "Var", ("(1.0 / self.v,)", "(1.0 / math.log(self.v),)"),
     ["a+b", "a*b", "a-b", "-a", "exp", "log", "diamond"], "Var.log"),
    ("grad_none_rules", "Value", ("return (g * (1.0 if self.prev[0].data > 0 else self.extra),)",
                                  "return (g * (1.0 if self.prev[0].data > 0 else 0.0),)"),
     ["a+b", "a*b", "a-b", "exp", "tanh", "leaky_relu", "diamond"], "Value.leaky_relu"),
    ("backward_outside_class", "Value", ("self.grad += out.grad / (2 * r)", "self.grad += out.grad / r"),
     ["a+b", "a*b", "a/b", "a**3", "sqrt", "log", "diamond"], "Value.sqrt"),
    ("value_exponent", "Value", ("self.grad += 1 / (1 + math.exp(-self.data)) * out.grad",
                                 "self.grad += 1 / (1 + math.exp(self.data)) * out.grad"),
     ["a+b", "a*b", "a/b", "a**b", "2**a", "sqrt", "softplus", "diamond"], "Value.softplus"),
]


@pytest.mark.parametrize("fixture, cls, bug, forms, method", ENGINES, ids=[e[0] for e in ENGINES])
def test_a_right_engine_passes_and_its_planted_bug_fails_naming_the_method(tmp_path, fixture, cls, bug, forms, method):
    right = load(tmp_path, fixture, name="right")
    wrong = load(tmp_path, fixture, bug, name="wrong")
    assert oracle_wrong(getattr(right, cls), forms) == []
    assert oracle_wrong(getattr(wrong, cls), forms) != []
    report = gv.check_engine(getattr(right, cls))
    assert report.ok and report.status in (PASS, "NONDIFF"), report.verdict
    bad = gv.check_engine(getattr(wrong, cls))
    assert bad.status == FAIL, bad.verdict
    failing = {r.name.split(" (")[0] for r in bad.results if r.status == FAIL}
    assert method in failing, (method, failing)
    assert bad.verdict.startswith(f"FAIL: {method}"), bad.verdict


def test_an_operation_gradviz_has_no_rule_for_is_checked_by_the_students_own_forward(tmp_path):
    """leaky_relu is not in the op table: its dropped slope was a PASS; now a FAIL against finite differences."""
    right = load(tmp_path, "grad_none_rules", name="right")
    report = gv.check_engine(right.Value)
    assert "Value.leaky_relu" in report.settings["own_checked"]
    assert "Operations gradviz has no rule for (leaky_relu) agree with finite differences" in report.verdict
    wrong = load(tmp_path, "grad_none_rules", ENGINES[6][2], name="wrong")
    bad = gv.check_engine(wrong.Value)
    [result] = [r for r in bad.results if r.name.startswith("Value.leaky_relu")]
    rows = [r for r in result.row_source if r.status == FAIL and not r.note]
    assert rows and all(r.autograd == 0.0 and abs(r.finite - 0.01) < 1e-6 for r in rows)  # d/dx 0.01 x = 0.01
    assert result.diagnosis and {d.cause for d in result.diagnosis} <= set(CAUSES)
    assert "in Value._grad_leaky_relu" in result.message  # the line of the rule, by the method that holds it


def test_an_engine_whose_arithmetic_is_module_functions_is_checked_by_those_functions(tmp_path):
    """No __add__ on the class, only add(a, b), mul(a, b): it was read as a layer class and refused."""
    def oracle(m):
        return [("add", lambda a, b: m.add(a, b), lambda a, b: a + b, A2),
                ("div", lambda a, b: m.div(a, b), lambda a, b: a / b, A2),
                ("sigmoid", lambda a: m.sigmoid(a), lambda a: 1 / (1 + math.exp(-a)), (0.7,)),
                ("reuse", lambda a: m.add(m.mul(a, a), a), lambda a: a * a + a, (0.7,))]

    right = load(tmp_path, "module_functions_only", name="right")
    assert oracle_wrong(right.Scalar, oracle(right)) == []
    report = gv.check_engine(right.Scalar)
    assert report.ok, report.verdict
    assert {"add", "mul", "sub", "div", "sigmoid", "tanh", "exp", "log"} <= set(report.settings["checked"])
    assert not hasattr(right.Scalar, "__add__") or "__add__" not in vars(right.Scalar)  # the lent operators went back
    wrong = load(tmp_path, "module_functions_only", ("lambda g: (g * s * (1.0 - s),)", "lambda g: (g * s * (1.0 + s),)"),
                 name="wrong")
    assert oracle_wrong(wrong.Scalar, oracle(wrong)) == ["sigmoid"]
    bad = gv.check_engine(wrong.Scalar)
    assert bad.status == FAIL and bad.verdict.startswith("FAIL: sigmoid"), bad.verdict
    line = next(n for n, text in enumerate((tmp_path / "wrong.py").read_text().splitlines(), 1) if "1.0 + s" in text)
    assert f"wrong.py:{line}" in bad.verdict


@pytest.mark.parametrize("fixture, bug, method", [
    ("numpy_tensor", ("self.grad = self.grad + out.grad @ other.data.T", "self.grad = out.grad @ other.data.T"),
     "Tensor.__matmul__"),
    ("tinygrad_tensor", ("return g @ w.T, x.T @ g", "return g @ w.T, x.T @ g / x.shape[0]"), "Tensor.dot"),
])
def test_an_array_engines_matmul_is_checked_on_matrices(tmp_path, fixture, bug, method):
    """matmul needs matrices: a 1-number check cannot see `=` for `+=` or a stray 1/batch; 2x2 arrays do."""
    right, wrong = load(tmp_path, fixture, name="right"), load(tmp_path, fixture, bug, name="wrong")
    assert array_oracle_wrong(right, _matrix_exprs) == []
    assert array_oracle_wrong(wrong, _matrix_exprs) != []
    report = gv.check_engine(right.Tensor)
    assert report.ok, report.verdict
    assert method in report.settings["own_checked"]
    bad = gv.check_engine(wrong.Tensor)
    assert bad.status == FAIL and bad.verdict.startswith(f"FAIL: {method}"), bad.verdict
    [result] = [r for r in bad.results if r.name.startswith(method + " (")]
    assert {d.cause for d in result.diagnosis} <= set(CAUSES)
    line = next(n for n, text in enumerate((tmp_path / "wrong.py").read_text().splitlines(), 1) if bug[1] in text)
    assert f"wrong.py:{line}" in result.message  # the planted line itself
    if fixture == "numpy_tensor":
        assert result.diagnosis[0].cause == "assignment_not_accumulation"
    else:  # x.T @ g / x.shape[0] with x of 3 rows: a third of the true dW, named as the batch division it is
        assert result.diagnosis[0].cause == "extra_batch_division" and "(3)" in str(result.diagnosis[0])


def test_a_sign_slip_under_a_seed_of_one_is_a_sign_not_a_comparison(tmp_path):
    """With backward() seeding 1.0 a right gradient may be all 1s: 1 for -1 is a flipped sign."""
    wrong = load(tmp_path, "set_children", ENGINES[2][2], name="wrong")
    bad = gv.check_engine(wrong.Node)
    [sub] = [r for r in bad.results if r.name == "Node.__sub__ (a - b)"]
    assert sub.diagnosis[0].cause != "boolean_gradient"
    assert "sign is flipped" in bad.verdict


def test_cosine_through_a_shared_helper_and_ops_attached_after_the_class(tmp_path):
    right = load(tmp_path, "dataclass_ops", name="right")
    make = lambda x: right.Num(float(x))  # noqa: E731
    def forms(m):
        return ["a+b", "a*b", "a-b", "-a", "diamond", ("cos", lambda a: m.cos(a), math.cos, (0.7,)),
                ("softplus", lambda a: m.softplus(a), lambda a: math.log1p(math.exp(a)), (0.7,))]

    assert oracle_wrong(make, forms(right)) == []
    report = gv.check_engine(right.Num)
    assert report.ok and report.settings["own_checked"] == ["softplus"], report.verdict  # add, mul are a + b, a * b
    wrong = load(tmp_path, "dataclass_ops", ("math.cos, lambda v: -math.sin(v))", "math.cos, math.sin)"), name="wrong")
    assert oracle_wrong(lambda x: wrong.Num(float(x)), forms(wrong)) == ["cos"]
    bad = gv.check_engine(wrong.Num)
    assert bad.verdict.startswith("FAIL: cos: the sign is flipped"), bad.verdict


# -- optimizers and losses ------------------------------------------------------------------------------------------

class _P:
    def __init__(self, data):
        self.data, self.grad = data, 0.0


def _adam_oracle(module) -> bool:
    ps = [_P(0.5), _P(-1.2)]
    opt = module.Adam(ps, lr=0.01)
    ref, m, v = [0.5, -1.2], [0.0, 0.0], [0.0, 0.0]
    for t in range(1, 6):
        gs = [0.3 * t, -0.7 + 0.1 * t]
        for p, g in zip(ps, gs):
            p.grad = g
        opt.step()
        for i, g in enumerate(gs):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            ref[i] -= 0.01 * (m[i] / (1 - 0.9 ** t)) / (math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    return bool(np.allclose([p.data for p in ps], ref, rtol=1e-12))


def _adagrad_oracle(module) -> bool:
    rng = np.random.default_rng(1)
    params = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    ref, cache, opt = [p.copy() for p in params], [np.zeros((2, 3)), np.zeros(3)], module.Adagrad(lr=0.1)
    for _ in range(5):
        grads = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
        opt.update(params, grads)
        for i in range(2):
            cache[i] += grads[i] ** 2
            ref[i] -= 0.1 * grads[i] / (np.sqrt(cache[i]) + 1e-8)
    return all(np.allclose(p, r, rtol=1e-12) for p, r in zip(params, ref))


def test_adam_written_for_a_scalar_engines_parameters_is_driven_with_numbers(tmp_path):
    """step() does math.sqrt on p.data: on array parameters it raised, and the right Adam was an ERROR."""
    right = load(tmp_path, "adam_scalar_params", name="right")
    wrong = load(tmp_path, "adam_scalar_params", ("mh = self.m[i] / (1 - self.b1 ** self.t)",
                                                   "mh = self.m[i] / (1 - self.b1)"), name="wrong")
    assert _adam_oracle(right) and not _adam_oracle(wrong)
    report = gv.check_optimizer(right.Adam)
    assert report.ok and report.settings["kind"] == "adam", report.verdict
    assert any("driven with numbers" in str(n) for n in report.notes), report.notes
    assert gv.check_optimizer(wrong.Adam, kind="adam").status == FAIL


def test_adagrad_keyed_by_the_parameters_identity_keeps_its_state(tmp_path):
    """The state dict is keyed by id(p): handed a fresh copy each step, the right Adagrad FAILed at step 2."""
    right = load(tmp_path, "adagrad_by_id", name="right")
    wrong = load(tmp_path, "adagrad_by_id", ("self.cache[key] += g * g", "self.cache[key] = g * g"), name="wrong")
    assert _adagrad_oracle(right) and not _adagrad_oracle(wrong)
    report = gv.check_optimizer(right.Adagrad())
    assert report.ok and report.settings["kind"] == "adagrad", report.verdict
    assert gv.check_optimizer(wrong.Adagrad(), kind="adagrad").status == FAIL


def test_a_log_cosh_pair_and_a_kl_loss_with_an_argument_free_grad(tmp_path):
    rng = np.random.default_rng(2)
    y, y_hat = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    lc = load(tmp_path, "logcosh_pair", name="lc")
    lc_bug = load(tmp_path, "logcosh_pair", ("np.tanh(y_hat - y) / y.size", "np.tanh(y_hat - y)"), name="lc_bug")
    true = np.tanh(y_hat - y) / y.size  # d/dŷ mean(log cosh(ŷ - y)), by hand
    assert np.allclose(lc.log_cosh_grad(y, y_hat), true) and not np.allclose(lc_bug.log_cosh_grad(y, y_hat), true)
    assert gv.check_grad_fn(lc.log_cosh, lc.log_cosh_grad, y, y_hat, wrt="y_hat").ok
    bad = gv.check_grad_fn(lc_bug.log_cosh, lc_bug.log_cosh_grad, y, y_hat, wrt="y_hat")
    assert bad.status == FAIL and "times a constant 12" in bad.verdict
    z = rng.standard_normal((3, 4))
    p = rng.random((3, 4)) + 0.1
    p /= p.sum(1, keepdims=True)
    kl = load(tmp_path, "kl_call", name="kl")
    q = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert np.allclose((kl.KLDivergence()(z, p), ), (np.sum(p * np.log(p / q)) / 3,))
    assert gv.check_loss(kl.KLDivergence(), z, p).ok


def test_the_command_line_reads_a_function_engine_and_a_scalar_adam(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for fixture, target, extra in (("module_functions_only", "Scalar", []),
                                   ("adam_scalar_params", "Adam", ["--optimizer"])):
        (tmp_path / f"{fixture}.py").write_text((HERE / f"{fixture}.py").read_text())
        done = subprocess.run([sys.executable, "-m", "gradviz", "check", f"{fixture}.py:{target}", *extra],
                              cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASS" in done.stdout.splitlines()[0]
    drawn = subprocess.run([sys.executable, "-m", "gradviz", "render", "module_functions_only.py:Scalar", "-o", "g.svg"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert drawn.returncode == 0 and "check: PASS" in (tmp_path / "g.svg").read_text(), drawn.stderr


def test_a_random_operation_is_not_judged_by_finite_differences(tmp_path):
    """dropout draws a new mask per call: central differences of it are noise, so it is skipped, never failed."""
    module = load(tmp_path, "random_dropout")
    draws = {module.Value(1.0).dropout().data for _ in range(64)}
    assert draws == {0.0, 2.0}  # the forward really is random (oracle: two outcomes, p = 0.5)
    for seed in range(3):
        report = gv.check_engine(module.Value, seed=seed)
        assert report.ok, report.verdict
        [dropout] = [r for r in report.results if r.name.startswith("Value.dropout")]
        assert dropout.status == "SKIPPED" and "random" in dropout.message
        assert "Not checked (dropout)" in report.verdict  # a pass never claims an op it did not check


def test_the_engine_tutorial_shows_an_unlisted_op_and_a_function_engine_failing_where_they_are_wrong():
    sys.path.insert(0, str(ROOT / "docs"))
    import pages

    page = pages.EXECUTED.get("tutorial-engine.md") or pages.run_page(Path(pages.DOCS) / "tutorial-engine.md")
    leaky, functions = page.namespace["leaky"], page.namespace["functions"]
    assert leaky.verdict.startswith("FAIL: Value.leaky_relu") or leaky.verdict.startswith("FAIL: Leaky.leaky_relu")
    [result] = [r for r in leaky.results if r.name.endswith("leaky_relu (leaky_relu(a))")]
    negative = [r for r in result.row_source if not r.note and r.status == FAIL]
    assert negative and all(abs(r.finite - 0.01) < 1e-6 for r in negative)  # d/dx 0.01 x, by hand
    assert functions.verdict.startswith("FAIL: sigmoid") and "`return Scalar(s, (a,), lambda g:" in functions.verdict
    assert {"add", "mul"} <= set(functions.settings["checked"])


def test_a_rarely_random_operation_is_never_failed_when_the_draws_happen_to_agree(tmp_path):
    """dropout(p=0.1) keeps everything 90% of the time, so eight equal draws are common; where the forward that
    backward() ran on and the one the differences see drew differently, nothing is judged."""
    module = load(tmp_path, "random_dropout", ("def dropout(self, p=0.5):", "def dropout(self, p=0.1):"))
    assert {module.Value(1.0).dropout().data for _ in range(200)} == {0.0, 1.0 / 0.9}  # random, by its own forward
    for seed in range(12):
        report = gv.check_engine(module.Value, seed=seed)
        [dropout] = [r for r in report.results if r.name.startswith("Value.dropout")]
        assert dropout.status != FAIL and report.ok, report.verdict
        if dropout.status == "SKIPPED":
            assert "random" in dropout.message
