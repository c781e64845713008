"""Full marks mean the work was done: missing gradients fail, and a reference compares forwards too.

The layers are written the way course solutions write them (cache-free forward(x) /
backward(dZ, x)); each student below gets full marks from a gradient check alone although their
forward or backward is unfinished, except where the pipeline's hole check already catches it.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

from gradviz.grade import grade, load_spec, sandbox  # noqa: E402
from gradviz.errors import GradvizError  # noqa: E402

NO_BWRAP = sandbox.unusable()

SIGMOID = textwrap.dedent('''
    class Sigmoid:
        def forward(self, x):
            self.out = 1 / (1 + np.exp(-x))
            return self.out

        def backward(self, dZ, x):
            return dZ * self.out * (1 - self.out)
''')

SOLUTION = textwrap.dedent('''
    import numpy as np


    class Dense:
        def __init__(self):
            rng = np.random.default_rng(42)  # other values than any student's: the grader copies them over
            self.W = rng.normal(size=(3, 2))
            self.b = rng.normal(size=2)

        def forward(self, x):
            return x @ self.W + self.b

        def backward(self, dZ, x):
            return dZ @ self.W.T, [x.T @ dZ, dZ.sum(axis=0)]
''') + SIGMOID

SPEC = textwrap.dedent('''
    [assignment]
    title = "Layers"
    timeout = 20

    [[target]]
    name = "Dense"
    check = "layers.py:Dense"
    points = 3
    input-shape = "4,3"
    reference = "solution.py:Dense"
    forward-points = 1

    [[target]]
    name = "Sigmoid"
    check = "layers.py:Sigmoid"
    points = 2
    input-shape = "5,4"
    reference = "solution.py:Sigmoid"
    forward-points = 2
''')

STUDENTS = {
    "honest": klass.LAYERS + SIGMOID,
    # an identity "sigmoid" whose backward matches it: consistent, so its gradient check passes
    "identity": klass.LAYERS + SIGMOID.replace("1 / (1 + np.exp(-x))", "x").replace(
        "dZ * self.out * (1 - self.out)", "dZ"),
    # a forward that is constant near any point, with the zero gradient that goes with it
    "constant": klass.LAYERS.replace("return x @ self.W + self.b", "return np.zeros((x.shape[0], 2))").replace(
        "dx = dZ @ self.W.T", "dx = 0 * dZ @ self.W.T").replace("dW = x.T @ dZ", "dW = 0 * x.T @ dZ").replace(
        "db = dZ.sum(axis=0)", "db = 0 * dZ.sum(axis=0)") + SIGMOID,
    # backward gives only dx: W and b get no gradient although the output depends on them
    "lazy": klass.LAYERS.replace("return dx, [dW, db]", "return dx") + SIGMOID,
    # the right layer with its own names for the parameters: matched to the reference by shape
    "renamed": klass.LAYERS.replace("self.W", "self.weights").replace("self.b", "self.bias") + SIGMOID,
    # a bias kept as a row, (1, 2) where the reference has (2,): the same numbers, matched across the shapes
    "row_bias": klass.LAYERS.replace("self.b = np.zeros(2)", "self.b = np.zeros((1, 2))").replace(
        "db = dZ.sum(axis=0)", "db = dZ.sum(axis=0, keepdims=True)") + SIGMOID,
    # nnfs's names with momentum buffers of the same shapes beside them (the output does not use them)
    "buffers": klass.LAYERS.replace("self.W", "self.weights").replace("self.b", "self.bias").replace(
        "self.bias = np.zeros(2)", "self.bias = np.zeros(2)\n        self.v_weights = np.zeros((3, 2))\n"
        "        self.v_bias = np.zeros(2)") + SIGMOID,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    (root / "course").mkdir()
    (root / "course" / "solution.py").write_text(SOLUTION)
    spec = root / "course" / "grading.toml"
    spec.write_text(SPEC)
    for name, layers in STUDENTS.items():
        (root / "subs" / name).mkdir(parents=True)
        (root / "subs" / name / "layers.py").write_text(layers)
    grade(root / "subs", spec, root / "out", jobs=2)
    doc = json.loads((root / "out" / "gradviz-results.json").read_text())
    return {s["student"]: {t["target"]: t for t in s["targets"]} for s in doc["submissions"]}, root


pytestmark = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")


def test_the_reference_gives_the_forward_its_own_column_and_points(graded):
    rows, _ = graded
    assert list(rows["honest"]) == ["Dense", "Dense forward", "Sigmoid", "Sigmoid forward"]
    assert {t: r["points"] for t, r in rows["honest"].items()} == {"Dense": 3, "Dense forward": 1, "Sigmoid": 2,
                                                                   "Sigmoid forward": 2}
    for student in ("renamed", "row_bias", "buffers"):  # correct code written its own way: every point
        assert {t: r["status"] for t, r in rows[student].items()} == dict.fromkeys(rows[student], "PASS"), student


def test_a_wrong_forward_with_a_matching_backward_loses_the_forward_points(graded):
    rows, _ = graded
    assert rows["identity"]["Sigmoid"]["status"] == "PASS"  # the gradient check alone cannot see it
    assert rows["identity"]["Sigmoid forward"]["status"] == "FAIL"
    assert "your forward differs from the expected output at the checked point" in \
        rows["identity"]["Sigmoid forward"]["reason"]
    assert rows["constant"]["Dense"]["status"] == "PASS" and rows["constant"]["Dense forward"]["status"] == "FAIL"
    assert rows["constant"]["Dense forward"]["cause"] == "the forward differs from the expected output"


def test_a_backward_that_skips_parameters_fails_by_the_missing_gradient(graded):
    rows, _ = graded
    lazy = rows["lazy"]["Dense"]
    assert lazy["status"] == "FAIL" and lazy["points"] == 0
    causes = {d["cause"] for c in lazy["checks"] for p in c["problems"] for d in p["diagnosis"]}
    assert causes == {"missing_gradient"}
    assert rows["lazy"]["Dense forward"]["status"] == "PASS"  # its forward is right: those points are earned


def test_the_reference_is_never_in_the_sandbox_or_the_feedback(graded):
    _, root = graded
    for page in (root / "out" / "feedback").glob("*.md"):
        assert "rng.normal(size=2)" not in page.read_text() and "solution.py" not in page.read_text()


def test_a_reference_that_is_not_there_is_a_spec_error(tmp_path):
    spec = tmp_path / "grading.toml"
    spec.write_text(SPEC)
    with pytest.raises(GradvizError, match="reference = 'solution.py:Dense': there is no solution.py next to the spec"):
        load_spec(spec)
