"""Grading results: one row per (submission, target), and the journal they are kept in.

The journal (journal.jsonl in the results folder) gets one line per submission the moment it is
graded, flushed to disk, so an interrupted run loses nothing and `--resume` continues it. Every
output (gradebook, JSON, JUnit, feedback, summary) is written from the journal alone, which is
also how `gradviz grade merge` joins the shards of a run.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..checking.report import ERROR, FAIL, PASS
from ..errors import GradvizError

TIMEOUT = "TIMEOUT"
JOURNAL = "journal.jsonl"
_ORDER = {ERROR: 4, TIMEOUT: 3, FAIL: 2, PASS: 0}


@dataclass
class TargetResult:
    """How one submission did on one target, over its visible check and hidden variants."""

    target: str
    status: str  # PASS, FAIL, ERROR or TIMEOUT
    points: float
    max_points: float
    reason: str  # one line: why it did not pass ('' when it passed)
    checks: list[dict] = field(default_factory=list)  # the worker's outcome of each check

    @property
    def ok(self) -> bool:
        return self.status == PASS


@dataclass
class SubmissionResult:
    student: str
    targets: list[TargetResult]
    seconds: float
    isolation: dict = field(default_factory=dict)
    output: str = ""  # the first few KB of what the code printed
    output_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(t.points for t in self.targets)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.targets)

    @property
    def status(self) -> str:
        return max((t.status for t in self.targets), key=lambda s: _ORDER.get(s, 1), default=PASS)

    def to_dict(self) -> dict:
        return {"kind": "submission", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = {k: v for k, v in data.items() if k != "kind"}
        data["targets"] = [TargetResult(**t) for t in data["targets"]]
        return cls(**data)


def target_status(outcomes: list[dict]) -> str:
    """A target passes only when its visible check and every hidden variant pass."""
    statuses = [o["status"] if not o["ok"] or o["status"] in (ERROR, TIMEOUT) else PASS for o in outcomes]
    return max(statuses, key=lambda s: _ORDER.get(s, 1), default=PASS) if statuses else ERROR


class Journal:
    """Append-only record of a run: a header line (the spec and the shard), then one line per submission."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / JOURNAL

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def start(self, header: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"kind": "header", **header}) + "\n")

    def read(self) -> tuple[dict, list[SubmissionResult]]:
        """The header and every complete submission line; a line cut off by a crash is dropped."""
        if not self.exists():
            raise GradvizError(f"{self.path.parent} has no {JOURNAL}: it is not a gradviz grade results folder")
        header, done, good = {}, {}, 0
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    break
                if not raw.endswith(b"\n"):
                    break
                good += len(raw)
                if line.get("kind") == "header":
                    header = line
                elif line.get("kind") == "submission":
                    result = SubmissionResult.from_dict(line)
                    done[result.student] = result
        if not header:
            raise GradvizError(f"{self.path} does not start with a header line; was it written by gradviz grade?")
        self._good_bytes = good
        return header, list(done.values())

    def truncate_partial(self) -> None:
        """Drop a last line that an interrupted run left half-written (call after read)."""
        with self.path.open("r+b") as handle:
            handle.truncate(self._good_bytes)

    def started(self, student: str) -> None:
        """Record that a submission is about to run, before it runs (see interrupted)."""
        self._write({"kind": "started", "student": student})

    def interrupted(self) -> list[str]:
        """Submissions started but never finished: they were running when the grader stopped."""
        started, finished = [], set()
        with self.path.open("rb") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    break
                if line.get("kind") == "started":
                    started.append(line["student"])
                elif line.get("kind") == "submission":
                    finished.add(line["student"])
        return [s for s in dict.fromkeys(started) if s not in finished]

    def _write(self, record: dict) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, result: SubmissionResult) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(result.to_dict()) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
