"""`gradviz grade` at course scale: 200 submissions x 4 targets, against a shell loop of `gradviz check`.

    python benchmarks/bench_grade.py [--quick] [--students N] [-j N]

Issue 19's target: 200 synthetic submissions x 4 targets graded in under 2 minutes on a
2-core machine. The reference is what tutorial 7 used to do: one `gradviz check` process
per target per submission (timed on a sample and scaled, since it is the slow way). The
per-submission overhead is the median time from a submission's start to its last result minus
the time the same checks take in one plain process with no isolation. The isolation is on: each
worker is sandboxed (bubblewrap, a warm zygote per slot) and every verdict is computed in the grader.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Row, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import grade_class as klass  # noqa: E402  (the synthetic class the tests grade)

from gradviz import cli  # noqa: E402
from gradviz.grade import grade, load_spec  # noqa: E402
from gradviz.grade.spec import parse_check_args  # noqa: E402

# one class: most submissions correct, a third with a planted bug, a few that do not run
MIX = ["correct"] * 12 + ["bob", "cara", "olga", "dan", "nia", "relu_bug", "mse_bug"]
BROKEN = ["gus", "ivy", "jon"]


def build(root: Path, students: int) -> tuple[Path, Path]:
    subs = root / "submissions"
    for k in range(students):
        kind = BROKEN[k // 20 % 3] if k % 20 == 19 else MIX[k % len(MIX)]
        folder = subs / f"student{k:03d}"
        klass.write_submission(folder) if kind == "correct" else klass.write_planted(folder, kind)
    return subs, klass.write_spec(root / "grading.toml", timeout=30, four_targets=True)


def bare_seconds(subs: Path, spec_path: Path, sample: int) -> float:
    """Seconds per submission to run the same checks in this one process, without any isolation."""
    spec = load_spec(spec_path)
    folders = [f for k, f in enumerate(sorted(subs.iterdir())) if k % 20 != 19][:sample]  # no os._exit here
    here = os.getcwd()
    start = time.perf_counter()
    for folder in folders:
        os.chdir(folder)
        for target in spec.targets:
            for check in target.checks:
                cli.file_target_report(parse_check_args(target.name, check.argv))
    os.chdir(here)
    return (time.perf_counter() - start) / len(folders)


def loop_seconds(subs: Path, spec_path: Path, sample: int) -> float:
    """Seconds per submission of the shell loop: one `gradviz check` process per check."""
    spec = load_spec(spec_path)
    folders = sorted(subs.iterdir())[:sample]
    start = time.perf_counter()
    for folder in folders:
        for target in spec.targets:
            for check in target.checks:
                subprocess.run([sys.executable, "-m", "gradviz", "check", *check.argv, "--json"], cwd=folder,
                               capture_output=True, timeout=120)
    return (time.perf_counter() - start) / len(folders)


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 submissions instead of 200")
    parser.add_argument("--students", type=int)
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    students = args.students or (40 if args.quick else 200)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        subs, spec = build(Path(tmp), students)
        start = time.perf_counter()
        results = grade(subs, spec, Path(tmp) / "results", jobs=args.jobs)
        wall = time.perf_counter() - start
        per = wall * args.jobs / students
        bare = bare_seconds(subs, spec, 20)
        loop = loop_seconds(subs, spec, 3)
        failing = sum(r.score < r.max_score for r in results)
        rows.append(Row(f"grade {students} submissions x 4 targets, -j {args.jobs}", wall, "limit", 120.0 * students / 200,
                        "< 2 min for 200", f"{failing} not full marks"))
        rows.append(Row("  per submission per core", per, "shell loop of check", loop, "",
                        "5 checks each (Dense has a hidden variant)"))
        inside = statistics.median(r.seconds for r in results)
        rows.append(Row("  isolation overhead per submission", inside - bare, "(info)", None, "",
                        f"median {inside * 1e3:.0f} ms from fork to result, vs the same checks in one bare "
                        f"process: {bare * 1e3:.0f} ms"))
        rows.append(Row("  load average during the run", None, "(info)", None, "",
                        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
