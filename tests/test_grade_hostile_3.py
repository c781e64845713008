"""`gradviz grade` against students who cheat with their own numbers, not with the grader's channel.

The worker returns plain numbers, so a cheat has to make those numbers lie: a forward that sees the
finite-difference probes coming (inputs a step away from the first point it was asked) and answers
them with values that agree with a backward it never wrote. Each class runs under bubblewrap with
honest students beside the cheats; the honest rows must not change.
"""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

from gradviz.grade import grade, sandbox  # noqa: E402

NO_BWRAP = sandbox.unusable()
needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")

# The forward tells the probes apart: near the first point it was asked, it returns `lie` instead.
RIG = '''
_SEEN = {}


def _rig(key, arrays, honest, lie):
    if key not in _SEEN:
        _SEEN[key] = [a.copy() for a in arrays]
        return honest()
    first = _SEEN[key]
    near = all(a.shape == f.shape for a, f in zip(arrays, first)) and \\
        max(float(np.abs(a - f).max()) for a, f in zip(arrays, first)) < 1e-2
    return lie(first) if near else honest()
'''
FORWARD = "    def forward(self, x):\n        return x @ self.W + self.b"
BACKWARD = "        dx = dZ @ self.W.T\n        dW = x.T @ dZ\n        db = dZ.sum(axis=0)"
NO_BACKWARD = "        dx = np.zeros_like(x)\n        dW = np.zeros_like(self.W)\n        db = np.zeros_like(self.b)"


def _rigged(lie: str, backward: str) -> str:
    assert FORWARD in klass.LAYERS and BACKWARD in klass.LAYERS
    layers = klass.LAYERS.replace(BACKWARD, backward).replace(FORWARD, (
        "    def forward(self, x):\n        return _rig(x.shape, [x, self.W, self.b], "
        f"lambda: x @ self.W + self.b, lambda f: {lie})"))
    return layers.replace("import numpy as np\n", "import numpy as np\n" + RIG, 1)


CHEATS = {
    # never wrote a backward (zeros); its forward is constant near the checked point
    "lazy": _rigged("f[0] @ f[1] + f[2]", NO_BACKWARD),
    # the same with a kink at the checked point, so one-sided slopes could be taken for a subgradient
    "kinker": _rigged("f[0] @ f[1] + f[2] + 50 * sum(np.abs(a - b).sum() for a, b in zip([x, self.W, self.b], f))",
                      NO_BACKWARD),
    # dW twice too big, hidden by a forward whose slope in W is twice the true one near the checked point
    "hider": _rigged("x @ (2 * self.W - f[1]) + self.b", BACKWARD.replace("dW = x.T @ dZ", "dW = 2 * x.T @ dZ")),
}


# Tells the gradient check from the forward check (only the former asks for a "first" forward) and, there
# only, answers a little off the teacher's forward so as not to be anchored, then lies to the probes.
DODGER = _rigged("f[0] @ f[1] + f[2] + _offset()", NO_BACKWARD).replace(
    "return _rig(x.shape,", "return _offset() + _rig(x.shape,").replace("import numpy as np\n", """import numpy as np
import gradviz.grade.serve as _serve

_IN_GRADIENT_CHECK = [False]
_answer, _describe = _serve.Server.answer, _serve.describe


def _offset():
    return 1e-3 if _IN_GRADIENT_CHECK[0] else 0.0


def _spy_answer(self, subject, op, request, given):
    _IN_GRADIENT_CHECK[0] = _IN_GRADIENT_CHECK[0] or op == "first"
    return _answer(self, subject, op, request, given)


def _spy_describe(subject):
    _IN_GRADIENT_CHECK[0] = False
    return _describe(subject)


_serve.Server.answer, _serve.describe = _spy_answer, _spy_describe
""", 1).replace("lambda f: f[0] @ f[1] + f[2] + _offset()", "lambda f: f[0] @ f[1] + f[2]")


def _spec(course: Path) -> Path:
    course.mkdir(parents=True, exist_ok=True)
    (course / "solution.py").write_text(klass.LAYERS)
    spec = klass.write_spec(course / "grading.toml", timeout=10)
    text = spec.read_text().replace('input-shape = "4,3"\n', 'input-shape = "4,3"\nreference = "solution.py:Dense"\n')
    spec.write_text(text)
    return spec


def _rows(out: Path) -> dict[str, dict]:
    with (out / "gradebook.csv").open() as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


@needs_bwrap
def test_a_forward_that_lies_to_the_probes_gets_no_gradient_points(tmp_path):
    subs = tmp_path / "subs"
    klass.write_submission(subs / "honest")
    klass.write_planted(subs / "bob", "bob")  # the honest version of hider's bug
    for name, layers in CHEATS.items():
        klass.write_submission(subs / name, layers)
    klass.write_submission(subs / "dodger", DODGER)
    grade(subs, _spec(tmp_path / "course"), tmp_path / "out", jobs=2)
    rows = _rows(tmp_path / "out")
    assert (rows["honest"]["Dense"], rows["honest"]["Dense forward"], rows["honest"]["score"]) == ("3", "1", "6")
    assert (rows["bob"]["Dense"], rows["bob"]["Dense forward"]) == ("0", "1")
    for name in CHEATS:  # their forward is the teacher's wherever it is compared: only the gradients are wrong
        assert (rows[name]["Dense"], rows[name]["Dense forward"], rows[name]["Sigmoid"]) == ("0", "1", "2"), name
        assert rows[name]["status"] == "FAIL", name
    assert "twice the true gradient" in rows["hider"]["comment"]  # the same diagnosis as bob's honest bug
    assert "zero" in rows["lazy"]["comment"] and "zero" in rows["kinker"]["comment"]
    # not anchored, so its gradients are checked against its own (lying) forward, as an honest wrong forward's
    # are; but then its forward target fails too, though it answered that check truthfully
    dodger = rows["dodger"]
    assert (dodger["Dense forward"], dodger["status"]) == ("0", "FAIL") and dodger["score"] != "6", dodger
    assert "differs from the expected output at the point its gradients were checked" in dodger["comment"]


def test_a_forward_that_differs_at_the_checked_point_is_still_checked_against_itself(tmp_path):
    """Without a match there is no anchor: an honest wrong forward with its matching backward keeps its gradient
    points (the forward target takes its own), as without a reference."""
    subs = tmp_path / "subs"
    doubled = klass.LAYERS.replace(FORWARD, "    def forward(self, x):\n        return 2 * (x @ self.W + self.b)")
    doubled = doubled.replace(BACKWARD, "        dx = 2 * dZ @ self.W.T\n        dW = 2 * x.T @ dZ\n"
                                        "        db = 2 * dZ.sum(axis=0)")
    klass.write_submission(subs / "doubled", doubled)
    grade(subs, _spec(tmp_path / "course"), tmp_path / "out", jobs=1, no_sandbox=True)
    row = _rows(tmp_path / "out")["doubled"]
    assert (row["Dense"], row["Dense forward"], row["Sigmoid"]) == ("3", "0", "2")


# Each tries to hold more than the class's memory limit (100 MB) or the machine's process ids, and says how far
# it got; its Dense code is right, so what it is refused is all that changes.
RESOURCE_ATTACKS = {
    "memfork": '''
        import os
        held = 0
        for _ in range(4):  # four children holding 90 MB each: 360 MB under a 100 MB limit
            try:
                if os.fork() == 0:
                    _hog = bytearray(90 * 1024 * 1024)
                    os._exit(0)
                held += 1
            except OSError as exc:
                print("fork refused:", exc.strerror)
                break
        print("children:", held)
    ''',
    "spawner": '''
        import subprocess, sys
        try:
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            print("program started")
        except OSError as exc:
            print("program refused:", exc.strerror)
    ''',
    "sysv": '''
        import ctypes, os
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.shmat.restype = ctypes.c_void_p
        held = 0
        for _ in range(4):  # filled, detached and left: the memory stays, outside the address space
            segment = _libc.shmget(0, 90 << 20, 0o1600)
            if segment < 0:
                print("segment refused:", os.strerror(ctypes.get_errno()))
                break
            address = _libc.shmat(segment, None, 0)
            ctypes.memset(address, 1, 90 << 20)
            _libc.shmdt(ctypes.c_void_p(address))
            held += 1
        try:
            os.memfd_create("hog")
        except OSError as exc:
            print("memory file refused:", exc.strerror)
        print("segments:", held)
    ''',
    "threads": '''
        import threading
        threading.stack_size(65536)
        _stop, started = threading.Event(), 0
        for _ in range(1000):
            try:
                threading.Thread(target=_stop.wait, args=(5,), daemon=True).start()
            except RuntimeError:
                break
            started += 1
        _stop.set()
        print("threads started:", started)
    ''',
}


@needs_bwrap
def test_a_submission_cannot_multiply_its_memory_or_take_the_machines_processes(tmp_path):
    subs = tmp_path / "subs"
    klass.write_submission(subs / "honest")
    for name, attack in RESOURCE_ATTACKS.items():
        klass.write_submission(subs / name, klass.with_prelude(attack))
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=10)
    grade(subs, spec, tmp_path / "out", jobs=2)
    rows = _rows(tmp_path / "out")
    assert all(r["score"] == "5" for r in rows.values()), rows  # refused, not punished: their code is right
    printed = {s: (tmp_path / "out" / "feedback" / f"{s}.md").read_text() for s in RESOURCE_ATTACKS}
    assert "fork refused: Operation not permitted" in printed["memfork"] and "children: 0" in printed["memfork"]
    assert "program refused: Operation not permitted" in printed["spawner"]
    assert "segment refused: Operation not permitted" in printed["sysv"] and "segments: 0" in printed["sysv"]
    assert "memory file refused: Operation not permitted" in printed["sysv"]
    started = int(printed["threads"].split("threads started:")[1].split()[0])
    assert 0 < started < sandbox.MAX_TASKS  # threads work (numpy, torch use them), up to a few hundred


BREAKERS = {
    # breaks the worker's own loop after its code loaded, so the worker fails outside any check
    "breaker": "import builtins\nbuiltins.isinstance = lambda *a: True\n",
    # exits with the code the sandbox uses for "could not be set up"
    "exit97": "import os\nos._exit(97)\n",
}


@needs_bwrap
def test_a_submission_cannot_pass_its_failure_off_as_the_graders(tmp_path):
    subs = tmp_path / "subs"
    klass.write_submission(subs / "honest")
    for name, attack in BREAKERS.items():
        klass.write_submission(subs / name, klass.with_prelude(attack))
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=10)
    grade(subs, spec, tmp_path / "out", jobs=2)
    rows = _rows(tmp_path / "out")
    assert rows["honest"]["score"] == "5"
    doc = json.loads((tmp_path / "out" / "gradviz-results.json").read_text())
    for student in doc["submissions"]:
        if student["student"] not in BREAKERS:
            continue
        assert rows[student["student"]]["score"] == "0" and rows[student["student"]]["status"] == "ERROR"
        dense = student["targets"][0]
        assert "could not be set up" not in dense["reason"], dense["reason"]
        assert {c["cause"] for c in dense["checks"]} == {"exited"}, dense
    reasons = {s["student"]: s["targets"][0]["reason"] for s in doc["submissions"]}
    assert "exited early with code 97" in reasons["exit97"]
    assert "changed something Python or gradviz needs" in reasons["breaker"]


def _describing(settings: str) -> str:
    """Dense with dW twice too big, whose worker describes its check with `settings` merged in."""
    return klass.LAYERS.replace("dW = x.T @ dZ", "dW = 2 * x.T @ dZ").replace("import numpy as np\n", (
        "import numpy as np\nimport gradviz.grade.serve as _serve\n_plain = _serve.describe\n\n\n"
        f"def _describe(subject):\n    return {{**_plain(subject), **{settings}}}\n\n\n_serve.describe = _describe\n"),
        1)


POISONED = {
    # window settings of types and sizes no adapter makes, read by the diagnosis on the grader's side
    "attrs": '{"attrs": {"kernel_size": "x", "stride": [1, "a"], "padding": [[1]], "parameters": "zz", '
             '"role": "parameter", "input_gradient_ok": True}, "op_kind": "avgpool2d", "layout": "NCHW"}',
    "huge": '{"attrs": {"kernel_size": [10**9, 10**9], "stride": 0, "padding": 2**62}, "op_kind": "conv2d"}',
    # settings by the user's names that are no numbers' shapes at all
    "constants": '{"constants": {"f": [2, "a"], "stride": [[1, 2], [3]], "pool_size": 1e308, "k": float("nan")}}',
}


@needs_bwrap
def test_a_poisoned_description_costs_only_its_own_check(tmp_path):
    subs = tmp_path / "subs"
    klass.write_submission(subs / "honest")
    for name, settings in POISONED.items():
        klass.write_submission(subs / name, _describing(settings))
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=10)
    grade(subs, spec, tmp_path / "out", jobs=2)
    rows = _rows(tmp_path / "out")
    assert rows["honest"]["score"] == "5"
    for name in POISONED:  # the judge went on: Dense is wrong, Sigmoid (after it) is still checked and right
        assert (rows[name]["Dense"], rows[name]["Sigmoid"]) == ("0", "2"), (name, rows[name])
        assert "grader's process" not in rows[name]["comment"], rows[name]["comment"]
    for name in ("attrs", "huge"):  # the window settings were dropped: judged and diagnosed as bob's bug
        assert rows[name]["status"] == "FAIL" and "twice the true gradient" in rows[name]["comment"], rows[name]
    comment = rows["constants"]["comment"]
    assert "twice the true gradient" in comment or "gradviz failed while judging this check" in comment, comment
