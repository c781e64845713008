"""Jupyter notebooks as targets and submissions: `gradviz check hw2.ipynb:affine` and `gradviz grade`.

The notebooks are written the way CS231n's assignment notebooks are: markdown cells between
code cells, `%matplotlib inline` and `%load_ext autoreload` at the top, a `!pip` line, function
pairs with a cache, and a cell at the end that tries them out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from gradviz.grade import grade, sandbox

ROOT = Path(__file__).resolve().parents[1]

SETUP = textwrap.dedent('''\
    # As usual, a bit of setup
    import numpy as np
    %matplotlib inline
    %load_ext autoreload
    %autoreload 2
''')
AFFINE = textwrap.dedent('''\
    def affine_forward(x, w, b):
        out = x.reshape(x.shape[0], -1).dot(w) + b
        cache = (x, w, b)
        return out, cache


    def affine_backward(dout, cache):
        x, w, b = cache
        dx = dout.dot(w.T).reshape(x.shape)
        dw = x.reshape(x.shape[0], -1).T.dot(dout)
        db = np.sum(dout, axis=0)
        return dx, dw, db
''')
TRY = textwrap.dedent('''\
    np.random.seed(231)
    x = np.random.randn(10, 6)
    out, _ = affine_forward(x, np.random.randn(6, 5), np.random.randn(5))
    print('out shape:', out.shape)
''')


def notebook(path: Path, *codes: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Fully-connected nets\nImplement `affine_forward`.")]
    for code in codes:
        nb.cells += [nbformat.v4.new_code_cell(code), nbformat.v4.new_markdown_cell("Now check it:")]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def check(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_notebook_target_is_checked_and_its_magics_are_said(tmp_path):
    notebook(tmp_path / "hw2.ipynb", SETUP, "!pip install -q tqdm\n" + AFFINE)  # (no print: stdout is the JSON)
    done = check("hw2.ipynb:affine", "--input", "x=4,6", "--input", "w=6,5", "--input", "b=5", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)["reports"][0]
    notes = " ".join(report["notes"])
    assert "cell 1, line 3: skipped '%matplotlib inline'" in notes and "cell 2, line 1: skipped '!pip install" in notes


def test_a_wrong_gradient_in_a_notebook_fails(tmp_path):
    notebook(tmp_path / "hw2.ipynb", SETUP, AFFINE.replace("dw = x.reshape(x.shape[0], -1).T.dot(dout)",
                                                           "dw = x.reshape(x.shape[0], -1).T.dot(dout) / x.shape[0]"))
    done = check("hw2.ipynb:affine", "--input", "x=4,6", "--input", "w=6,5", "--input", "b=5", cwd=tmp_path)
    assert done.returncode == 1 and "once too often" in done.stdout


def test_a_raising_cell_is_named_by_its_number(tmp_path):
    notebook(tmp_path / "hw2.ipynb", SETUP, AFFINE, "x = np.zeros(3)\ny = x @ np.ones((4, 2))  # a shape bug\n", TRY)
    done = check("hw2.ipynb:affine", "--input", "x=4,6", "--input", "w=6,5", "--input", "b=5", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cell 3, line 2 raised ValueError" in done.stderr


@pytest.mark.skipif(sandbox.unusable() is not None, reason=f"needs bubblewrap: {sandbox.unusable()}")
def test_notebook_submissions_are_graded(tmp_path):
    notebook(tmp_path / "subs" / "ann" / "hw2.ipynb", SETUP, AFFINE, TRY)
    notebook(tmp_path / "subs" / "ben" / "hw2.ipynb", SETUP, AFFINE.replace("db = np.sum(dout, axis=0)",
                                                                              "db = np.sum(dout, axis=1)"), TRY)
    notebook(tmp_path / "subs" / "cy" / "hw2.ipynb", SETUP, "while True:\n    pass\n", AFFINE)
    spec = tmp_path / "grading.toml"
    spec.write_text('[assignment]\ntimeout = 8\n\n[[target]]\nname = "affine"\ncheck = "hw2.ipynb:affine"\n'
                    'points = 2\ninput = { x = "4,6", w = "6,5", b = "5" }\n')
    results = {r.student: r.targets[0] for r in grade(tmp_path / "subs", spec, tmp_path / "out", jobs=2)}
    assert results["ann"].status == "PASS" and results["ann"].points == 2
    assert results["ben"].status == "FAIL" and "db" in results["ben"].reason
    assert results["cy"].status == "TIMEOUT"
    assert "hw2.ipynb: cell 2 did not finish within 6.4 s" in results["cy"].reason  # the endless cell, named
    feedback = (tmp_path / "out" / "feedback" / "ann.md").read_text()
    assert "out shape: \\(10, 5\\)" in feedback or "out shape: (10, 5)" in feedback  # the notebook's own cells ran
