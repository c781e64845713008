"""`gradviz grade`: grade a folder of student submissions against a TOML spec, safely and in parallel.

    from gradviz.grade import grade, merge
    results = grade("submissions/", "grading.toml", "results/", jobs=2)

Each submission's code runs in a bubblewrap sandbox of its own (sandbox.py) in a worker that only
evaluates it (worker.py, serve.py); every verdict is computed on the grader's side (judge.py,
remote.py) from the plain numbers the worker returns (wire.py). Each submission is journaled as it
starts and as it finishes (results.py), and the outputs are written from the journal (outputs.py).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import GradvizError
from .progress import Progress
from .results import TIMEOUT, Journal, SubmissionResult, TargetResult
from .spec import Spec, load_spec


def __getattr__(name: str):
    """The runner and the output writers (which import the checker) load on first use, not for --help."""
    if name in ("Limits", "grade_folder", "parse_shard"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["TIMEOUT", "Limits", "Spec", "SubmissionResult", "TargetResult", "grade", "load_spec", "merge"]


def grade(submissions: str | Path, spec: str | Path | Spec, out: str | Path, *, jobs: int | None = None,
          timeout: float | None = None, memory_mb: float | None = None, output_mb: float | None = None,
          shard: str | tuple[int, int] | None = None, resume: bool = False,
          progress: Progress | None = None, no_sandbox: bool = False,
          gradescope: bool = False) -> list[SubmissionResult]:
    """Grade every submission folder in `submissions`; write the gradebook, JSON, JUnit, feedback and summary.

    `timeout` (s), `memory_mb` and `output_mb` override the spec's [assignment] limits; `shard`
    ("i/n") grades every n-th submission only; `resume` continues an interrupted run in `out`.
    Each submission runs in a bubblewrap sandbox; `no_sandbox=True` runs it unconfined (trusted code only).
    `gradescope=True`: `submissions` is one submission's folder (Gradescope's /autograder/submission), and
    `out`/results.json is written in Gradescope's format.
    """
    from .outputs import write_all
    from .runner import Limits, grade_folder, parse_shard

    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    if not resume:  # a resumed run was checked when it started
        from .preflight import check_packages, check_references

        check_packages(spec)
        check_references(spec)
    for flag, value in (("--timeout", timeout), ("--memory", memory_mb), ("--output-limit", output_mb)):
        if value is not None and not value > 0:
            raise GradvizError(f"{flag} must be a positive number, got {value:g}")
    limits = Limits(timeout or spec.timeout, memory_mb or spec.memory_mb, output_mb or spec.output_mb,
                    sandboxed=not no_sandbox)
    shard = parse_shard(shard) if isinstance(shard, str) else shard
    results = grade_folder(Path(submissions), spec, Path(out), jobs=jobs, limits=limits, shard=shard,
                           resume=resume, progress=progress, single=gradescope)
    header, _ = Journal(Path(out)).read()
    write_all(Path(out), header, results)
    if gradescope:
        from .gradescope import write_gradescope

        write_gradescope(Path(out) / "results.json", header, results)
    return results


def merge(folders: list[str | Path], out: str | Path) -> list[SubmissionResult]:
    """Join the results folders of the shards of one run into `out` (a results folder of its own)."""
    from .outputs import write_all

    if not folders:
        raise GradvizError("gradviz grade merge needs the results folders of the shards, e.g. merge shard-1 shard-2")
    headers, results = [], {}
    for folder in map(Path, folders):
        header, done = Journal(folder).read()
        missing = set(header["submissions"]) - {r.student for r in done}
        if missing:
            raise GradvizError(f"{folder} (shard {header['shard'] or 'all'}) is incomplete: {len(missing)} "
                               f"submission(s) not graded, e.g. {sorted(missing)[0]}; finish it with --resume")
        if headers and header["spec_digest"] != headers[0]["spec_digest"]:
            raise GradvizError(f"{folder} was graded with another spec than {folders[0]}; "
                               "only shards of one run can be merged")
        for r in done:
            if r.student in results:
                raise GradvizError(f"{r.student} is graded in two of the folders; give each shard once")
            results[r.student] = r
        headers.append(header)
    shards = {h["shard"] for h in headers}
    counts = {int(s.split("/")[1]) for s in shards if s}
    if None not in shards and len(counts) == 1 and len(shards) != counts.pop():
        have = ", ".join(sorted(shards))
        raise GradvizError(f"shards are missing: these folders hold shards {have} of {headers[0]['shard'].split('/')[1]}")
    header = {**headers[0], "shard": None, "submissions": sorted(results)}
    journal = Journal(Path(out))
    if journal.exists():
        raise GradvizError(f"{out} already holds results; merge into a new folder")
    journal.start({k: v for k, v in header.items() if k != "kind"})
    merged = [results[s] for s in sorted(results)]
    for r in merged:
        journal.append(r)
    write_all(Path(out), header, merged)
    return merged
