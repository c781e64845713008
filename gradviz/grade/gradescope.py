"""Gradescope: its results file for one submission, and the autograder zip that produces it.

Gradescope runs `run_autograder` in a fresh container per submission, with the student's files
in /autograder/submission, and reads /autograder/results/results.json (format:
https://gradescope-autograders.readthedocs.io/en/latest/specs/). `gradviz grade --gradescope`
grades that one folder and writes the file: the submission's score, one test per target (its
points, "passed" or "failed", and the diagnosis as text), and one test per hidden variant
(worth no points of its own, shown only after the grades are published).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .. import __version__
from ..checking.report import PASS
from ..errors import GradvizError
from .hygiene import clip
from .results import SubmissionResult, TargetResult
from .spec import Spec, load_spec

HIDDEN_VISIBILITY = "after_published"  # a hidden variant's result: after the grades are published
OUTPUT_LIMIT = 8000  # characters of one test's output


def gradescope_results(header: dict, result: SubmissionResult) -> dict:
    """The results.json document for one submission."""
    tests = []
    for t in result.targets:
        tests.append({"name": t.target, "score": t.points, "max_score": t.max_points,
                      "status": "passed" if t.status == PASS else "failed", "output": _output(t),
                      "output_format": "text", "visibility": "visible"})
        for check in t.checks:
            if check["check"] == "visible":
                continue
            tests.append({"name": f"{t.target}: {check['check']} (hidden variant)", "score": 0.0, "max_score": 0.0,
                          "status": "passed" if check["ok"] else "failed",
                          "output": "" if check["ok"] else clip(_check_text(check), OUTPUT_LIMIT),
                          "output_format": "text", "visibility": HIDDEN_VISIBILITY})
    notes = list(result.notes)
    if result.output:
        notes.append("what your code printed (first lines):\n" + clip(result.output, 2000))
    return {"score": result.score, "execution_time": round(result.seconds, 3),
            "output": clip(f"{header['title']}: {result.score:g} / {result.max_score:g} (gradviz {__version__})"
                           + "".join(f"\n{n}" for n in notes), OUTPUT_LIMIT),
            "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": tests}


def write_gradescope(path: Path, header: dict, results: list[SubmissionResult]) -> Path:
    if len(results) != 1:
        raise GradvizError(f"--gradescope grades one submission (Gradescope's /autograder/submission); got "
                           f"{len(results)}")
    path.write_text(json.dumps(gradescope_results(header, results[0]), indent=2) + "\n")
    return path


def _output(t: TargetResult) -> str:
    if t.status == PASS:
        return "passed"
    visible = [c for c in t.checks if c["check"] == "visible" and not c["ok"]]
    text = "\n".join(_check_text(c) for c in visible) or (t.reason + " (a hidden variant of this target failed)")
    return clip(text, OUTPUT_LIMIT)


def _check_text(check: dict) -> str:
    verdict = str(check.get("verdict") or check["status"])
    lines = [verdict]
    for problem in check.get("problems", []):
        said = [d["message"] for d in problem["diagnosis"]] or [problem["message"]]
        lines += [f"  {problem['input']}: {s}" for s in said if s and s not in verdict]  # each sentence once
    return "\n".join(lines)


# -- the autograder zip ----------------------------------------------------------------------------
SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q /autograder/source/wheels/*.whl
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes /autograder/results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{GRADVIZ_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
"$PYTHON" -m gradviz grade --gradescope "$ROOT/submission" --spec "$ROOT/source/spec/{spec}" \\
    --out "$ROOT/results" {flags}
"""


def build_autograder(spec_path: str | Path, output: str | Path, *, wheel: str | Path | None = None,
                     no_sandbox: bool = False) -> Path:
    """The zip Gradescope takes: setup.sh, run_autograder, the spec folder's files it needs, gradviz's wheel."""
    spec = load_spec(spec_path)
    output = Path(output)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp)
        built = Path(wheel) if wheel else _build_wheel(wheels)
        if not built.is_file() or built.suffix != ".whl":
            raise GradvizError(f"{built} is not a wheel file (.whl)")
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            extra = "".join(_install_line(r) for r in spec.packages)
            _add(archive, "setup.sh", SETUP + extra)  # the spec's packages: what submissions import beyond numpy
            flags = "--no-sandbox" if no_sandbox else ""
            _add(archive, "run_autograder", RUN.format(spec=spec.path.name, flags=flags))
            archive.write(built, f"wheels/{built.name}")
            for path in _spec_files(spec):
                archive.write(path, f"spec/{path.relative_to(spec.path.parent)}")
    return output


# Gradescope's machines have no GPU: PyTorch's own CPU index holds its CPU builds (a few hundred MB, where
# PyPI's default build brings several GB of CUDA libraries into the image).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_PACKAGES = ("torch", "torchvision", "torchaudio")


def _install_line(requirement: str) -> str:
    """setup.sh's line for one of the spec's packages (a validated requirement, quoted, never shell text)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement, maxsplit=1)[0].lower()
    index = f" --index-url {TORCH_CPU_INDEX}" if name in TORCH_PACKAGES else ""
    return f"/autograder/venv/bin/pip install -q {shlex.quote(requirement)}{index}\n"


def _add(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | 0o755) << 16  # executable, as Gradescope runs them
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, text)


def _spec_files(spec: Spec) -> list[Path]:
    """The spec, its support files and its references: everything run_autograder reads from the spec folder."""
    files = [spec.path, *spec.files, *(Path(t.reference.rpartition(":")[0]) for t in spec.targets if t.reference)]
    out = []
    for f in dict.fromkeys(files):
        if spec.path.parent not in f.parents:
            raise GradvizError(f"{f} is outside the spec's folder {spec.path.parent}; the autograder zip holds that "
                               "folder only: move the file next to the spec")
        out += [p for p in sorted(f.rglob("*")) if p.is_file()] if f.is_dir() else [f]
    return out


def _build_wheel(folder: Path) -> Path:
    """gradviz's own wheel, built from the source tree this grader runs from."""
    source = Path(__file__).resolve().parents[2]
    if not (source / "pyproject.toml").is_file():
        raise GradvizError("gradviz is not installed from a source tree here: give its wheel with --wheel "
                           "(build it once from a checkout: `pip wheel --no-deps -w . path/to/gradviz`)")
    tree = folder / "source"  # a copy: building leaves build/ and egg-info behind in the tree it builds
    shutil.copytree(source / "gradviz", tree / "gradviz", ignore=shutil.ignore_patterns("__pycache__"))
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, tree / item.name)
    # An isolated build: pyproject.toml asks for the setuptools it needs (an environment's own may be older).
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(folder), str(tree)], capture_output=True, text=True,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    found = sorted(folder.glob("gradviz*.whl"))  # the distribution is gradviz-check: gradviz_check-*.whl
    if done.returncode != 0 or not found:
        raise GradvizError(f"building gradviz's wheel failed: {done.stderr.strip()[-400:]}; give one with --wheel")
    return found[0]
