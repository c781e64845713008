"""Gradescope: results.json in its documented format, and an autograder zip that produces it.

The schema below is written from Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format"): the
submission's score, execution time, output and visibility, and its tests, each with a name,
score, max_score, status ("passed"/"failed"), output and visibility.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

from gradviz.grade import grade, sandbox  # noqa: E402

NO_BWRAP = sandbox.unusable()
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "output_format": FORMAT, "test_output_format": FORMAT, "test_name_format": FORMAT,
        "visibility": VISIBILITY, "stdout_visibility": VISIBILITY, "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {"score": {"type": "number"}, "max_score": {"type": "number"},
                           "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                           "name_format": FORMAT, "number": {"type": "string"}, "output": {"type": "string"},
                           "output_format": FORMAT, "tags": {"type": "array", "items": {"type": "string"}},
                           "visibility": VISIBILITY, "extra_data": {"type": "object"}}}},
        "leaderboard": {"type": "array"},
    },
    "anyOf": [{"required": ["score"]}, {"required": ["tests"]}],
}
pytestmark = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")


def test_gradescope_results_validate_and_carry_the_diagnosis(tmp_path):
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=20)
    submission = klass.write_planted(tmp_path / "submission", "dan")  # right only for the visible batch
    grade(submission, spec, tmp_path / "results", gradescope=True)
    doc = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["score"] == 2.0 and sum(t["score"] for t in doc["tests"]) == 2.0
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["Dense"]["status"] == "failed" and tests["Dense"]["max_score"] == 3
    assert "hidden variant" in tests["Dense"]["output"]  # the visible check passed: it says where it failed
    hidden = tests["Dense: a batch of 7 (hidden variant)"]
    assert hidden["visibility"] == "after_published" and hidden["status"] == "failed" and hidden["max_score"] == 0
    assert "W" in hidden["output"]
    assert tests["Sigmoid"] == {**tests["Sigmoid"], "status": "passed", "score": 2.0}
    assert (tmp_path / "results" / "gradviz-results.json").exists()  # gradviz's own file has its own name


def test_the_autograder_zip_runs_as_gradescope_runs_it(tmp_path):
    (tmp_path / "course").mkdir()
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=20)
    (tmp_path / "course" / "solution.py").write_text(klass.LAYERS)
    spec.write_text(spec.read_text().replace('input-shape = "4,3"\n', 'input-shape = "4,3"\n'
                                             'reference = "solution.py:Dense"\n', 1))
    zip_path = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, "-m", "gradviz", "grade", "autograder", str(spec), "-o", str(zip_path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "spec/grading.toml", "spec/solution.py"} <= set(names)
        assert any(n.startswith("wheels/gradviz_check-") and n.endswith(".whl") for n in names)
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        archive.extractall(root / "source")
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "bubblewrap" in (root / "source" / "setup.sh").read_text()
    run = root / "run_autograder"  # Gradescope copies it there
    run.write_text((root / "source" / "run_autograder").read_text())
    run.chmod(0o755)
    klass.write_planted(root / "submission", "bob")
    done = subprocess.run([str(run)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "AUTOGRADER_ROOT": str(root), "GRADVIZ_PYTHON": sys.executable,
                               "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    tests = {t["name"]: t for t in doc["tests"]}
    assert tests["Dense"]["status"] == "failed" and "twice the true gradient" in tests["Dense"]["output"]
    assert tests["Dense"]["output"].count("twice the true gradient") == 1  # the verdict's sentence, said once
    assert tests["Dense forward"]["status"] == "passed" and doc["score"] == 3.0
