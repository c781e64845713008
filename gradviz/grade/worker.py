"""The untrusted half of grading: the process that loads a student's code and only evaluates it.

It is started inside the submission's sandbox (sandbox.py) with two pipes, requests in and
answers out (the wire format, wire.py). It limits itself (memory, CPU, file size) before any
student code loads, copies the submission into its writable folder (copying.py), and then, for
each check the grader asks for, reads the target exactly as `gradviz check` does; the Subject
that reading builds is served to the grader (serve.py), which computes every verdict. Nothing
it sends is a verdict: at most "my code failed", which can only cost the student points.
"""

from __future__ import annotations

import base64
import errno
import importlib
import os
import re
import sys
from pathlib import Path

from .. import notebooks
from ..checking import served
from ..targets.engine import engine_class
from ..targets.loading import remember_failed_loads
from ..cli.check_command import file_target_report
from ..errors import GradvizError
from . import copying, sandbox, wire
from .serve import Server, _text
from .spec import parse_check_args


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    serve_fds(int(argv[0]), int(argv[1]))


def serve_fds(in_fd: int, out_fd: int) -> None:
    """The worker's life: its job (limits, files), then checks until the grader says goodbye."""
    reader = wire.Reader(in_fd, wire.Limits(header_bytes=1 << 30))  # the job carries the submission's files
    os.set_inheritable(in_fd, False)
    os.set_inheritable(out_fd, False)
    job, _ = reader.receive()
    preload(job["files"])
    held = sandbox.limit_self(job["memory_mb"], job["output_mb"], job["timeout"])
    remember_failed_loads()  # one submission's file that fails to load is not run again for every target
    notebooks.limit_cells(max(1.0, 0.8 * float(job["timeout"])))  # an endless cell is named before the grader's limit
    copy = copying.materialize(job.pop("files"), Path(job["home"]) / job["name"])
    os.chdir(copy)
    sys.path.insert(0, str(copy))
    server = Server(reader, out_fd)
    server.send({"kind": "ready", "held": held})
    while True:
        request, _ = reader.receive()
        op = request.get("op")
        if op == "check":
            check(server, str(request.get("label", "")), [str(a) for a in request.get("argv", [])])
        elif op == "bye":
            break
        elif op != "end":  # a request of a check that had already stopped in the student's code
            server.send({"ok": False, "status": "ERROR", "message": "the check had already stopped"})


PRELOAD = ("torch",)  # libraries whose import maps hundreds of MB of code: `import torch` alone takes ~500 MB
_IMPORTS = re.compile(rb"\b(?:import|from)\s+(" + b"|".join(m.encode() for m in PRELOAD) + rb")\b")


def preload(entries: list[dict]) -> None:
    """Import the heavy libraries the submission imports, from the grader's runtime, before the limits.

    The memory limit is on address space, measured from the worker's own: a library's mapped code
    would otherwise count as the student's allocation, and a correct submission that imports torch
    and multiplies two matrices ran out of memory under a 512 MB limit. The submission's folder is not
    on sys.path yet, so only the installed library can be imported here.
    """
    wanted = set()
    for entry in entries:
        if entry.get("kind") == "file" and str(entry.get("path", "")).endswith((".py", ".ipynb")):
            wanted.update(m.decode() for m in _IMPORTS.findall(base64.b64decode(entry["data"])))
    for name in sorted(wanted):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - not installed or broken: the student's own import says so
            pass


def check(server: Server, label: str, argv: list[str]) -> None:
    """Read one target and serve its Subject; what stops the reading is sent with a typed cause."""
    server.served = 0
    cause, message = None, ""
    try:
        args = parse_check_args(label, argv)
        if engine_class(args.target) is not None:  # its battery runs in this process: nothing to serve yet
            server.send({"kind": "unread", "cause": "not_gradable", "message": (
                f"{args.target} is an autograd engine; its check runs its battery inside the student's process, "
                "so the grader cannot trust its verdict yet: check it with `gradviz check "
                f"{args.target}`")})
            return
        with served.served_by(server.serve):
            report = file_target_report(args)
    except GradvizError as exc:
        cause, message = getattr(exc, "kind", None) or "unreadable", str(exc)
    except MemoryError:
        cause, message = "memory", "MemoryError: the code ran out of memory"
    except SystemExit as exc:
        cause, message = "exited", f"the code called sys.exit({_text(exc.code)[:40]}) while being checked"
    except OSError as exc:
        cause = "output_limit" if exc.errno == errno.EFBIG else "raised"
        message = f"{type(exc).__name__}: {exc}"
    except BaseException as exc:  # noqa: BLE001 - the student's code may raise anything
        cause, message = "raised", f"{type(exc).__name__}: {exc}"
    else:
        if server.served:
            server.send({"kind": "checked"})
            return
        cause, message = report.stopped_by or "raised", report.verdict  # the reading failed in the student's code
    server.send({"kind": "unread", "cause": cause, "message": _text(message)})


if __name__ == "__main__":
    main()
