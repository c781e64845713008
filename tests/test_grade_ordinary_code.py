"""`gradviz grade` on correct students who do ordinary things the grading sandbox could take for attacks.

The sandbox refuses processes and programs and limits address space (seccomp.py, sandbox.py). A
class written the way students write (torch imported beside numpy code, torch's threads, a data file
shipped with the code, a pickle, a helper module, threads, `multiprocessing` imported, a subprocess
under `if __name__ == "__main__":`, a package the teacher installed outside the venv) must keep its
marks; a planted bug must still FAIL; a pool started at import must say what to change. Everything
runs under bubblewrap, as a real grading does.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gradviz.grade import grade, sandbox

NO_BWRAP = sandbox.unusable()
needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="needs PyTorch (pip install gradviz-check[torch])")
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]

LAYERS = '''
class Dense:
    def __init__(self, n_in, n_out):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(n_in, n_out)) * 0.5
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n
'''

SPEC = '''
[assignment]
title = "HW3"
timeout = 20
memory = 512
output = 1
packages = ["qa-extra-helper"]

[[target]]
name = "Dense"
check = "layers.py:Dense"
points = 4
args = '{"n_in": 4, "n_out": 3}'
input-shape = "5,4"
reference = "solution.py:Dense"
forward-points = 1

[[target.variant]]
name = "batch of 9"
input-shape = "9,4"
seed = 7

[[target]]
name = "ReLU"
check = "layers.py:relu_forward,relu_backward"
points = 2
input = { x = "6,5" }
reference = "solution.py:relu_forward,relu_backward"

[[target]]
name = "Softmax CE"
check = "layers.py:softmax_cross_entropy"
points = 3
input = { logits = "6,5", y = "randint(5, size=6)" }
reference = "solution.py:softmax_cross_entropy"
forward-points = 1
'''

STUDENTS = {
    # data shipped with the code, a scratch file, a pickle, a helper module, threads, multiprocessing and
    # platform imported, a subprocess only when run as a script
    "ordinary": ("""
        import os, pickle, platform, subprocess, sys, threading, multiprocessing, warnings
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        from utils import rel_error
        warnings.filterwarnings("ignore")
        W_INIT = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "W_init.npy"))
        print("on", platform.platform(), "cores", multiprocessing.cpu_count(), "in", os.getcwd())
        with open("scratch.pkl", "wb") as f:
            pickle.dump({"W": W_INIT}, f)
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(abs, [-1, -2])) == [1, 2]
        _t = threading.Thread(target=lambda: None)
        _t.start(); _t.join()
        """, """
        if __name__ == "__main__":
            subprocess.run([sys.executable, "-m", "pytest", "-q"])
        """),
    # torch imported to compare with autograd: the numpy loss is still numpy code; torch's threads and a
    # 1500x1500 matmul fit in 512 MB beside torch's own code
    "torchy": ("""
        import numpy as np
        import torch
        torch.set_num_threads(4)
        _a = torch.randn(1500, 1500)
        print("sanity", float((_a @ _a).sum()) != 0.0)
        """, ""),
    # a package the teacher installed outside the venv (PYTHONPATH or the user site)
    "extra": ("import numpy as np\nimport qa_extra_helper\nassert qa_extra_helper.ANSWER == 42\n", ""),
    # a pool at import: refused, and the row says what to change
    "pool": ("import numpy as np\nfrom multiprocessing import Pool\n", """
        with Pool(2) as p:
            print(p.map(abs, [-1, -2]))
        """),
    # three seconds of training at import, then a typo: the error for every target, not a time limit
    # (the file is not run again for each of the 7 checks, which would take 21 of its 20 s)
    "slowtypo": ("import numpy as np\nimport time\n", """
        for epoch in range(30):
            time.sleep(0.1)
        print(final_loss)
        """),
    # a planted bug beside the same imports as torchy: still caught and diagnosed
    "wrong": ("import numpy as np\nimport torch\n", ""),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if NO_BWRAP is not None:
        pytest.skip(f"needs bubblewrap: {NO_BWRAP}")
    tmp = tmp_path_factory.mktemp("ordinary")
    course, subs, extra = tmp / "course", tmp / "subs", tmp / "extra" / "site-packages"
    course.mkdir()
    (course / "solution.py").write_text("import numpy as np\n" + LAYERS)
    (course / "grading.toml").write_text(SPEC)
    (extra / "qa_extra_helper").mkdir(parents=True)
    (extra / "qa_extra_helper" / "__init__.py").write_text("ANSWER = 42\n")
    (extra / "qa_extra_helper-1.0.dist-info").mkdir()
    (extra / "qa_extra_helper-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: qa-extra-helper\nVersion: 1.0\n")
    for name, (head, tail) in STUDENTS.items():
        folder = subs / name
        folder.mkdir(parents=True)
        code = textwrap.dedent(head) + LAYERS + textwrap.dedent(tail)
        if name == "wrong":
            code = code.replace("self.db = dout.sum(axis=0)", "self.db = dout.mean(axis=0)")
        (folder / "layers.py").write_text(code)
    np.save(subs / "ordinary" / "W_init.npy", np.ones((4, 3)))
    (subs / "ordinary" / "utils.py").write_text("import numpy as np\n\ndef rel_error(x, y):\n"
                                                "    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))\n")
    sys.path.insert(0, str(extra))  # as PYTHONPATH or `pip install --user` put it on the grader's path
    try:
        grade(subs, course / "grading.toml", tmp / "out", jobs=2)
    finally:
        sys.path.remove(str(extra))
    with (tmp / "out" / "gradebook.csv").open() as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    doc = json.loads((tmp / "out" / "gradviz-results.json").read_text())
    return {"rows": rows, "json": {s["student"]: s for s in doc["submissions"]}, "out": tmp / "out"}


@needs_bwrap
@pytest.mark.parametrize("student", ["ordinary", pytest.param("torchy", marks=needs_torch), "extra"])
def test_correct_code_doing_ordinary_things_keeps_full_marks(graded, student):
    row = graded["rows"][student]
    assert (row["score"], row["out of"], row["status"]) == ("12", "12", "PASS"), row


@needs_bwrap
def test_what_they_printed_is_in_the_feedback(graded):
    feedback = (graded["out"] / "feedback" / "ordinary.md").read_text()
    assert "cores" in feedback and "/home/student/ordinary" in feedback


@needs_bwrap
@needs_torch
def test_torchs_threads_and_a_big_matmul_fit_beside_torchs_own_code(graded):
    # torch's 1500x1500 matmul on 4 threads ran within the 512 MB beyond torch's own code
    assert "sanity True" in (graded["out"] / "feedback" / "torchy.md").read_text()


@needs_bwrap
@needs_torch
def test_a_planted_bug_beside_torch_is_still_caught(graded):
    row = graded["rows"]["wrong"]
    assert (row["Dense"], row["Dense forward"], row["ReLU"], row["Softmax CE"]) == ("0", "1", "2", "3"), row
    assert "b: it is 1/5 of the true gradient" in row["comment"], row["comment"]


@needs_bwrap
def test_a_file_that_fails_to_load_fails_with_its_error_for_every_target(graded):
    row = graded["rows"]["slowtypo"]
    assert (row["score"], row["status"]) == ("0", "ERROR"), row
    assert row["comment"].startswith("every target: importing layers.py:"), row["comment"]
    assert "NameError: name 'final_loss' is not defined" in row["comment"] and "time limit" not in row["comment"]


@needs_bwrap
def test_a_pool_started_at_import_is_refused_with_what_to_change(graded):
    row = graded["rows"]["pool"]
    assert (row["score"], row["status"]) == ("0", "ERROR"), row
    assert "starts a program, which grading does not allow" in row["comment"], row["comment"]
    assert 'if __name__ == "__main__":' in row["comment"] and "Operation not permitted" not in row["comment"]


NUMPY_BESIDE_TORCH = '''
import numpy as np
import torch


def softmax_cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = logits.shape[0]
    d = p.copy()
    d[np.arange(n), y] -= 1
    return -np.log(p[np.arange(n), y]).mean(), d / n {bug}


def torch_loss(x):
    return (torch.sin(x) * x).sum()


def torch_broken(x):
    return undefined_name(x)
'''


def _check(tmp_path, target: str, *inputs: str, bug: str = "") -> subprocess.CompletedProcess:
    (tmp_path / "code.py").write_text(NUMPY_BESIDE_TORCH.replace("{bug}", bug))
    argv = [PYTHON, "-m", "gradviz", "check", f"code.py:{target}"]
    for spec in inputs:
        argv += ["--input", spec]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})


@needs_torch
def test_numpy_code_in_a_file_that_imports_torch_is_checked_as_numpy(tmp_path):
    done = _check(tmp_path, "softmax_cross_entropy", "logits=6,5", "y=randint(5, size=6)")
    assert done.returncode == 0 and "PASS" in done.stdout.splitlines()[0], done.stdout + done.stderr
    assert "checked as numpy code: its file imports torch" in " ".join(done.stdout.split())
    wrong = _check(tmp_path, "softmax_cross_entropy", "logits=6,5", "y=randint(5, size=6)", bug="* n")
    assert wrong.returncode == 1 and "FAIL" in wrong.stdout.splitlines()[0], wrong.stdout + wrong.stderr


@needs_torch
def test_torch_code_beside_it_is_still_checked_by_autograd(tmp_path):
    done = _check(tmp_path, "torch_loss", "x=3,2")
    assert done.returncode == 0 and "autograd agrees" in done.stdout, done.stdout + done.stderr
    broken = _check(tmp_path, "torch_broken", "x=3,2")
    assert "NameError" in broken.stdout and "checked as numpy code" not in broken.stdout, broken.stdout
