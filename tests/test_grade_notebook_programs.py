"""A graded notebook that renders a drawing keeps its marks, although the sandbox refuses every program.

The grading sandbox lets student code start no process or program (grade/seccomp.py). Course
notebooks start one for what grading never looks at: graphviz's `dot`, to render the graph of
their engine (`draw_dot(root).render()`, `gv.render(loss, "graph.svg")`). Such a cell is stopped
where it starts the program, with a note, and the notebook goes on: a correct submission keeps
every point. What the rest of that cell would have defined is missing, and the error that
follows says why.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from gradviz.grade import grade, sandbox

NO_BWRAP = sandbox.unusable()
pytestmark = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")

RELU = textwrap.dedent('''
    import numpy as np

    def relu_forward(x):
        return np.maximum(x, 0), x

    def relu_backward(dout, cache):
        return dout * (cache > 0)
''')
RENDER_GRAPHVIZ = "import graphviz\ng = graphviz.Digraph()\ng.edge('x', 'relu')\ng.render('graph', format='svg')\n"
RENDER_GRADVIZ = "import gradviz as gv\nx = gv.Value(0.5, label='x')\ngv.render((x * x).tanh(), 'graph.svg')\n"
SPEC = textwrap.dedent('''
    [assignment]
    title = "HW2"
    timeout = 20

    [[target]]
    name = "ReLU"
    check = "hw2.ipynb:relu_forward,relu_backward"
    points = 2
    input = { x = "6,5" }
    reference = "solution.py:relu_forward,relu_backward"
    forward-points = 1
''')


def notebook(*cells: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                  "source": c} for c in cells]})


STUDENTS = {
    "draws_last": notebook(RELU, "x = np.linspace(-1, 1, 5)\nprint(relu_forward(x)[0])", RENDER_GRAPHVIZ),
    "draws_with_gradviz": notebook(RELU, RENDER_GRADVIZ),
    "draws_mid_cell": notebook("import numpy as np", RENDER_GRAPHVIZ + RELU),
}


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("programs")
    (root / "course").mkdir()
    (root / "course" / "solution.py").write_text(RELU)
    (root / "course" / "grading.toml").write_text(SPEC)
    for name, text in STUDENTS.items():
        (root / "subs" / name).mkdir(parents=True)
        (root / "subs" / name / "hw2.ipynb").write_text(text)
    grade(root / "subs", root / "course" / "grading.toml", root / "out", jobs=2)
    doc = json.loads((root / "out" / "gradviz-results.json").read_text())
    return {s["student"]: s for s in doc["submissions"]}


@pytest.mark.parametrize("student", ["draws_last", "draws_with_gradviz"])
def test_a_correct_notebook_that_renders_a_drawing_keeps_every_point(rows, student):
    row = rows[student]
    assert row["score"] == row["max_score"] == 3, row


def test_the_sandbox_still_refuses_the_program(rows):
    """The marks are not bought by letting the program run: the sandbox says it allows threads only."""
    assert "no other process or program" in rows["draws_last"]["isolation"]["processes"]


def test_what_the_cut_cell_would_have_defined_is_missing_and_the_error_says_why(rows):
    row = rows["draws_mid_cell"]
    assert row["score"] == 0
    reason = row["targets"][0]["reason"]
    assert "relu_forward" in reason  # the function the rest of the cell would have defined
    assert "after cell 2, line 4 starts a program, which grading does not allow" in reason, reason
