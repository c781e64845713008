"""Confine the process that runs one submission (called in that process, before its code loads).

What it does, each step only where the OS allows it (`confine` returns what held):
- a session of its own, so the grader can kill it and anything it forked at once;
- SIGKILL when its parent dies, and a CPU-time limit, so nothing outlives an interrupted run;
- an address-space limit (--memory) and a file-size limit (the output cap) via setrlimit;
- stdout and stderr into a capped file, stdin from /dev/null;
- Linux namespaces (needs root or unprivileged user namespaces): a network namespace with no
  interfaces up (no network), and a mount namespace in which the spec's folder, the submissions
  folder and the results folder are covered by empty file systems and every other mount is read-only
  except the submission's own temporary folder.

It is not a security boundary: the code runs as the grader's user, with the grader's kernel, and a
determined attacker can find ways out. Run the grader inside a container or VM for that.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
_MOUNT_FLAGS = {"ro": MS_RDONLY, "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())


def confine(sandbox: Path, output: Path, *, timeout: float, memory_mb: float, output_mb: float,
            hide: list[Path]) -> dict[str, str]:
    """Apply every limit to the current process; returns {aspect: what held, in words}."""
    held: dict[str, str] = {}
    os.setsid()
    libc = _libc()
    if hasattr(libc, "prctl"):  # Linux: die with the grader
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _redirect_output(output)
    held["network"], held["files"] = _namespaces(libc, sandbox, hide)
    cpu = int(timeout) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cap = int(output_mb * 1024 * 1024)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    mapped = _address_space()
    if mapped:
        resource.setrlimit(resource.RLIMIT_AS, (mapped + int(memory_mb * 1024 * 1024),) * 2)
        held["memory"] = f"{memory_mb:g} MB beyond the interpreter's own"
    else:  # pragma: no cover - no /proc: the baseline is unknown, and a bare limit would stop Python itself
        held["memory"] = "not limited: this OS does not say how much memory the interpreter maps"
    held["output"] = f"{output_mb:g} MB"
    return held


def _redirect_output(output: Path) -> None:
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _address_space() -> int:
    """The bytes of address space this process maps now (numpy and friends are already loaded)."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - not Linux


def _namespaces(libc, sandbox: Path, hide: list[Path]) -> tuple[str, str]:
    if not hasattr(libc, "unshare"):  # pragma: no cover - not Linux
        return "not disabled: this OS has no network namespaces", "not confined: no mount namespaces on this OS"
    if libc.unshare(CLONE_NEWNET) != 0:
        network = f"not disabled: a network namespace was refused ({_errno_text()})"
    else:
        network = "disabled (an empty network namespace)"
    if libc.unshare(CLONE_NEWNS) != 0:
        return network, f"not confined: a mount namespace was refused ({_errno_text()})"
    return network, _confine_files(libc, sandbox, hide)


def _mount(libc, source, target, fstype, flags, data=None) -> bool:
    enc = (lambda s: None if s is None else str(s).encode())
    return libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) == 0


def _confine_files(libc, sandbox: Path, hide: list[Path]) -> str:
    if not _mount(libc, None, "/", None, MS_REC | MS_PRIVATE):
        return f"not confined: mounts could not be made private ({_errno_text()})"
    hidden = []
    for path in hide:  # a folder is covered by an empty file system, a file by /dev/null
        if path.is_dir():
            covered = _mount(libc, "tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
        else:
            covered = path.exists() and _mount(libc, os.devnull, path, None, MS_BIND)
        if covered:
            hidden.append(path)
    if not _mount(libc, sandbox, sandbox, None, MS_BIND | MS_REC):
        return f"not confined: the submission's folder could not be bound ({_errno_text()})"
    refused = []
    for point, options in _mounts():
        if Path(point) == sandbox or point.startswith(("/proc", "/sys")):
            continue
        keep = 0
        for option in options:
            keep |= _MOUNT_FLAGS.get(option, 0)
        if not _mount(libc, None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep):
            refused.append(point)
    if refused:
        return (f"partly confined: {', '.join(refused[:3])} stayed writable; the spec, submissions and "
                f"results folders are hidden" if hidden else "not confined")
    return "only its own copy is writable; the spec, the other submissions and the results are hidden"


def _mounts() -> list[tuple[str, list[str]]]:
    """(mount point, per-mount options) of every mount, parents before children."""
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        out.append((fields[4].replace("\\040", " "), fields[5].split(",")))
    return out
