"""Piecewise code is checked at a second draw of its random inputs, spread over scales.

A standard-normal draw of 6 predictions and 6 targets at seed 0 never puts pred - target below -1,
so a Huber loss wrong only on that branch passed. Code with comparisons or where/abs/maximum is
checked once more when the first draw passes, each drawn element at its own scale (0.1x to 10x,
both signs, seeded); smooth code is checked once, as before. The reference is gradviz's finite
differences of the fixture's own loss.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np

from gradviz.targets.inputs import Given

HUBER = textwrap.dedent('''
    import numpy as np

    def smooth_l1(pred, target, delta=1.0):
        """Mean Huber loss of pred - target and its gradient with respect to pred."""
        r = pred - target
        inner = np.abs(r) <= delta
        loss = np.where(inner, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)).mean()
        grad = np.where(inner, r, SLOPE) / r.size
        return loss, grad
''')
CORRECT = HUBER.replace("SLOPE", "delta * np.sign(r)")
BUGGY = HUBER.replace("SLOPE", "delta")  # the linear part's sign dropped: wrong only where r < -delta

SQUARED = textwrap.dedent('''
    import numpy as np

    def half_squared(pred, target):
        r = pred - target
        return 0.5 * (r ** 2).mean(), r / r.size
''')

ARGS = ["--input", "pred=6,1", "--input", "target=6,1"]


def check(tmp_path, source, target, *extra):
    (tmp_path / "losses.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "gradviz", "check", f"losses.py:{target}", *ARGS, *extra],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_the_first_draw_never_reaches_the_branch():
    """Why a second draw is needed: at seed 0, pred - target never goes below -1."""
    given = Given.from_flags(None, {"pred": "6,1", "target": "6,1"}, {}, 0)
    assert (given.inputs["pred"] - given.inputs["target"]).min() > -1.0
    spread = Given.from_flags(None, {"pred": "6,1", "target": "6,1"}, {}, 0, spread=True)
    r = spread.inputs["pred"] - spread.inputs["target"]
    assert r.min() < -1.0 and r.max() > 1.0 and np.abs(r).min() < 1.0  # both signs, both sides of delta


def test_a_slip_on_a_branch_the_first_draw_misses_fails(tmp_path):
    done = check(tmp_path, BUGGY, "smooth_l1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL: pred: the sign is flipped" in done.stdout
    assert "a second draw with each element at its own scale" in " ".join(done.stdout.split())
    assert check(tmp_path, BUGGY, "smooth_l1").stdout == done.stdout  # seeded: the same report every time


def test_correct_piecewise_code_passes_both_draws(tmp_path):
    done = check(tmp_path, CORRECT, "smooth_l1")
    assert done.returncode == 0, done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "PASS" in text and "drawn a second time" in text and "agrees too" in text


def test_smooth_code_is_checked_once(tmp_path):
    done = check(tmp_path, SQUARED, "half_squared")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "second" not in done.stdout
