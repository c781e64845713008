"""What the grader checks before and around a submission's code, said in the teacher's and the student's terms.

A spec that cannot work is refused before any submission runs, naming the target: the teacher's reference
must pass its own check with each target's settings (otherwise every student, correct ones too, gets the
same ERROR, or correct work is graded against a wrong reference)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gradviz.errors import GradvizError
from gradviz.grade import grade

PAIR = textwrap.dedent('''
    import numpy as np


    def relu_forward(x):
        return np.maximum(0, x), x


    def relu_backward(dout, cache):
        return dout * (cache > 0)
''')

SPEC = textwrap.dedent('''
    [assignment]
    title = "ReLU"
    timeout = 10

    [[target]]
    name = "ReLU"
    check = "layers.py:relu_forward,relu_backward"
    points = 2
    {settings}
    reference = "solution.py:relu_forward,relu_backward"

    [[target.variant]]
    name = "a wide batch"
    {variant}
''')


def _course(root: Path, solution: str, settings: str, variant: str = 'input = { x = "3,40" }') -> Path:
    (root / "course").mkdir(parents=True)
    (root / "course" / "solution.py").write_text(solution)
    (root / "subs" / "ana").mkdir(parents=True)
    (root / "subs" / "ana" / "layers.py").write_text(PAIR)
    spec = root / "course" / "grading.toml"
    spec.write_text(SPEC.format(settings=settings, variant=variant))
    return spec


def test_a_setting_the_functions_cannot_take_is_refused_before_grading(tmp_path):
    spec = _course(tmp_path, PAIR, 'input-shape = "6,5"')  # a pair's input is named: input = { x = ... }
    with pytest.raises(GradvizError, match=r"grading\.toml: target 'ReLU': the teacher's reference solution\.py:"
                                           r"relu_forward,relu_backward cannot be checked with these settings.*"
                                           r"relu_forward needs its argument x"):
        grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)
    assert not (tmp_path / "out").exists()  # nothing ran, nothing was written


def test_a_hidden_variant_the_reference_fails_is_named(tmp_path):
    spec = _course(tmp_path, PAIR, 'input = { x = "6,5" }', variant='input = { y = "3,40" }')
    with pytest.raises(GradvizError, match=r"target 'ReLU', a wide batch: the teacher's reference"):
        grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)


def test_a_reference_that_fails_its_own_check_is_refused_from_the_command_line(tmp_path):
    wrong = PAIR.replace("dout * (cache > 0)", "dout * (cache > 0) * 2")  # the teacher's slip
    spec = _course(tmp_path, wrong, 'input = { x = "6,5" }')
    run = subprocess.run([sys.executable, "-m", "gradviz", "grade", str(tmp_path / "subs"), "--spec", str(spec),
                          "--out", str(tmp_path / "out"), "--no-sandbox"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "target 'ReLU': the teacher's reference solution.py:relu_forward,relu_backward does not pass its own " \
           "check with these settings (FAIL" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_a_submission_without_the_file_says_what_was_handed_in(tmp_path):
    spec = _course(tmp_path, PAIR, 'input = { x = "6,5" }')
    (tmp_path / "subs" / "jo").mkdir()
    (tmp_path / "subs" / "jo" / "hw3.ipynb").write_text("{}")  # the notebook, not the file the spec names
    (tmp_path / "subs" / "jo" / "notes.txt").write_text("see the notebook")
    results = {r.student: r for r in grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)}
    assert {t.status for t in results["ana"].targets} == {"PASS"}
    reasons = {t.reason for t in results["jo"].targets}
    assert reasons == {"your submission has no layers.py (it has: hw3.ipynb, notes.txt)"}, reasons


RENAMED = PAIR.replace("relu_forward(x)", "relu_forward(z)").replace("np.maximum(0, x), x", "np.maximum(0, z), z")


def test_a_student_who_named_the_one_argument_otherwise_is_graded_not_refused(tmp_path):
    spec = _course(tmp_path, PAIR, 'input = { x = "6,5" }')
    (tmp_path / "subs" / "ben").mkdir()
    (tmp_path / "subs" / "ben" / "layers.py").write_text(RENAMED)  # relu_forward(z): the spec's x is its only input
    (tmp_path / "subs" / "cy").mkdir()
    (tmp_path / "subs" / "cy" / "layers.py").write_text(RENAMED.replace("dout * (cache > 0)", "dout"))  # a real bug
    results = {r.student: r for r in grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)}
    assert [(t.target, t.status, t.points) for t in results["ben"].targets] == [("ReLU", "PASS", 2.0),
                                                                               ("ReLU forward", "PASS", 1.0)]
    assert [t.status for t in results["cy"].targets] == ["FAIL", "PASS"]  # the backward's bug, its right forward
    assert results["cy"].targets[0].reason.startswith("z: ")


def test_an_input_name_that_fits_no_single_argument_is_still_refused(tmp_path):
    two = tmp_path / "two.py"
    two.write_text(textwrap.dedent('''
        def mul_forward(a, b):
            return a * b, (a, b)


        def mul_backward(dout, cache):
            a, b = cache
            return dout * b, dout * a
    '''))
    run = subprocess.run([sys.executable, "-m", "gradviz", "check", f"{two}:mul_forward,mul_backward",
                          "--input", "x=3,4"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "--input x: mul_forward has no argument x; its arguments are a, b" in run.stderr
    bound = subprocess.run([sys.executable, "-m", "gradviz", "check", f"{two}:mul_forward,mul_backward",
                            "--input", "x=3,4", "--input", "b=3,4"], capture_output=True, text=True, timeout=120)
    assert bound.returncode == 0 and "--input x is given to mul_forward's argument a, the only one left" in bound.stdout


def test_packages_submissions_import_are_checked_here_and_installed_on_gradescope(tmp_path):
    import zipfile

    from gradviz.grade.gradescope import build_autograder

    spec = _course(tmp_path, PAIR, 'input = { x = "6,5" }')
    text = spec.read_text().replace("timeout = 10\n", "timeout = 10\npackages = [\"numpy>=1.20\", \"PACKAGE\"]\n")
    spec.write_text(text.replace("PACKAGE", "gradviz-no-such-package"))
    with pytest.raises(GradvizError, match=r"assignment\.packages lists gradviz-no-such-package, which this Python .* "
                                           r"does not have.*pip install gradviz-no-such-package"):
        grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)
    spec.write_text(text.replace("PACKAGE", "numpy; rm -rf /"))  # a requirement, never shell text
    with pytest.raises(GradvizError, match=r"'numpy; rm -rf /' is not a pip requirement"):
        grade(tmp_path / "subs", spec, tmp_path / "out", no_sandbox=True)
    spec.write_text(text.replace("PACKAGE", "sympy"))
    wheel = tmp_path / "gradviz_check-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")  # the archive is only copied into the zip
    with zipfile.ZipFile(build_autograder(spec, tmp_path / "autograder.zip", wheel=wheel)) as archive:
        setup = archive.read("setup.sh").decode()
    assert "pip install -q 'numpy>=1.20'\n" in setup and "pip install -q sympy\n" in setup


def test_the_autograder_installs_torch_from_pytorchs_cpu_index(tmp_path):
    """Gradescope has no GPU: PyPI's default torch would bring several GB of CUDA libraries into its image."""
    import zipfile

    from gradviz.grade.gradescope import build_autograder

    spec = _course(tmp_path, PAIR, 'input = { x = "6,5" }')
    spec.write_text(spec.read_text().replace("timeout = 10\n", 'timeout = 10\npackages = ["torch>=2.0", '
                                                                 '"torchvision", "torchmetrics"]\n'))
    wheel = tmp_path / "gradviz_check-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    with zipfile.ZipFile(build_autograder(spec, tmp_path / "autograder.zip", wheel=wheel)) as archive:
        setup = archive.read("setup.sh").decode()
    cpu = " --index-url https://download.pytorch.org/whl/cpu\n"
    assert f"pip install -q 'torch>=2.0'{cpu}" in setup and f"pip install -q torchvision{cpu}" in setup
    assert "pip install -q torchmetrics\n" in setup  # not a PyTorch build: from PyPI as usual


def test_the_gradebook_comment_says_a_shared_reason_once():
    from gradviz.grade.outputs import comment
    from gradviz.grade.results import SubmissionResult, TargetResult

    crash = "importing layers.py:2 raised ModuleNotFoundError: No module named 'utils'"
    every = SubmissionResult(student="ivan", seconds=0.1, targets=[
        TargetResult(target=t, status="ERROR", points=0.0, max_points=1.0, reason=crash, checks=[])
        for t in ("Dense", "ReLU", "Softmax CE")])
    assert comment(every) == f"every target: {crash}"
    some = SubmissionResult(student="finn", seconds=0.1, targets=[
        TargetResult(target="Dense", status="FAIL", points=0.0, max_points=1.0, reason="b: wrong axis", checks=[]),
        TargetResult(target="ReLU", status="FAIL", points=0.0, max_points=1.0, reason="b: wrong axis", checks=[]),
        TargetResult(target="MSE", status="PASS", points=1.0, max_points=1.0, reason="", checks=[])])
    assert comment(some) == "Dense, ReLU: b: wrong axis"
