"""What runs inside a submission's own process: confine it, then check each target in turn.

Each check's outcome is sent to the grader the moment it is known, so a submission that hangs
or dies in its third target still gets credit for the first two. Targets are checked through
the same entry point as `gradviz check path/file.py:NAME` (cli.file_target_report).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import Any

from ..checking.diagnosis.finding import as_finding
from ..checking.report import ERROR, FAIL
from ..cli.check_command import file_target_report
from ..errors import GradvizError
from . import sandbox
from .spec import parse_check_args


def ready() -> None:
    """Nothing: starting it proves the fork server has finished its imports."""


def run(conn, job: dict) -> None:
    """The process body for one submission (the job dict is built by runner._Pool._start)."""
    held = sandbox.confine(Path(job["sandbox"]), Path(job["output"]), timeout=job["timeout"],
                           memory_mb=job["memory_mb"], output_mb=job["output_mb"],
                           hide=[Path(p) for p in job["hide"]])
    conn.send({"kind": "isolation", "held": held})
    os.environ.update({"TMPDIR": job["tmp"], "HOME": job["tmp"]})
    os.chdir(job["copy"])
    sys.path.insert(0, job["copy"])
    for target, checks in job["targets"]:
        for label, argv in checks:
            conn.send({"kind": "check", "target": target, "check": label, **outcome(argv, job)})
    conn.send({"kind": "done"})
    conn.close()


def outcome(argv: list[str], job: dict) -> dict[str, Any]:
    """Check one target; whatever the user's code does becomes a status and a message, never a crash."""
    try:
        report = file_target_report(parse_check_args(argv[0], argv))
    except GradvizError as exc:
        return _error(str(exc), job)
    except MemoryError:
        return _error("MemoryError", job)
    except SystemExit as exc:
        return _error(f"the code called sys.exit({exc.code!r}) while being checked", job)
    except BaseException as exc:  # noqa: BLE001 - the user's code may raise anything
        return _error(f"{type(exc).__name__}: {exc}", job)
    bad = [r for r in report.results if r.status in (FAIL, ERROR)]
    verdict, status = report.verdict, report.status
    if len(bad) > 1 and len({r.message for r in bad}) == 1 and bad[0].message and not any(r.diagnosis for r in bad):
        verdict, bad = _reason(bad[0].message, job), []  # the code failed as a whole, not input by input
    if any(_limit_hit(m) for m in [verdict, *(r.message for r in bad)]):
        status = ERROR  # a grading limit stopped the code: that is no verdict on its gradients
    return {
        "status": status, "ok": report.ok, "verdict": verdict,
        "problems": [{"input": r.name, "status": r.status, "diagnosis": [as_finding(d).to_dict() for d in r.diagnosis],
                      "message": _reason(r.message, job) if r.message else ""} for r in bad],
        # the feedback shows only what failed: a passing report's table is not worth building
        "markdown": "" if report.ok else report.to_markdown(), "svg": "" if report.ok else _drawing(report),
    }


def _error(message: str, job: dict) -> dict[str, Any]:
    return {"status": ERROR, "ok": False, "verdict": _reason(message, job), "problems": [], "markdown": "", "svg": ""}


_OUT_OF_MEMORY, _TOO_MUCH_OUTPUT = "MemoryError", f"[Errno {errno.EFBIG}]"


def _limit_hit(message: str) -> bool:
    return _OUT_OF_MEMORY in message or _TOO_MUCH_OUTPUT in message


def _reason(message: str, job: dict) -> str:
    """Name the limit a failure hit, in the words a student needs."""
    if _OUT_OF_MEMORY in message:
        return f"{message} (ran out of memory: the limit is {job['memory_mb']:g} MB)"
    if _TOO_MUCH_OUTPUT in message:
        return f"{message} (printed or wrote more than the {job['output_mb']:g} MB output limit)"
    return message


def _drawing(report) -> str:
    """The verdict drawn on the checked graph, as SVG text ('' when the code is a black box)."""
    if report.root is None:
        return ""
    try:
        from ..rendering import render_source

        return render_source(report.draw().source, "svg", None).decode("utf-8")
    except Exception:  # noqa: BLE001 - a drawing is a bonus; the verdict stands without it
        return ""
