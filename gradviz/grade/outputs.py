"""The machine-readable results of a run: the gradebook (CSV), JSON and JUnit XML.

All of them are written from the journal's results, sorted by student, with no timings in the
gradebook, so the same submissions always give the same gradebook, sharded or not.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .. import __version__
from ..checking.report import FAIL, PASS
from .feedback import write_feedback
from .hygiene import for_csv
from .mistakes import cause_of, common_mistakes
from .results import SubmissionResult
from .summary import write_summary


def write_all(out: Path, header: dict, results: list[SubmissionResult]) -> dict[str, Path]:
    """Every output of a run into `out`; returns {what: path}."""
    out = Path(out)
    results = sorted(results, key=lambda r: r.student)
    paths = {"gradebook": write_gradebook(out / "gradebook.csv", header, results),
             "json": write_json(out / "gradviz-results.json", header, results),
             "junit": write_junit(out / "junit.xml", header, results),
             "feedback": write_feedback(out / "feedback", header, results)}
    paths["summary"] = write_summary(out / "summary.html", header, results, common_mistakes(results))
    return paths


def _points(x: float) -> str:
    return f"{x:g}"


def write_gradebook(path: Path, header: dict, results: list[SubmissionResult]) -> Path:
    """One row per student: points per target, total, out of, the worst status, and a one-line comment.

    The columns import into an LMS gradebook (Canvas, Moodle, Blackboard take a CSV with a student
    column, score columns and a comment); every cell that came from a submission is neutralised.
    """
    names = [t["name"] for t in header["targets"]]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *names, "score", "out of", "status", "comment"])
        for r in results:
            points = {t.target: t.points for t in r.targets}
            writer.writerow([for_csv(r.student), *(_points(points.get(n, 0.0)) for n in names), _points(r.score),
                             _points(r.max_score), r.status, for_csv(comment(r), COMMENT)])
    return path


COMMENT = 300  # characters: what fits an LMS gradebook's comment field


def comment(r: SubmissionResult) -> str:
    """The diagnosis in one line, for the gradebook's comment column (an LMS shows it to the student)."""
    failing = [t for t in r.targets if t.status != PASS]
    if not failing:
        return "all targets pass"
    reasons: dict[str, list[str]] = {}  # one reason said once, with the targets it stopped (an import error: all)
    for t in failing:
        reasons.setdefault(t.reason, []).append(t.target)
    return "; ".join(("every target" if len(names) == len(r.targets) > 1 else ", ".join(names)) + f": {reason}"
                     for reason, names in reasons.items())


def write_json(path: Path, header: dict, results: list[SubmissionResult]) -> Path:
    """Everything except the drawings: per target its status, points, reason, cause and each check."""
    def target(t):
        checks = [{k: v for k, v in c.items() if k not in ("svg", "target")} for c in t.checks]
        return {"target": t.target, "status": t.status, "points": t.points, "max_points": t.max_points,
                "reason": t.reason, "cause": cause_of(t), "checks": checks}

    doc = {"gradviz": __version__, "schema": 1, "title": header["title"], "spec": header["spec"],
           "targets": header["targets"],
           "submissions": [{"student": r.student, "score": r.score, "max_score": r.max_score, "status": r.status,
                            "seconds": r.seconds, "isolation": r.isolation, "notes": r.notes,
                            "output_bytes": r.output_bytes, "targets": [target(t) for t in r.targets]}
                           for r in results]}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def write_junit(path: Path, header: dict, results: list[SubmissionResult]) -> Path:
    """One test suite per student, one test case per target: FAIL is a failure, ERROR and TIMEOUT errors."""
    suites = ET.Element("testsuites", name=header["title"])
    for r in results:
        suite = ET.SubElement(suites, "testsuite", name=r.student, tests=str(len(r.targets)),
                              failures=str(sum(t.status == FAIL for t in r.targets)),
                              errors=str(sum(t.status not in (PASS, FAIL) for t in r.targets)), time=f"{r.seconds:.3f}")
        for t in r.targets:
            case = ET.SubElement(suite, "testcase", classname=r.student, name=t.target)
            if t.status != PASS:
                kind = "failure" if t.status == FAIL else "error"
                ET.SubElement(case, kind, message=t.reason, type=t.status).text = t.reason
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path
