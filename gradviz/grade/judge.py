"""The trusted half of grading one submission: start its sandboxed worker, check every target here.

This runs in a process of the grader's (forked from its warm fork server), never in the
student's. For each check it asks the worker to read the target, wraps the Subject the worker
describes in a RemoteSubject, and runs the one pipeline on it: finite differences, judging,
diagnosis and points are computed here from the numbers the worker returns. A worker that
answers late, malformed, oversized or not at all makes the row ERROR (or TIMEOUT) with the reason.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..checking import pipeline
from ..checking.pipeline import Options
from ..checking.report import ERROR, FAIL
from ..checking.subject import UserCodeError
from ..checking.tolerance import Tolerance
from ..errors import GradvizError
from . import copying, sandbox, wire, zygote
from .anchored import AnchoredSubject
from .forward import compare_forward, reference_subject
from .given import confirm_given
from .hygiene import clip
from .outcome import error_outcome, report_outcome
from .remote import Channel, RemoteSubject
from .results import TIMEOUT
from .spec import parse_check_args

WORKER = "{boot}; from gradviz.grade.worker import main; main()"
STARTUP = 60.0  # seconds a worker may take to start its interpreter and import gradviz, before the time limit
EXIT_WAIT = 15.0  # seconds to learn how a worker whose channel closed has ended (its teardown can be slow)


def ready() -> None:
    """Nothing: starting it proves the fork server has finished its imports."""


def run(conn, job: dict) -> None:
    """The process body for one submission (the job dict is built by runner._Pool._start)."""
    os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    if hasattr(libc, "prctl"):
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: nothing outlives the grader
    judge = Judge(job)
    try:
        held = judge.start()
        conn.send({"kind": "isolation", "held": held, "notes": judge.notes})
        for target, checks, reference, anchor in job["targets"]:
            for label, argv in checks:
                outcome = judge.check(label, argv, reference, anchor)
                conn.send({"kind": "check", "target": target, "check": label, **outcome})
                if judge.stopped:
                    conn.send({"kind": "stopped", **judge.stopped})
                    return
        conn.send({"kind": "done"})
    finally:
        judge.stop()
        conn.close()


class Judge:
    def __init__(self, job: dict):
        self.job = job
        self.stopped: dict | None = None
        self.process: subprocess.Popen | None = None
        self.reporter: socket.socket | None = None  # a zygote's worker: its exit status arrives here
        self.refused: dict | None = None
        self.notes: list[str] = []  # what the copy left out (links that point outside the submission)
        self.ready = False  # the worker said it was ready: its sandbox was set up, the student's code may run
        self.differed: dict[tuple, str] = {}  # (label, argv) -> why a gradient check was not anchored (anchored.py)

    # -- the worker --------------------------------------------------------------------------
    def start(self) -> dict:
        """Read the submission's files here, start its worker, send it the job; returns what isolation held."""
        job = self.job
        held = sandbox.describe(job["home_mb"]) if job["sandboxed"] else {"isolation": sandbox.NOT_ISOLATED}
        held.update({"memory": f"{job['memory_mb']:g} MB beyond the interpreter's own",  # the grader's words,
                     "output": f"{job['output_mb']:g} MB"})  # not the worker's: it sets them before the code runs
        try:
            files, self.notes = copying.collect(Path(job["source"]), [Path(p) for p in job["support"]],
                                                job["max_files"], job["max_mb"])
        except copying.TooLarge as exc:
            self.refused = {"cause": "too_large", "message": str(exc)}
            return held
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output = os.open(job["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        home = sandbox.HOME if job["sandboxed"] else job["home"]
        if not (job.get("zygote") and self._from_zygote(to_worker_r, from_worker_w, output)):
            self._cold_start(to_worker_r, from_worker_w, output)
        for fd in (to_worker_r, from_worker_w, output):
            os.close(fd)
        # a cold interpreter imports gradviz before the student's clock starts (under load that is seconds)
        self.channel = Channel(to_worker_w, from_worker_r, STARTUP + job["timeout"])
        try:
            self.channel.send({"kind": "job", "home": home, "name": job["name"], "files": files,
                               "memory_mb": job["memory_mb"], "output_mb": job["output_mb"],
                               "timeout": job["timeout"]})
            self.channel.receive()
        except wire.WireError as exc:
            self._stop_for(exc)
            return held
        self.ready = True
        self.channel.budget = job["timeout"]  # the student's clock: only while their code runs
        return held

    def _from_zygote(self, to_worker_r: int, from_worker_w: int, output: int) -> bool:
        """A warm worker forked by the slot's zygote (zygote.py); False when the zygote cannot (it died)."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        request = json.dumps({"home": sandbox.HOME, "home_mb": self.job["home_mb"]}).encode()
        try:
            socket.send_fds(self.job["zygote"], [request], [to_worker_r, from_worker_w, output, theirs.fileno()])
        except OSError:
            mine.close()
            return False
        finally:
            theirs.close()
        self.reporter = mine
        return True

    def _cold_start(self, to_worker_r: int, from_worker_w: int, output: int) -> None:
        job = self.job
        python = [sys.executable, "-I", "-u", "-c", WORKER.format(boot=sandbox.boot(
                      sandbox.PACKAGE if job["sandboxed"] else str(sandbox.package_folder().parent))),
                  str(to_worker_r), str(from_worker_w)]
        if job["sandboxed"]:
            argv, env = sandbox.command(python, job["home_mb"]), None
        else:
            argv = python
            env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "LANG")}, "HOME": job["home"],
                   "TMPDIR": job["home"], "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                        pass_fds=(to_worker_r, from_worker_w), env=env, cwd=job["home"],
                                        start_new_session=True)

    def stop(self) -> None:
        if self.reporter is not None:
            self.reporter.close()  # the zygote kills the worker when this closes
            self.reporter = None
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()

    # -- one check -----------------------------------------------------------------------------
    def check(self, label: str, argv: list[str], reference: str | None = None, anchor: str | None = None) -> dict:
        """The outcome of one check: the gradients judged here, or with `reference` the forward compared.

        With `anchor` (the teacher's code of a gradient target), the finite differences are taken on it once the
        student's forward matches it at the checked point (anchored.py).
        """
        outcome = self._check(label, argv, reference, anchor)
        limit = {"memory": f" (ran out of memory: the limit is {self.job['memory_mb']:g} MB)",
                 "output_limit": f" (printed or wrote more than the {self.job['output_mb']:g} MB output limit)"}
        if outcome.get("cause") in limit:  # a grading limit stopped the code: say which, in the student's words
            outcome["verdict"] = f"{outcome['verdict']}{limit[outcome['cause']]}"
            for problem in outcome["problems"]:
                problem["message"] = f"{problem['message']}{limit[outcome['cause']]}"
        return outcome

    def _check(self, label: str, argv: list[str], reference: str | None, anchor: str | None = None) -> dict:
        if self.stopped:
            return error_outcome(self.stopped["message"], self.stopped["cause"])
        if self.refused:
            return error_outcome(self.refused["message"], self.refused["cause"])
        args = parse_check_args(label, argv)
        options = Options(Tolerance.of(args.eps, args.atol, args.rtol, args.strict), mode=args.mode,
                          methods=("finite",), seed=args.seed, per_example_dout=args.per_example_dout)
        try:
            self.channel.send({"op": "check", "label": label, "argv": list(argv)})
            message, arrays = self.channel.receive()
            if message.get("kind") == "unread":
                cause = str(message.get("cause", "raised"))[:40]
                if cause == "missing_file":  # said from the folder the grader holds, in the student's terms
                    return error_outcome(self._missing_file(argv[0]), cause)
                outcome = error_outcome(clip(str(message.get("message", "")), 2000), cause)
                return {**outcome, "status": TIMEOUT} if cause == "timeout" else outcome  # a notebook's endless cell
            if message.get("kind") != "subject":
                raise wire.WireError("the worker answered a check with something that is not a check")
            teacher = self._teacher(anchor, argv, label) if reference is None and anchor else None
            subject = (RemoteSubject(self.channel, message, arrays) if teacher is None
                       else AnchoredSubject(self.channel, message, arrays, teacher))
            confirm_given(subject, args)
            if reference is None:
                report = self._judged(subject, options)
                if isinstance(subject, AnchoredSubject) and subject.differed:
                    self.differed[(label, tuple(argv))] = subject.differed
            else:
                outcome = self._forward(subject, reference, argv, label, args.seed)
            while True:  # the reading ends; a second Subject in one target is not judged
                message, _ = self.channel.receive()
                if message.get("kind") != "subject":
                    break
                self.channel.send({"op": "end"})
        except wire.WireError as exc:
            return self._stop_for(exc)
        if message.get("kind") != "checked":
            return self._stop_for(wire.WireError("the worker did not finish the check as it should"))
        if reference is None and isinstance(report, dict):
            return report  # the judging itself failed: said as such, the worker's check was ended as usual
        return report_outcome(report, subject.causes) if reference is None else outcome

    @staticmethod
    def _judged(subject: RemoteSubject, options: Options):
        """The Report, or (a gradviz bug, or a description it could not use) an ERROR outcome saying so: one check's
        failure in the grader is that check's row, never the end of the submission's grading."""
        try:
            return pipeline.run(subject, options)
        except (wire.WireError, UserCodeError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the row says what failed; the teacher reports it
            if subject.channel.broken:
                raise subject.channel.broken from None
            return error_outcome(clip(f"gradviz failed while judging this check (a gradviz bug, please report "
                                      f"it): {type(exc).__name__}: {exc}", 600), "grader")

    def _missing_file(self, target: str) -> str:
        """'your submission has no layers.py (it has: hw3.ipynb)': what was handed in instead, not a CLI hint."""
        wanted = target.split(":", 1)[0]
        try:
            found = sorted(p.name for p in Path(self.job["source"]).iterdir() if not p.name.startswith("."))
        except OSError:
            found = []
        shown = ", ".join(found[:8]) + (", ..." if len(found) > 8 else "")
        return f"your submission has no {wanted}" + (f" (it has: {shown})" if found else " (the folder is empty)")

    @staticmethod
    def _teacher(anchor: str, argv: list[str], label: str):
        """The teacher's code for anchoring; None when it cannot be read (the forward target reports why)."""
        try:
            return reference_subject(anchor, argv, label)
        except (GradvizError, UserCodeError):
            return None

    def _forward(self, subject: RemoteSubject, reference: str, argv: list[str], label: str, seed: int) -> dict:
        """The student's forward against the teacher's (read here, in the grader); the worker's undo runs after."""
        try:
            theirs = reference_subject(reference, argv, label)
        except (GradvizError, UserCodeError) as exc:
            subject.finish()
            return error_outcome(f"the teacher's reference could not be run: {exc}", "reference")
        try:
            outcome = compare_forward(subject, theirs, seed)
        finally:
            theirs.finish()
            subject.finish()
        differed = self.differed.get((label, tuple(argv)))
        if outcome["ok"] and differed:  # it matches here, not where its gradients were checked (anchored.py)
            outcome = {**outcome, "status": FAIL, "ok": False, "verdict": differed, "cause": "forward_differs"}
        return outcome

    def _stop_for(self, exc: wire.WireError) -> dict:
        """The worker can no longer be trusted to answer: this check and the rest stop, with the reason."""
        cause, message = exc.kind, str(exc)
        if cause == "timeout":
            message = f"did not finish within the {self.job['timeout']:g} s time limit (an endless loop?)"
        elif cause == "closed":
            cause, message = self._exit_reason()
        self.stopped = {"cause": cause, "message": message, "timed_out": cause == "timeout"}
        self.stop()
        status = TIMEOUT if cause == "timeout" else ERROR
        return {**error_outcome(message, cause), "status": status}

    def _exit_code(self) -> int | None:
        """How the worker ended, once its channel has closed; None while it still runs (it closed the channel itself).

        The wait is generous: a worker's namespaces are torn down after its channel closes, and on a loaded machine
        that has taken more than 2 s. A zygote's worker is first asked to end (it is killed if it still runs), so the
        answer never waits for a worker that keeps running: its code is then the zygote's own SIGKILL.
        """
        if self.reporter is not None:
            self.reporter.shutdown(socket.SHUT_WR)  # the zygote kills a worker still running, then reports its end
            self.reporter.settimeout(EXIT_WAIT)
            try:
                text = self.reporter.recv(64).decode("ascii", "replace")
            except OSError:
                return None
            code = int(text) if text.lstrip("-").isdigit() else None
            return None if code == -signal.SIGKILL else code  # killed on our request: it was still running
        try:
            return self.process.wait(timeout=EXIT_WAIT)
        except subprocess.TimeoutExpired:
            return None

    def _exit_reason(self) -> tuple[str, str]:
        code = self._exit_code()
        if code is None:
            return "closed", "the code closed the grader's channel"
        if code == zygote.SETUP_FAILED and not self.ready:  # after 'ready', 97 is the code's own os._exit(97)
            return "grader", "the sandbox of this submission could not be set up"
        if code == zygote.BROKEN:
            return "exited", ("the process that runs the code failed outside any check: the code changed something "
                              "Python or gradviz needs (a builtin, a module of the standard library or of gradviz)")
        if code > 128:  # bwrap reports a signal as 128 + its number
            code = -(code - 128)
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if name == "SIGKILL":
                return "killed", "the process was killed (usually: it ran out of memory)"
            if name == "SIGXCPU":
                return "timeout", f"stopped after using more than {self.job['timeout']:g} s of CPU time"
            return "killed", f"the process was killed by {name}"
        return "exited", f"the process exited early with code {code} (os._exit, sys.exit, or a crash in native code)"
