"""A warm start for sandboxed workers: one bubblewrap sandbox per job slot forks a worker per submission.

Starting Python and importing numpy, SymPy and gradviz costs about a second per process, more
than checking a submission. So each job slot runs one bubblewrap sandbox (the file system view,
no network, its own PID namespace, `--die-with-parent`, as sandbox.py describes) whose process, the
zygote, imports all that once and then forks one worker per submission. Before any student code,
each worker makes namespaces of its own (PID, mount, network, IPC, UTS, then a user namespace),
mounts a fresh size-limited tmpfs for its files, /tmp and /dev/shm, and a /proc that shows only
itself, maps itself to uid 65534, drops every capability and forbids further user namespaces.
A worker's PID 1 is itself: when it ends, everything it started ends. The zygote is outside the
worker's PID namespace: no submission can see or signal it, or another submission.

The grader (judge.py) asks for a worker over the slot's control socket (SOCK_SEQPACKET, so a
message is whole or absent), passing the worker's pipes and output file by SCM_RIGHTS, and gets
a per-worker socket back on which the zygote reports the exit status and takes "kill".
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import sys

from .sandbox import MAX_TASKS

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
SETUP_FAILED = 97  # a worker's exit code when its namespaces could not be made (it never runs student code)
BROKEN = 98  # ... when the worker itself failed after the student's code loaded (the code broke what it needs)
UID = 65534


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def main(control_fd: int) -> None:
    """The zygote's loop: start a worker per request, report each exit, kill on request."""
    import sympy  # noqa: F401 - the warm start: what submissions import, imported once

    from . import worker  # noqa: F401

    control = socket.socket(fileno=control_fd)
    children: dict[int, socket.socket] = {}
    while True:
        _reap(children)
        ready, _, _ = select.select([control, *children.values()], [], [], 0.05)
        for sock in ready:
            if sock is control:
                message, fds, _, _ = socket.recv_fds(control, 4096, 4)
                if not message:  # the grader is gone
                    for pid in children:
                        _kill(pid)
                    os._exit(0)
                for pid in list(children):  # one worker per slot: a leftover is killed first
                    _kill(pid)
                _reap(children, block=True)
                children.update(_start(json.loads(message), fds, control, children))
            else:  # a judge is done with its worker, or asks how it ended: end it (a worker already reaped is gone)
                pid = next((p for p, s in children.items() if s is sock), None)
                if pid is not None:
                    _kill(pid)


def _start(job: dict, fds: list[int], control: socket.socket, children: dict) -> dict[int, socket.socket]:
    in_fd, out_fd, output, report_fd = fds
    report = socket.socket(fileno=report_fd)
    pid = os.fork()
    if pid:
        for fd in (in_fd, out_fd, output):
            os.close(fd)
        return {pid: report}
    try:  # the worker: nothing of the zygote's stays open
        control.close()
        report.close()
        for sock in children.values():
            sock.close()
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        _confine(job["home"], job["home_mb"])
    except BaseException:  # noqa: BLE001 - a worker never returns into the zygote's loop
        os._exit(SETUP_FAILED)
    try:  # the submission's code runs from here on: what ends it is the code's, not the sandbox's
        from .worker import serve_fds

        serve_fds(in_fd, out_fd)
        os._exit(0)
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) and exc.code != SETUP_FAILED else 1)
    except BaseException:  # noqa: BLE001
        os._exit(BROKEN)


def _hosts_runtime(scratch: str) -> bool:
    """Whether the Python runtime or its packages live under `scratch` (a checkout in /tmp): a fresh tmpfs there
    would hide the modules the worker still has to import."""
    import numpy

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(numpy.__file__)),
             os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
             *(p for p in sys.path if "site-packages" in p)}  # and the grader's other package folders (sandbox.boot)
    return any(os.path.realpath(r).startswith(scratch.rstrip("/") + "/") for r in roots)


def _confine(home: str, home_mb: float) -> None:
    """Namespaces, file systems, uid and capabilities of one worker; any failure ends it before student code."""
    libc = ctypes.CDLL(None, use_errno=True)
    _ok(libc.unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    pid = os.fork()
    if pid:  # stays outside the new PID namespace: waits for its PID 1 and exits as it did
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    _ok(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    os.setsid()
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    size = f"size={int(home_mb * 1024 * 1024)},mode=0777"
    _mount(libc, "tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, size)
    scratch_dirs = []
    for scratch in ("/tmp", "/dev/shm"):
        if os.path.isdir(scratch) and not _hosts_runtime(scratch):
            _mount(libc, "tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
            scratch_dirs.append(scratch)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _cap_tasks()
    _ok(libc.unshare(CLONE_NEWUSER), "unshare user")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{UID} 0 1"), ("gid_map", f"{UID} 0 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)
    with open("/proc/sys/user/max_user_namespaces", "w") as handle:
        handle.write("0")  # no user namespace of its own, so no capabilities anywhere
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    _ok(libc.syscall(126 if _x86_64() else 91, ctypes.byref(_CapHeader(0x20080522, 0)), (_CapData * 2)()), "capset")
    _ok(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if os.getuid() != UID or "CapEff:\t0000000000000000" not in open("/proc/self/status").read():
        raise OSError("the worker kept a uid or capabilities")
    if "/tmp" not in scratch_dirs:  # the Python runtime lives under /tmp: keep it, give the code a tmp of its own
        os.makedirs(os.path.join(home, "tmp"), exist_ok=True)
    os.environ.update({"HOME": home, "TMPDIR": "/tmp" if "/tmp" in scratch_dirs else os.path.join(home, "tmp")})


def _cap_tasks() -> None:
    """At most MAX_TASKS processes and threads in this PID namespace (Linux 6.14 and later: pid_max is
    per namespace); on older kernels the write is refused and RLIMIT_NPROC alone holds (not for a root grader)."""
    try:
        with open("/proc/sys/kernel/pid_max", "w") as handle:
            handle.write(str(MAX_TASKS + 1))
    except OSError:
        pass


def _x86_64() -> bool:
    return os.uname().machine in ("x86_64", "amd64")


def _ok(result: int, what: str) -> None:
    if result != 0:
        raise OSError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(libc, source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: None if s is None else str(s).encode())
    _ok(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(children: dict[int, socket.socket], block: bool = False) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        sock = children.pop(pid, None)
        if sock is not None:
            code = os.waitstatus_to_exitcode(status)
            try:
                sock.send(str(code).encode())
            except OSError:
                pass
            sock.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
