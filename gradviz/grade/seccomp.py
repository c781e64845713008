"""One address space per submission: a seccomp filter that lets a worker make threads, not processes or programs.

The memory limit (RLIMIT_AS) is per address space. A worker that forks gets a fresh allowance in
each child: four children each holding the whole limit held four times it, and a few hundred
would take the grader's machine and every other submission's rows with it. A child that runs a
program (a new Python) is the same. So before any student code the worker installs this filter:

- `fork`, `vfork`, `execve`, `execveat` fail with EPERM;
- so do `shmget`, `msgget` and `memfd_create`: System V shared memory and message queues, and
  memory files, hold memory outside the address space (a segment filled, detached and left
  stays until the worker ends; four of 90 MB were held under a 100 MB limit);
- `clone` fails with EPERM unless it shares the address space (CLONE_VM: threads, whose memory
  is the worker's own and counted against its one limit);
- `clone3` fails with ENOSYS (its flags are out of the filter's reach; the C library then makes
  threads with `clone`);
- a system call of another architecture's table (x32, 32-bit) ends the process.

Filters cannot be removed, and they pass to every thread (TSYNC) and every task it makes.
Linux on x86_64 and aarch64; elsewhere nothing is installed and `install` says so.
"""

from __future__ import annotations

import ctypes
import errno
import os

ALLOW, ERRNO, KILL = 0x7FFF0000, 0x00050000, 0x80000000
CLONE_VM = 0x00000100
# architecture: (audit arch, syscall numbers of clone, clone3, fork, vfork, execve, execveat, seccomp)
TABLES = {
    "x86_64": (0xC000003E, dict(clone=56, clone3=435, fork=57, vfork=58, execve=59, execveat=322, seccomp=317,
                                shmget=29, msgget=68, memfd_create=319)),
    "aarch64": (0xC00000B7, dict(clone=220, clone3=435, execve=221, execveat=281, seccomp=277,
                                 shmget=194, msgget=186, memfd_create=279)),
}
TABLES["amd64"], TABLES["arm64"] = TABLES["x86_64"], TABLES["aarch64"]
DENIED = ("fork", "vfork", "execve", "execveat", "shmget", "msgget", "memfd_create")
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 1, 1


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


def program(machine: str) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) instructions for `machine` (os.uname().machine)."""
    arch, nr = TABLES[machine]
    denied = [nr[name] for name in DENIED if name in nr]
    tail = [  # after the checks below: the verdicts, addressed from the end
        (_RET, 0, 0, ALLOW),
        (_RET, 0, 0, ERRNO | errno.EPERM),
        (_RET, 0, 0, ERRNO | errno.ENOSYS),
        (_RET, 0, 0, KILL),
    ]
    body: list[tuple[int, int, int, int]] = []
    checks = [("arch", arch)] + ([("x32", 0x40000000)] if machine in ("x86_64", "amd64") else []) \
        + [("clone3", nr["clone3"])] + [("deny", n) for n in denied] + [("clone", nr["clone"])]
    count = 2 + len(checks) + 2  # loads of arch and nr, the checks, the clone flags' load and test
    ret = {name: count + k for k, name in enumerate(("allow", "eperm", "enosys", "kill"))}

    def jump(to: str) -> int:
        return ret[to] - len(body) - 1

    body.append((_LD_W_ABS, 0, 0, 4))  # seccomp_data.arch
    body.append((_JEQ, 0, jump("kill"), arch))
    body.append((_LD_W_ABS, 0, 0, 0))  # seccomp_data.nr
    for name, value in checks[1:]:
        if name == "x32":
            body.append((_JGE, jump("kill"), 0, value))
        elif name == "clone3":
            body.append((_JEQ, jump("enosys"), 0, value))
        elif name == "deny":
            body.append((_JEQ, jump("eperm"), 0, value))
        else:  # clone: on to the flags' test; anything else is allowed
            body.append((_JEQ, 0, jump("allow"), value))
    body.append((_LD_W_ABS, 0, 0, 16))  # seccomp_data.args[0], low 32 bits: clone's flags
    body.append((_JSET, jump("allow"), jump("eperm"), CLONE_VM))
    assert len(body) == count, (len(body), count)
    return body + tail


def install() -> str | None:
    """Install the filter in this process; returns why it could not be (None when it is in place)."""
    machine = os.uname().machine
    if machine not in TABLES:
        return f"no process filter on {machine}"
    code = program(machine)
    filters = (_Filter * len(code))(*[_Filter(*c) for c in code])
    prog = _Program(len(code), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"no_new_privs: {os.strerror(ctypes.get_errno())}"
    number = TABLES[machine][1]["seccomp"]
    if libc.syscall(number, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(prog)) == 0:
        return None
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0:
        return None
    return f"seccomp: {os.strerror(ctypes.get_errno())}"
