"""`gradviz grade` against students who cheat with their own numbers, not with the grader's channel.

The worker returns plain numbers, so a cheat has to make those numbers lie: a forward that sees the
finite-difference probes coming (inputs a step away from the first point it was asked) and answers
them with values that agree with a backward it never wrote. Each class runs under bubblewrap with
honest students beside the cheats; the honest rows must not change.
"""

from __future__ import annotations

import csv
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
    grade(subs, _spec(tmp_path / "course"), tmp_path / "out", jobs=2)
    rows = _rows(tmp_path / "out")
    assert (rows["honest"]["Dense"], rows["honest"]["Dense forward"], rows["honest"]["score"]) == ("3", "1", "6")
    assert (rows["bob"]["Dense"], rows["bob"]["Dense forward"]) == ("0", "1")
    for name in CHEATS:  # their forward is the teacher's wherever it is compared: only the gradients are wrong
        assert (rows[name]["Dense"], rows[name]["Dense forward"], rows[name]["Sigmoid"]) == ("0", "1", "2"), name
        assert rows[name]["status"] == "FAIL", name
    assert "twice the true gradient" in rows["hider"]["comment"]  # the same diagnosis as bob's honest bug
    assert "zero" in rows["lazy"]["comment"] and "zero" in rows["kinker"]["comment"]


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
