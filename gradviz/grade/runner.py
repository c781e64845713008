"""Grade a folder of submissions: each in its own confined process, several at once.

Processes come from a fork server that has imported numpy, SymPy and gradviz once, so a
submission costs a fork, not an interpreter start. The grader keeps up to `jobs` of them
running, kills one at its deadline (with anything it forked), and journals each submission
as soon as it is done.
"""

from __future__ import annotations

import importlib.machinery
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from ..checking.report import ERROR, PASS
from ..errors import GradvizError
from .progress import Progress
from .results import TIMEOUT, Journal, SubmissionResult, TargetResult, target_status
from .spec import Spec

OUTPUT_EXCERPT = 4000
SANDBOX_PREFIX = "gradviz-grade-"  # + the grader's pid: a sandbox whose grader is gone is an orphan


def submissions(folder: Path, out: Path | None = None) -> list[Path]:
    """Every student's folder in SUBMISSIONS/, by name (not the results folder, if it is in there)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradvizError(f"no such folder: {folder} (give the folder that holds one sub-folder per student)")
    found = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                   and (out is None or p.resolve() != out))
    if not found:
        raise GradvizError(f"{folder} has no submission folders: put each student's files in a folder of its own, "
                           f"e.g. {folder}/alice/layers.py")
    return found


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """--shard i/n (1 <= i <= n) -> (i, n)."""
    if text is None:
        return None
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = 0
    if not sep or n < 1 or not 1 <= i <= n:
        raise GradvizError(f"--shard takes i/n with 1 <= i <= n, e.g. --shard 2/4; got {text!r}")
    return i, n


def in_shard(paths: list[Path], shard: tuple[int, int] | None) -> list[Path]:
    if shard is None:
        return paths
    i, n = shard
    return [p for k, p in enumerate(paths) if k % n == i - 1]


@dataclass
class Limits:
    timeout: float
    memory_mb: float
    output_mb: float


def grade_folder(folder: Path, spec: Spec, out: Path, *, jobs: int | None = None, limits: Limits | None = None,
                 shard: tuple[int, int] | None = None, resume: bool = False,
                 progress: Progress | None = None) -> list[SubmissionResult]:
    """Grade every submission in `folder` (or this shard's part), journaling into `out`; return all results."""
    folder, out = Path(folder).resolve(), Path(out).resolve()
    limits = limits or Limits(spec.timeout, spec.memory_mb, spec.output_mb)
    paths = in_shard(submissions(folder, out), shard)
    journal = Journal(out)
    header = {"spec": str(spec.path), "spec_digest": spec.digest, "title": spec.title,
              "targets": [{"name": t.name, "points": t.points} for t in spec.targets],
              "shard": None if shard is None else f"{shard[0]}/{shard[1]}", "submissions": [p.name for p in paths]}
    done: dict[str, SubmissionResult] = {}
    if journal.exists():
        if not resume:
            raise GradvizError(f"{out} already holds results of a run; add --resume to continue it, "
                               "or choose another --out")
        old, previous = journal.read()
        if old.get("spec_digest") != spec.digest or old.get("shard") != header["shard"]:
            raise GradvizError(f"{out} holds a run of another spec or shard ({old.get('spec')}, shard "
                               f"{old.get('shard') or 'all'}); --resume continues only the same run")
        journal.truncate_partial()
        done = {r.student: r for r in previous}
    else:
        journal.start(header)
    todo = [p for p in paths if p.name not in done]
    pool = _Pool(spec, limits, hide=_hidden(spec, folder, out), jobs=jobs or os.cpu_count() or 1)
    failing = sum(r.status != PASS for r in done.values())
    if progress:
        progress(len(done), failing, len(paths))
    for result in pool.run(todo):
        journal.append(result)
        done[result.student] = result
        failing += result.status != PASS
        if progress:
            progress(len(done), failing, len(paths))
    return [done[p.name] for p in paths]


def _hidden(spec: Spec, folder: Path, out: Path) -> list[str]:
    """What a submission must not see: the spec's folder (or just the spec), the other submissions, the results."""
    import numpy
    import sympy

    needed = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, tempfile.gettempdir())]
    needed += [Path(m.__file__).resolve().parents[1] for m in (numpy, sympy)] + [Path(__file__).resolve().parents[1]]

    def safe(path: Path) -> bool:  # hiding a folder that holds Python, gradviz or the copies would break the run
        return not any(p == path or path in p.parents for p in needed)

    hide = [spec.path.parent if safe(spec.path.parent) else spec.path]
    hide += [p for p in (folder, out) if safe(p) and p not in hide]
    return [str(p) for p in hide]


@dataclass
class _Running:
    student: str
    sandbox: Path
    process: multiprocessing.Process
    conn: object
    started: float
    deadline: float
    messages: list = field(default_factory=list)


class _Pool:
    def __init__(self, spec: Spec, limits: Limits, *, hide: list[str], jobs: int):
        self.spec, self.limits, self.hide, self.jobs = spec, limits, hide, max(1, jobs)
        self.context = _context()

    def run(self, todo: list[Path]):
        """Yield each submission's result as it finishes."""
        remove_orphan_sandboxes()
        pending, running = deque(todo), []
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    running.append(self._start(pending.popleft()))
                soonest = min(r.deadline for r in running) - time.monotonic()
                wait([r.conn for r in running] + [r.process.sentinel for r in running], max(0.0, soonest))
                for r in list(running):
                    _receive(r)
                    timed_out = time.monotonic() >= r.deadline
                    if timed_out or not r.process.is_alive():
                        running.remove(r)
                        yield self._finish(r, timed_out and r.process.is_alive())
        finally:
            for r in running:  # interrupted: leave nothing behind
                _kill(r.process)
                shutil.rmtree(r.sandbox, ignore_errors=True)

    def _start(self, path: Path) -> _Running:
        box = Path(tempfile.mkdtemp(prefix=f"{SANDBOX_PREFIX}{os.getpid()}-")).resolve()
        copy = box / path.name
        shutil.copytree(path, copy, symlinks=True)
        for extra in self.spec.files:
            (shutil.copytree(extra, copy / extra.name, dirs_exist_ok=True) if extra.is_dir()
             else shutil.copy2(extra, copy / extra.name))
        (box / "tmp").mkdir()
        job = {"sandbox": str(box), "copy": str(copy), "tmp": str(box / "tmp"), "output": str(box / "output.txt"),
               "timeout": self.limits.timeout, "memory_mb": self.limits.memory_mb,
               "output_mb": self.limits.output_mb, "hide": self.hide,
               "targets": [(t.name, [(c.label, list(c.argv)) for c in t.checks]) for t in self.spec.targets]}
        from . import worker

        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(target=worker.run, args=(sender, job), name=f"gradviz grade {path.name}",
                                       daemon=True)
        started = time.monotonic()
        with _caller_not_rerun():
            process.start()
        sender.close()
        return _Running(path.name, box, process, receiver, started, started + self.limits.timeout)

    def _finish(self, r: _Running, timed_out: bool) -> SubmissionResult:
        if timed_out:
            _kill(r.process)
        r.process.join()
        _receive(r)
        notes = []
        if _kill_group(r.process.pid):
            notes.append("it left processes running after it finished (they were killed)")
        output = r.sandbox / "output.txt"
        size = output.stat().st_size if output.exists() else 0
        text = output.read_bytes()[:OUTPUT_EXCERPT].decode("utf-8", "replace") if size else ""
        if size >= self.limits.output_mb * 1024 * 1024:
            notes.append(f"it printed more than the {self.limits.output_mb:g} MB output limit; the rest was cut off")
        shutil.rmtree(r.sandbox, ignore_errors=True)
        isolation = next((m["held"] for m in r.messages if m.get("kind") == "isolation"), {})
        stop = self._stop_reason(r.process.exitcode, timed_out)
        targets = _target_results(self.spec, [m for m in r.messages if m.get("kind") == "check"], stop, timed_out)
        return SubmissionResult(student=r.student, targets=targets, seconds=round(time.monotonic() - r.started, 3),
                                isolation=isolation, output=text, output_bytes=size, notes=notes)

    def _stop_reason(self, code: int | None, timed_out: bool) -> str:
        if timed_out:
            return f"did not finish within the {self.limits.timeout:g} s time limit (an endless loop?)"
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = {"SIGKILL": "killed (usually: it ran out of memory)",
                   "SIGXCPU": f"stopped after using more than {self.limits.timeout:g} s of CPU time",
                   "SIGSEGV": "crashed (segmentation fault)"}.get(name, f"killed by {name}")
            return f"the process was {why}"
        return f"the process exited early with code {code} (os._exit, or a crash in native code)"


def remove_orphan_sandboxes() -> None:
    """Delete the copies a grader killed outright (SIGKILL, power loss) had in flight: their run's pid is gone."""
    for box in Path(tempfile.gettempdir()).glob(f"{SANDBOX_PREFIX}*-*"):
        pid = box.name[len(SANDBOX_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(box, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return Path(f"/proc/{pid}/status").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def _target_results(spec: Spec, outcomes: list[dict], stop: str, timed_out: bool) -> list[TargetResult]:
    results, stopped = [], False
    for target in spec.targets:
        mine = [o for o in outcomes if o["target"] == target.name]
        for check in target.checks[len(mine):]:
            reason = f"{stop} while checking {target.name}" if not stopped else f"not checked: {stop} earlier"
            mine.append({"target": target.name, "check": check.label, "status": TIMEOUT if timed_out else ERROR,
                         "ok": False, "verdict": reason, "problems": [], "markdown": "", "svg": "",
                         "unchecked": stopped})
            stopped = True
        hidden = {c.label for c in target.checks if c.hidden}
        status = target_status(mine)
        bad = next((o for o in mine if not o["ok"]), None)
        reason = "" if bad is None else (f"{bad['check']}: " if bad["check"] in hidden else "") + _one_line(bad)
        results.append(TargetResult(target=target.name, status=status,
                                    points=target.points if status == PASS else 0.0, max_points=target.points,
                                    reason=reason, checks=mine))
    return results


def _one_line(outcome: dict) -> str:
    for problem in outcome.get("problems", []):
        # What went wrong in the student's own names first (a shape, a crash), then what it resembles.
        parts = [problem["message"], problem["diagnosis"][0]["message"] if problem["diagnosis"] else ""]
        if any(parts):
            return f"{problem['input']}: " + ": ".join(p for p in parts if p)
    return outcome.get("verdict") or outcome["status"]


def _receive(r: _Running) -> None:
    try:
        while r.conn.poll():
            r.messages.append(r.conn.recv())
    except (EOFError, OSError, ValueError):
        pass  # the process died mid-message; what arrived before stands


def _kill(process) -> None:
    _kill_group(process.pid)
    try:
        process.kill()
    except (OSError, AttributeError):
        pass
    process.join()


def _kill_group(pid: int | None) -> bool:
    """Kill every process left in the submission's session; True if there were any."""
    if pid is None:
        return False
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@contextmanager
def _caller_not_rerun():
    """Keep multiprocessing from re-running the caller's main script in each submission's process.

    By default a child imports the parent's __main__ again: slow, broken for `python - <<EOF`,
    and recursive for a teacher's script that calls grade() without an `if __name__` guard.
    The fork server already holds all a submission needs, and a main module named like a
    package's __main__ is never re-run.
    """
    main = sys.modules["__main__"]
    saved = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("gradviz.grade.__main__", None)
    try:
        yield
    finally:
        main.__spec__ = saved


def _context():
    """A fork server that has loaded numpy, SymPy and gradviz, with single-threaded BLAS (one core per job)."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - Windows
        raise GradvizError("gradviz grade needs Linux or macOS: it forks each submission from a fork server") from None
    context.set_forkserver_preload(["gradviz.grade.warm"])
    threads = {k: "1" for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    saved = {k: os.environ.get(k) for k in threads}
    os.environ.update(threads)
    try:
        from . import worker

        warm = context.Process(target=worker.ready)  # wait for the server's imports before any clock starts
        with _caller_not_rerun():
            warm.start()
        warm.join()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return context
