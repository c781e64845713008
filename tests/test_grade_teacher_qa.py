"""The teacher QA's open points: what a grader (and `gradviz check`) says about code written the students' way.

- a layer whose backward makes its gradient lazily (`if not hasattr(self, "dW")`) and accumulates
  into it is checked exactly like one that makes it in __init__ (each call on a fresh object), while
  weights built on the first forward stay, and an accumulation gradviz cannot undo still fails;
- a (features, batch) layer given (batch, features) input is told so, not only numpy's words;
- a loss returning (dlogits, loss) against a (loss, dlogits) reference is named, confirmed by the
  swap, and loses the forward's points only;
- a loss that sums where the reference averages is told the factor.

Every verdict comes from the real `gradviz check` / `gradviz grade` in subprocesses and sandboxes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.grade import grade, sandbox

ROOT = Path(__file__).resolve().parents[1]
NO_BWRAP = sandbox.unusable()

DENSE = textwrap.dedent('''
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.W = np.random.default_rng(0).normal(size=(n_in, n_out))
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T
''')
# the gradient made lazily on the first backward, then accumulated into (QA "H": it used to FAIL)
LAZY_DW = DENSE.replace("        self.dW = self.x.T @ dout\n",
                        "        if not hasattr(self, \"dW\"):\n            self.dW = np.zeros_like(self.W)\n"
                        "        self.dW += self.x.T @ dout\n")
# the same accumulation into a gradient made in __init__ (it passed)
INIT_DW = DENSE.replace("        self.b = np.zeros(n_out)\n",
                        "        self.b = np.zeros(n_out)\n        self.dW = np.zeros_like(self.W)\n").replace(
    "        self.dW = self.x.T @ dout\n", "        self.dW += self.x.T @ dout\n")
# weights built on the first forward, and a lazy accumulating dW, db as well
LAZY_ALL = textwrap.dedent('''
    import numpy as np

    class Dense:
        def __init__(self, n_in, n_out):
            self.n_in, self.n_out = n_in, n_out

        def forward(self, x):
            if not hasattr(self, "W"):
                self.W = np.random.randn(self.n_in, self.n_out)  # unseeded: rebuilt, it would change every call
                self.b = np.zeros(self.n_out)
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            if not hasattr(self, "dW"):
                self.dW, self.db = 0, 0
            self.dW += self.x.T @ dout
            self.db += dout.sum(axis=0)
            return dout @ self.W.T
''')
# an accumulation gradviz cannot undo: a module-level total, never zeroed, handed back as dW
GLOBAL_TOTAL = DENSE.replace("class Dense:", "TOTAL = {}\n\nclass Dense:").replace(
    "        self.dW = self.x.T @ dout\n",
    "        TOTAL[\"W\"] = TOTAL.get(\"W\", 0) + self.x.T @ dout\n        self.dW = TOTAL[\"W\"]\n")

SOFTMAX_CE = textwrap.dedent('''
    def softmax_cross_entropy(logits, y):
        """mean cross-entropy over the batch; returns (loss, dlogits)"""
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        n = logits.shape[0]
        loss = -np.log(p[np.arange(n), y]).mean()
        d = p.copy()
        d[np.arange(n), y] -= 1
        return loss, d / n
''')
COLUMNS = textwrap.dedent('''
    import numpy as np

    class Dense:
        # column layout: x is (features, batch), W is (n_out, n_in)
        def __init__(self, n_in, n_out):
            self.W = np.random.default_rng(0).normal(size=(n_out, n_in))
            self.b = np.zeros((n_out, 1))

        def forward(self, x):
            self.x = x
            return self.W @ x + self.b

        def backward(self, dZ):
            self.dW = dZ @ self.x.T
            self.db = np.sum(dZ, axis=1, keepdims=True)
            return self.W.T @ dZ
''')


def check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def dense(tmp_path: Path, code: str, *more: str) -> subprocess.CompletedProcess:
    (tmp_path / "layers.py").write_text(code)
    return check("layers.py:Dense", "--input-shape", "5,4", "--args", '{"n_in": 4, "n_out": 3}', "--json", *more,
                 cwd=tmp_path)


# -- 1. lazily made gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [LAZY_DW, INIT_DW, LAZY_ALL], ids=["lazy dW", "dW in __init__", "lazy W and dW"])
def test_an_accumulated_gradient_passes_however_it_was_made(tmp_path, code):
    done = dense(tmp_path, code)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)["reports"][0]
    assert report["status"] == "PASS" and {i["name"] for i in report["inputs"]} == {"x", "W", "b"}


@pytest.mark.parametrize("code", [LAZY_DW, LAZY_ALL], ids=["lazy dW", "lazy W and dW"])
def test_the_check_still_has_teeth_for_lazy_code(tmp_path, code):
    doubled = code.replace("self.dW += self.x.T @ dout", "self.dW += 2 * self.x.T @ dout")
    done = dense(tmp_path, doubled)
    report = json.loads(done.stdout)["reports"][0]
    assert done.returncode == 1 and report["status"] == "FAIL"
    assert {i["name"]: i["status"] for i in report["inputs"]} == {"x": "PASS", "W": "FAIL", "b": "PASS"}


def test_an_accumulation_outside_the_object_still_fails_and_is_named(tmp_path):
    done = dense(tmp_path, GLOBAL_TOTAL)
    report = json.loads(done.stdout)["reports"][0]
    inputs = {i["name"]: i for i in report["inputs"]}
    assert done.returncode == 1 and {n: i["status"] for n, i in inputs.items()} == {"x": "PASS", "W": "FAIL",
                                                                                   "b": "PASS"}
    [finding] = [d for d in inputs["W"]["diagnosis"] if d["cause"] == "accumulated_across_calls"]
    assert finding["message"].startswith("backward adds into a gradient it never zeroes")
    # a backward that ignores dout altogether is still the chain rule forgotten, not an accumulation
    done = dense(tmp_path, DENSE.replace("self.dW = self.x.T @ dout", "self.dW = self.x.T @ np.ones_like(dout)"))
    causes = {d["cause"] for i in json.loads(done.stdout)["reports"][0]["inputs"] for d in i["diagnosis"]}
    assert "chain_rule_forgotten" in causes and "accumulated_across_calls" not in causes


def test_the_lazy_layer_object_is_left_as_the_first_forward_made_it():
    namespace: dict = {}
    exec(LAZY_ALL, namespace)
    layer = namespace["Dense"](4, 3)
    x = np.random.default_rng(1).normal(size=(5, 4))
    report = gv.check_layer(layer, x)
    assert report.ok, report
    W = layer.W.copy()  # built by the check's first forward, and kept: it is the layer's own from then on
    dout = np.random.default_rng(2).normal(size=(5, 3))
    layer.forward(x)
    layer.backward(dout)  # the first real backward starts from no dW, as on a fresh layer
    np.testing.assert_allclose(layer.dW, x.T @ dout)  # the closed form
    np.testing.assert_array_equal(layer.W, W)


def test_objects_kept_in_a_list_survive_the_reset(tmp_path):
    code = DENSE.replace("        self.b = np.zeros(n_out)\n", "        self.b = np.zeros(n_out)\n"
                         "        self.hooks = [Hook()]\n").replace(
        "class Dense:", "class Hook:\n    calls = 0\n\n    def seen(self):\n        return self.calls\n\n\nclass Dense:").replace(
        "        self.x = x\n", "        self.x = x\n        self.hooks[0].seen()\n")
    done = dense(tmp_path, code)
    assert done.returncode == 0, done.stdout + done.stderr


# -- 2. a (features, batch) layer given (batch, features) ---------------------------------------------------------

def test_a_column_layout_layer_is_told_the_layout_and_the_advice_works(tmp_path):
    done = dense(tmp_path, COLUMNS)
    report = json.loads(done.stdout)["reports"][0]
    assert report["status"] == "ERROR"
    verdict = report["verdict"]
    assert verdict.startswith("ERROR: likely a layout mismatch: Dense.forward fails on x of shape (5, 4), one "
                              "example per row (batch, features), but runs on x of shape (4, 5)"), verdict
    assert "--batch-axis 1" in verdict and "batch-axis = 1 in a grading spec" in verdict
    assert "matmul" in verdict and "layers.py:12" in verdict  # numpy's words and the line stay, at the end
    fixed = check("layers.py:Dense", "--input-shape", "4,5", "--batch-axis", "1", "--args",
                  '{"n_in": 4, "n_out": 3}', cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout  # what the message says to do checks the code


def test_a_shape_bug_that_is_no_layout_keeps_numpys_message(tmp_path):
    done = dense(tmp_path, DENSE.replace("size=(n_in, n_out)", "size=(n_in + 1, n_out)"))
    verdict = json.loads(done.stdout)["reports"][0]["verdict"]
    assert "matmul" in verdict and "layout" not in verdict


def test_a_column_layout_loss_is_told_the_layout(tmp_path):
    (tmp_path / "loss.py").write_text("import numpy as np\n" + SOFTMAX_CE.replace("axis=1", "axis=0").replace(
        "n = logits.shape[0]", "n = logits.shape[1]").replace("[np.arange(n), y]", "[y, np.arange(n)]"))
    done = check("loss.py:softmax_cross_entropy", "--input", "logits=6,5", "--input", "y=randint(5, size=6)",
                 cwd=tmp_path)
    assert done.returncode == 1 and done.stdout.startswith("gradviz check of softmax_cross_entropy: ERROR")
    assert "likely a layout mismatch: softmax_cross_entropy fails on logits of shape (6, 5)" in \
        done.stdout.replace("\n  ", " ")
    assert "--batch-axis" not in done.stdout  # a loss has no batch axis to set: only the shape is said


def test_a_column_layout_pair_names_its_data_input_not_its_weights(tmp_path):
    """deeplearning.ai's linear_forward(A, W, b) = W @ A + b given A as rows: A alone is transposed (W stays)."""
    (tmp_path / "lin.py").write_text(textwrap.dedent('''
        import numpy as np

        def linear_forward(A, W, b):
            return np.dot(W, A) + b, (A, W, b)

        def linear_backward(dZ, cache):
            A, W, b = cache
            return W.T @ dZ, dZ @ A.T, dZ.sum(axis=1, keepdims=True)
    '''))
    target = "lin.py:linear_forward,linear_backward"
    done = check(target, "--input", "A=5,4", "--input", "W=3,4", "--input", "b=3,1", "--json", cwd=tmp_path)
    verdict = json.loads(done.stdout)["reports"][0]["verdict"]
    assert verdict.startswith("ERROR: likely a layout mismatch: linear_forward fails on A of shape (5, 4), one "
                              "example per row (batch, features), but runs on A of shape (4, 5)"), verdict
    assert "W of shape" not in verdict and "not aligned" in verdict
    fixed = check(target, "--input", "A=4,5", "--input", "W=3,4", "--input", "b=3,1", "--batch-axis", "1", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout


# -- 3 and 4. the forward compared with the reference: a swapped return, a sum for a mean --------------------------

SPEC = textwrap.dedent('''
    [assignment]
    title = "HW3"
    timeout = 20

    [[target]]
    name = "Dense"
    check = "layers.py:Dense"
    points = 4
    args = '{"n_in": 4, "n_out": 3}'
    input-shape = "5,4"
    reference = "solution.py:Dense"
    forward-points = 1

    [[target]]
    name = "Softmax CE"
    check = "layers.py:softmax_cross_entropy"
    points = 3
    input = { logits = "6,5", y = "randint(5, size=6)" }
    reference = "solution.py:softmax_cross_entropy"
    forward-points = 1

    [[target.variant]]
    name = "batch of 9"
    input = { logits = "9,5", y = "randint(5, size=9)" }
    seed = 3
''')
LOSS_MODULE = DENSE + SOFTMAX_CE
STUDENTS = {
    "honest": LOSS_MODULE,
    "lazy": LAZY_DW + SOFTMAX_CE,
    "columns": COLUMNS + SOFTMAX_CE,
    "swapped": LOSS_MODULE.replace("return loss, d / n", "return d / n, loss"),
    "summed": LOSS_MODULE.replace(").mean()", ").sum()").replace("return loss, d / n", "return loss, d"),
    "doubled": LOSS_MODULE.replace(").mean()", ").mean() * 2").replace("return loss, d / n", "return loss, 2 * d / n"),
    "swapped_summed": LOSS_MODULE.replace(").mean()", ").sum()").replace("return loss, d / n", "return d, loss"),
    "six": LOSS_MODULE.replace(").mean()", ").sum() / 6").replace("return loss, d / n", "return loss, d / 6"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("teacher_qa")
    (root / "course").mkdir()
    (root / "course" / "solution.py").write_text(LOSS_MODULE)
    (root / "course" / "grading.toml").write_text(SPEC)
    for name, code in STUDENTS.items():
        (root / "subs" / name).mkdir(parents=True)
        (root / "subs" / name / "layers.py").write_text(code)
    grade(root / "subs", root / "course" / "grading.toml", root / "out", jobs=2)
    doc = json.loads((root / "out" / "gradviz-results.json").read_text())
    return {s["student"]: {t["target"]: t for t in s["targets"]} for s in doc["submissions"]}, root


needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")


@needs_bwrap
def test_the_honest_and_the_lazy_student_get_every_point(graded):
    rows, _ = graded
    for student in ("honest", "lazy"):
        assert {t: (r["status"], r["points"]) for t, r in rows[student].items()} == {
            "Dense": ("PASS", 4), "Dense forward": ("PASS", 1), "Softmax CE": ("PASS", 3),
            "Softmax CE forward": ("PASS", 1)}, student


@needs_bwrap
def test_a_column_layout_submission_is_told_the_layout_in_the_gradebook(graded):
    rows, root = graded
    reason = rows["columns"]["Dense"]["reason"]
    assert rows["columns"]["Dense"]["status"] == "ERROR"
    assert reason.startswith("ERROR: likely a layout mismatch: Dense.forward fails on x of shape (5, 4)")
    gradebook = (root / "out" / "gradebook.csv").read_text()
    assert "likely a layout mismatch" in gradebook  # said first: the comment column is cut, never this part


@needs_bwrap
def test_a_swapped_return_is_named_and_costs_the_forward_points_only(graded):
    rows, root = graded
    swapped = rows["swapped"]
    assert (swapped["Softmax CE"]["status"], swapped["Softmax CE"]["points"]) == ("PASS", 3)  # the math is right
    forward = swapped["Softmax CE forward"]
    assert (forward["status"], forward["points"]) == ("FAIL", 0)
    assert forward["reason"].startswith("softmax_cross_entropy returns (dlogits, loss); the assignment's returns "
                                        "(loss, dlogits). Your values are right once swapped")
    assert forward["reason"].endswith("return (loss, dlogits)")
    assert forward["cause"] == "returns the right values in another order than the assignment's"
    page = (root / "out" / "feedback" / "swapped.md").read_text()
    assert "returns \\(dlogits, loss\\); the assignment" in page


@needs_bwrap
def test_a_swap_that_does_not_match_once_swapped_is_not_called_a_swap(graded):
    rows, _ = graded
    forward = rows["swapped_summed"]["Softmax CE forward"]
    assert forward["status"] == "FAIL" and "order" not in forward["reason"]
    assert "a sum where the mean belongs" in forward["reason"]


@needs_bwrap
def test_a_sum_for_a_mean_is_named_by_its_factor(graded):
    rows, _ = graded
    reason = rows["summed"]["Softmax CE forward"]["reason"]
    assert rows["summed"]["Softmax CE forward"]["status"] == "FAIL"
    assert reason.endswith("; yours is 6x the reference: a sum where the mean belongs)"), reason
    doubled = rows["doubled"]["Softmax CE forward"]["reason"]  # a factor that is no count of the input: not named
    assert rows["doubled"]["Softmax CE forward"]["status"] == "FAIL"
    assert "x the reference" not in doubled and doubled.endswith(")") and "(yours " in doubled


@needs_bwrap
def test_a_hidden_variants_forward_says_no_number(graded):
    rows, _ = graded
    forward = rows["six"]["Softmax CE forward"]  # right for the visible batch of 6 only
    assert forward["status"] == "FAIL"
    assert forward["reason"] == ("batch of 9: your forward differs from the expected output on the hidden "
                                 "variant's inputs")


def test_column_code_checks_on_a_transposed_view_of_the_rows():
    """rows.T is a view in Fortran order: the buffer gradviz perturbs must still be the one the layer reads (it
    was not, and every dx read as 'true 0')."""
    namespace: dict = {}
    exec(COLUMNS, namespace)
    rows = np.random.default_rng(3).normal(size=(5, 4))
    report = gv.check_layer(namespace["Dense"](4, 3), rows.T, batch_axis=1)
    assert report.ok, report
    exec(COLUMNS.replace("return self.W.T @ dZ", "return 2 * self.W.T @ dZ"), namespace)
    wrong = gv.check_layer(namespace["Dense"](4, 3), rows.T, batch_axis=1)
    assert {r.name: r.status for r in wrong.results} == {"x": "FAIL", "W": "PASS", "b": "PASS"}
