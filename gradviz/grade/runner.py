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
import socket
import subprocess
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
from .hidden import hidden_view
from . import sandbox
from .spec import Spec

OUTPUT_EXCERPT = 4000
JUDGE_SLACK = 90.0  # seconds the grader's own side (the worker's start, the checks) may take past the time limit
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
    sandboxed: bool = True  # False only with --no-sandbox
    max_files: int = 2000  # files in one submission, counted before anything is copied
    max_mb: float = 50.0  # megabytes of files in one submission (apparent sizes: sparse files count in full)


def grade_folder(folder: Path, spec: Spec, out: Path, *, jobs: int | None = None, limits: Limits | None = None,
                 shard: tuple[int, int] | None = None, resume: bool = False,
                 progress: Progress | None = None, single: bool = False) -> list[SubmissionResult]:
    """Grade every submission in `folder` (or this shard's part; or `folder` itself when `single`),
    journaling into `out`; return all results."""
    folder, out = Path(folder).resolve(), Path(out).resolve()
    limits = limits or Limits(spec.timeout, spec.memory_mb, spec.output_mb)
    if single and not folder.is_dir():
        raise GradvizError(f"no such folder: {folder} (give the folder that holds the submission's files)")
    paths = [folder] if single else in_shard(submissions(folder, out), shard)
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
        for student in journal.interrupted():  # it was running when the grader stopped: never run it again
            done[student] = interrupted_result(spec, student)
            journal.append(done[student])
    else:
        journal.start(header)
    todo = [p for p in paths if p.name not in done]
    sandbox.require(not limits.sandboxed)
    if limits.sandboxed:
        sandbox.check_hidden([spec.path.parent, folder, out, *(Path(t.reference.rpartition(":")[0]).parent
                                                              for t in spec.targets if t.reference)])
    pool = _Pool(spec, limits, jobs=jobs or os.cpu_count() or 1)
    failing = sum(r.status != PASS for r in done.values())
    if progress:
        progress(len(done), failing, len(paths))
    for result in pool.run(todo, journal.started):
        journal.append(result)
        done[result.student] = result
        failing += result.status != PASS
        if progress:
            progress(len(done), failing, len(paths))
    return [done[p.name] for p in paths]


@dataclass
class _Running:
    student: str
    sandbox: Path
    process: multiprocessing.Process
    conn: object
    started: float
    deadline: float
    slot: int | None = None  # the zygote it uses
    messages: list = field(default_factory=list)


class _Zygote:
    """One job slot's warm sandbox (zygote.py), and the control socket the judges ask it on."""

    def __init__(self, home_mb: float):
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        python = [sys.executable, "-I", "-u", "-c", f"{sandbox.boot(sandbox.PACKAGE)}; "
                  "from gradviz.grade.zygote import main; main(int(sys.argv[1]))", str(theirs.fileno())]
        self.process = subprocess.Popen(sandbox.command(python, home_mb, zygote=True), pass_fds=(theirs.fileno(),),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()

    def close(self) -> None:
        self.control.close()  # the zygote exits when its control socket closes
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


class _Pool:
    def __init__(self, spec: Spec, limits: Limits, *, jobs: int):
        self.spec, self.limits, self.jobs = spec, limits, max(1, jobs)
        self.context = _context()
        self.home_mb = limits.max_mb + limits.output_mb + 16
        # one warm sandbox per job slot (zygote.py): a submission costs a fork, not an interpreter's start
        self.zygotes = [_Zygote(self.home_mb) for _ in range(self.jobs)] if limits.sandboxed else []
        self.free = list(range(len(self.zygotes)))

    def run(self, todo: list[Path], started=lambda student: None):
        """Yield each submission's result as it finishes."""
        remove_orphan_sandboxes()
        pending, running = deque(todo), []
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    path = pending.popleft()
                    started(path.name)  # journaled first: a submission that stops the grader is not run again
                    running.append(self._start(path))
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
            for z in self.zygotes:
                z.close()

    def _start(self, path: Path) -> _Running:
        box = Path(tempfile.mkdtemp(prefix=f"{SANDBOX_PREFIX}{os.getpid()}-")).resolve()
        (box / "home").mkdir()
        slot = self.free.pop() if self.free else None
        job = {"name": path.name, "source": str(path.resolve()), "support": [str(p) for p in self.spec.files],
               "home": str(box / "home"), "home_mb": self.home_mb,
               "zygote": None if slot is None else self.zygotes[slot].control,
               "output": str(box / "output.txt"), "sandboxed": self.limits.sandboxed,
               "timeout": self.limits.timeout, "memory_mb": self.limits.memory_mb, "output_mb": self.limits.output_mb,
               "max_files": self.limits.max_files, "max_mb": self.limits.max_mb,
               "targets": [(t.name, [(c.label, list(c.argv)) for c in t.checks], t.reference, t.anchor)
                           for t in self.spec.targets]}
        from . import judge

        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(target=judge.run, args=(sender, job), name=f"gradviz grade {path.name}",
                                       daemon=True)
        started = time.monotonic()
        with _caller_not_rerun():
            process.start()
        sender.close()
        # the judge stops the worker at the time limit itself; this is the backstop if the judge hangs
        return _Running(path.name, box, process, receiver, started, started + self.limits.timeout + JUDGE_SLACK, slot)

    def _finish(self, r: _Running, timed_out: bool) -> SubmissionResult:
        if timed_out:
            _kill(r.process)
        r.process.join()
        if r.slot is not None:
            self.free.append(r.slot)
        _receive(r)
        notes = [] if self.limits.sandboxed else [sandbox.NOT_ISOLATED]
        _kill_group(r.process.pid)
        output = r.sandbox / "output.txt"
        size = output.stat().st_size if output.exists() else 0
        text = output.read_bytes()[:OUTPUT_EXCERPT].decode("utf-8", "replace") if size else ""
        if size >= self.limits.output_mb * 1024 * 1024:
            notes.append(f"it printed more than the {self.limits.output_mb:g} MB output limit; the rest was cut off")
        shutil.rmtree(r.sandbox, ignore_errors=True)
        isolation = next((m["held"] for m in r.messages if m.get("kind") == "isolation"), {})
        notes += next((m.get("notes", []) for m in r.messages if m.get("kind") == "isolation"), [])
        stopped = next((m for m in r.messages if m.get("kind") == "stopped"), None)
        if stopped is not None:
            stop, timed_out, cause = stopped["message"], stopped["timed_out"], stopped["cause"]
        else:
            stop, cause = self._stop_reason(r.process.exitcode, timed_out), "timeout" if timed_out else "grader"
        targets = _target_results(self.spec, [m for m in r.messages if m.get("kind") == "check"], stop, timed_out,
                                  cause)
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
            return f"the grader's process for this submission was {why}"
        return f"the grader's process for this submission exited early with code {code}"


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


def interrupted_result(spec: Spec, student: str) -> SubmissionResult:
    """A submission that was running when the grader stopped: ERROR, so that --resume moves on."""
    reason = ("the grader stopped while this submission was running (it may have stopped the grader); "
              "it was not run again: grade it alone into another --out to retry")
    outcome = {"check": "visible", "status": ERROR, "ok": False, "verdict": reason, "cause": "interrupted",
               "problems": [], "markdown": "", "svg": ""}
    targets = [TargetResult(target=t.name, status=ERROR, points=0.0, max_points=t.points, reason=reason,
                            checks=[{**outcome, "target": t.name}]) for t in spec.targets]
    return SubmissionResult(student=student, targets=targets, seconds=0.0)


def _target_results(spec: Spec, outcomes: list[dict], stop: str, timed_out: bool,
                    cause: str = "grader") -> list[TargetResult]:
    results, stopped = [], False
    for target in spec.targets:
        mine = [o for o in outcomes if o["target"] == target.name]
        for check in target.checks[len(mine):]:
            reason = f"{stop} while checking {target.name}" if not stopped else f"not checked: {stop} earlier"
            mine.append({"target": target.name, "check": check.label, "status": TIMEOUT if timed_out else ERROR,
                         "ok": False, "verdict": reason, "problems": [], "markdown": "", "svg": "",
                         "unchecked": stopped, "cause": "timeout" if timed_out else cause})
            stopped = True
        hidden = {c.label for c in target.checks if c.hidden}
        mine = [hidden_view(o) if o["check"] in hidden else o for o in mine]  # never the hidden inputs' numbers
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
        parts = parts[:1] if parts[0] == parts[1] else parts
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
        from . import judge

        warm = context.Process(target=judge.ready)  # wait for the server's imports before any clock starts
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
