"""`gradviz grade` against a hostile class: students who try to forge their grade or break the run.

Every attacker hands in the Dense layer with a real bug (dW twice too big, so Dense must get 0)
plus an attack that runs when the file is imported. For each attack the tests assert that the
attacker's row is what the code deserves, that the honest students graded beside them keep their
rows, and that nothing outside the copies changed. The class runs under bubblewrap; where bwrap
cannot run the isolation tests skip and say why.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

from gradviz.grade import grade, sandbox  # noqa: E402

NO_BWRAP = sandbox.unusable()
needs_bwrap = pytest.mark.skipif(NO_BWRAP is not None, reason=f"needs bubblewrap: {NO_BWRAP}")
BUGGY = klass.LAYERS.replace("dW = x.T @ dZ", "dW = 2 * x.T @ dZ")
MARKER = "gradviz-hostile-marker"

FRAME = '''
import json as _json, os as _os, struct as _struct

def _frame(header, payload=b""):
    text = _json.dumps(header).encode()
    return b"GVW1" + _struct.pack(">I", len(text)) + text + payload

def _to_every_pipe(data):
    for _fd in range(3, 64):
        try:
            _os.write(_fd, data)
        except OSError:
            pass
'''

ATTACKS = {
    # patch what a verdict computed in this process would have used
    "patcher": '''
        import numpy, gradviz.checking.report as _r, gradviz.checking.verdict as _v
        numpy.abs = lambda x, *a, **k: x * 0.0
        _r.Report.ok = property(lambda self: True)
        _r.Report.status = property(lambda self: "PASS")
        _v.judge = lambda *a, **k: None
    ''',
    # forge "the check passed" down every pipe the process holds, then leave
    "forger": FRAME + textwrap.dedent('''
        _to_every_pipe(_frame({"kind": "checked"}) + _frame({"ok": True, "status": "PASS"}))
        _to_every_pipe(_frame({"kind": "subject", "name": "Dense", "inputs": []}))
        _os._exit(0)
    '''),
    # a pickle that would create a file on the host if anyone unpickled it
    "pickler": FRAME + textwrap.dedent(f'''
        import pickle as _pickle
        class _Boom:
            def __reduce__(self):
                return (open, ("/tmp/{MARKER}-pickle", "w"))
        _to_every_pipe(_pickle.dumps(_Boom()))
        _os._exit(0)
    '''),
    # a frame announcing a header far over the limit, then garbage
    "oversized": FRAME + textwrap.dedent('''
        _to_every_pipe(b"GVW1" + _struct.pack(">I", 2 ** 31) + b"x" * 1000)
        _os._exit(0)
    '''),
    # a frame announcing an array of a billion numbers
    "huge_array": FRAME + textwrap.dedent('''
        _to_every_pipe(_frame({"ok": True, "arrays": [[1000000000, 1000]]}))
        _os._exit(0)
    '''),
    # bytes that are no frame at all
    "garbage": '''
        import os as _os
        for _fd in range(3, 64):
            try:
                _os.write(_fd, b"\\x80\\x04\\x95 not a frame at all")
            except OSError:
                pass
        _os._exit(0)
    ''',
    # closes every pipe it holds, then keeps running as if nothing had happened
    "closer": '''
        import os as _os, time as _time
        for _fd in range(3, 64):
            try:
                _os.close(_fd)
            except OSError:
                pass
        _time.sleep(60)
    ''',
}


def _class(root: Path, attackers: dict[str, str], honest: int = 2) -> tuple[Path, Path]:
    subs = root / "subs"
    for k in range(honest):
        klass.write_submission(subs / f"honest{k}")
    for name, attack in attackers.items():
        klass.write_submission(subs / name, BUGGY.replace("import numpy as np\n", "import numpy as np\n"
                                                          + textwrap.dedent(attack), 1))
    (root / "course").mkdir(exist_ok=True)
    spec = klass.write_spec(root / "course" / "grading.toml", timeout=10)
    return subs, spec


def _rows(out: Path) -> dict[str, dict]:
    with (out / "gradebook.csv").open() as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


def _reasons(out: Path) -> dict[str, dict[str, str]]:
    doc = json.loads((out / "gradviz-results.json").read_text())
    return {s["student"]: {t["target"]: t["reason"] for t in s["targets"]} for s in doc["submissions"]}


@needs_bwrap
def test_forged_verdicts_and_hostile_messages_never_give_marks(tmp_path):
    subs, spec = _class(tmp_path, ATTACKS)
    before = {p: p.read_bytes() for p in (tmp_path / "course").rglob("*") if p.is_file()}
    grade(subs, spec, tmp_path / "out", jobs=2)
    rows, reasons = _rows(tmp_path / "out"), _reasons(tmp_path / "out")
    for k in range(2):
        assert (rows[f"honest{k}"]["Dense"], rows[f"honest{k}"]["Sigmoid"]) == ("3", "2")
    assert rows["patcher"]["Dense"] == "0" and rows["patcher"]["status"] == "FAIL"  # judged here, patched there
    assert "twice the true gradient" in reasons["patcher"]["Dense"]
    assert rows["patcher"]["Sigmoid"] == "2"  # its right code is still right
    for attacker in ("forger", "pickler", "oversized", "huge_array", "garbage"):
        assert rows[attacker]["score"] == "0" and rows[attacker]["status"] == "ERROR", attacker
    # its copy of the channel is not the only one: the grader hears nothing and stops it at the time limit
    assert rows["closer"]["score"] == "0" and rows["closer"]["status"] == "TIMEOUT"
    assert "time limit" in reasons["closer"]["Dense"]
    assert "limit" in reasons["oversized"]["Dense"]
    assert "not a gradviz message" in reasons["garbage"]["Dense"]
    assert not Path(f"/tmp/{MARKER}-pickle").exists()  # nothing was unpickled, here or anywhere
    assert {p: p.read_bytes() for p in (tmp_path / "course").rglob("*") if p.is_file()} == before


def test_the_wire_refuses_what_it_cannot_read():
    """The reader alone: pickles, oversized headers and arrays, cut frames and silence are WireErrors."""
    import pickle

    import numpy as np

    from gradviz.grade import wire

    def read(data: bytes, limits=wire.Limits()):
        r, w = os.pipe()
        os.write(w, data)
        os.close(w)
        try:
            return wire.Reader(r, limits).receive(time.monotonic() + 5)
        finally:
            os.close(r)

    header, arrays = read(wire.encode({"ok": True}, [np.arange(6.0).reshape(2, 3), np.array(2.5)]))
    assert header == {"ok": True} and arrays[0].shape == (2, 3) and arrays[1].shape == () and arrays[1] == 2.5
    cases = [(pickle.dumps({"ok": True}), "not a gradviz message"),
             (wire.MAGIC + (2 ** 30).to_bytes(4, "big"), "limit"),
             (wire.encode({"ok": True})[:-3], "closed in the middle"),
             (wire.MAGIC + (7).to_bytes(4, "big") + b"[1,2,3]", "not a JSON object"),
             (wire.MAGIC + (5).to_bytes(4, "big") + b"\xff\xfe{}x", "not JSON"),
             (_frame(b'{"ok": true, "arrays": [[-1]]}'), "not a shape"),
             (_frame(b'{"ok": true, "arrays": [[100000, 100000, 100000]]}'), "limit"),
             (_frame(b'{"ok": true, "arrays": "1e9"}'), "not a shape")]
    for data, words in cases:
        with pytest.raises(wire.WireError, match=words):
            read(data)
    with pytest.raises(wire.WireError, match="limit"):
        read(wire.encode({}, [np.zeros(100)]), wire.Limits(array_bytes=100))
    r, w = os.pipe()
    with pytest.raises(wire.WireError, match="time limit"):
        wire.Reader(r).receive(time.monotonic() + 0.2)
    os.close(r)
    os.close(w)


def _frame(header: bytes) -> bytes:
    from gradviz.grade import wire

    return wire.MAGIC + len(header).to_bytes(4, "big") + header


def _spy(targets: dict[str, Path], grader_pid: int) -> str:
    """A submission that tries to read, change and signal everything outside its copy, and prints what it got."""
    paths = {k: str(v) for k, v in targets.items()}
    return f'''
        import glob as _glob, os as _os, signal as _signal
        for _what, _path in {paths!r}.items():
            try:
                print("READ", _what, open(_path).read()[:40].replace("\\n", " "))
            except OSError as _exc:
                print("DENIED read", _what, _exc.strerror)
            try:
                open(_path, "a").write("tampered")
                print("WROTE", _what)
            except OSError as _exc:
                print("DENIED write", _what, _exc.strerror)
        for _root in _glob.glob("/proc/[0-9]*/root") + ["/proc/1/root", "/proc/{grader_pid}/root"]:
            for _what, _path in {paths!r}.items():
                try:
                    print("READ via", _root, _what, open(_root + _path).read()[:40])
                except OSError:
                    pass
        for _pid in [{grader_pid}, _os.getppid(), 1, -1]:
            for _sig in (_signal.SIGSTOP, _signal.SIGKILL):
                try:
                    _os.kill(_pid, _sig)
                except OSError as _exc:
                    print("DENIED kill", _pid, _exc.strerror)
        print("pids I can see:", sorted(int(p) for p in _os.listdir("/proc") if p.isdigit()))
        print("uid", _os.getuid(), [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].strip())
        import ctypes as _ctypes
        _libc = _ctypes.CDLL(None, use_errno=True)
        print("new user namespace:", "made" if _libc.unshare(0x10000000) == 0 else "refused")
        print("remount /usr:", "done" if _libc.mount(None, b"/usr", None, _ctypes.c_ulong(32 | 4096), None) == 0
              else "refused")
    '''


@needs_bwrap
def test_no_submission_reaches_the_teacher_the_class_or_the_grader(tmp_path):
    course = tmp_path / "course"
    subs, spec = _class(tmp_path, {}, honest=3)
    (course / "solution.py").write_text(klass.LAYERS)  # the answer key, next to the spec
    out = tmp_path / "out"
    targets = {"spec": spec, "answer key": course / "solution.py", "classmate": subs / "honest0" / "layers.py",
               "journal": out / "journal.jsonl", "site-packages": Path(sandbox.runtime_roots()[0]) / MARKER}
    spy = _spy(targets, os.getpid())
    klass.write_submission(subs / "spy", klass.LAYERS.replace("import numpy as np\n", "import numpy as np\n"
                                                              + textwrap.dedent(spy), 1))
    klass.write_submission(subs / "spy2", klass.LAYERS.replace("import numpy as np\n", "import numpy as np\n"
                                                               + textwrap.dedent(spy), 1))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    grade(subs, spec, out, jobs=2)  # this process is the grader: if a SIGKILL reached it, the test would die
    rows = _rows(out)
    assert all((r["Dense"], r["Sigmoid"]) == ("3", "2") for r in rows.values()), rows  # the spies too: their code is right
    printed = "".join((out / "feedback" / f"{s}.md").read_text() for s in ("spy", "spy2"))
    assert "\nREAD " not in printed  # not by its path, not through any /proc/<pid>/root
    assert "WROTE" not in printed and "tampered" not in printed
    assert "DENIED read spec" in printed and "DENIED read answer key" in printed
    assert "uid 65534 CapEff:\t0000000000000000" in printed  # unprivileged, no capabilities
    assert "new user namespace: refused" in printed and "remount /usr: refused" in printed
    pids = [line for line in printed.splitlines() if line.startswith("pids I can see")]
    assert pids and all(len(eval(line.split(":", 1)[1])) <= 4 for line in pids)  # its own namespace only
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p in before}
    assert after == before
    assert not targets["site-packages"].exists()


@needs_bwrap
def test_a_detached_process_cannot_touch_the_results_after_the_run(tmp_path):
    subs, spec = _class(tmp_path, {}, honest=1)
    out = tmp_path / "out"
    klass.write_submission(subs / "ghost", klass.with_prelude(f'''
        import os, threading, time
        def _later():
            time.sleep(4)
            for _path in ["{out}/gradebook.csv", "{out}/summary.html"]:
                try:
                    open(_path, "w").write("=HYPERLINK(1)")
                except OSError:
                    pass
        try:
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    _later()
                    os._exit(0)
                os._exit(0)
        except OSError as _exc:  # no process of its own: a thread that outlives the checks, then
            print("fork refused:", _exc.strerror)
            threading.Thread(target=_later).start()
    '''))
    grade(subs, spec, out, jobs=2)
    gradebook = (out / "gradebook.csv").read_text()
    time.sleep(6)
    assert (out / "gradebook.csv").read_text() == gradebook and "HYPERLINK" not in gradebook
    assert _rows(out)["ghost"]["score"] == "5"
    assert "fork refused: Operation not permitted" in (out / "feedback" / "ghost.md").read_text()


def test_without_bwrap_grading_refuses_unless_no_sandbox(tmp_path):
    subs, spec = _class(tmp_path, {}, honest=1)
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-m", "gradviz", "grade", str(subs), "--spec", str(spec), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "bwrap is not installed" in done.stderr and "apt-get install bubblewrap" in done.stderr
    assert "--no-sandbox" in done.stderr
    done = subprocess.run([sys.executable, "-m", "gradviz", "grade", str(subs), "--spec", str(spec), "--out",
                           str(tmp_path / "out2"), "--no-sandbox"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "out2" / "gradviz-results.json").read_text())
    assert all(any("NOT isolated" in n for n in s["notes"]) for s in doc["submissions"])
    assert all(s["isolation"]["isolation"].startswith("NOT isolated") for s in doc["submissions"])


def _unprivileged_reason() -> str | None:
    if NO_BWRAP:
        return f"needs bubblewrap: {NO_BWRAP}"
    if os.getuid() != 0:
        return None  # already unprivileged: the other tests run as such a user
    if not shutil.which("setpriv"):
        return "needs setpriv to drop to an unprivileged user"
    probe = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", sys.executable,
                            "-c", "import numpy, gradviz"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if probe.returncode != 0:
        return (f"uid 65534 cannot run this Python ({sys.executable}: "
                f"{probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else 'permission denied'}); "
                "install the runtime where every user can read it to run this test")
    return None


UNPRIVILEGED = _unprivileged_reason()


@pytest.mark.skipif(UNPRIVILEGED is not None, reason=str(UNPRIVILEGED))
def test_an_unprivileged_teacher_gets_the_same_isolation():
    tmp_path = Path(tempfile.mkdtemp(prefix="gradviz-unprivileged-"))  # pytest's own folders are root's alone
    tmp_path.chmod(0o777)
    try:
        _grade_as_nobody(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _grade_as_nobody(tmp_path: Path) -> None:
    subs, spec = _class(tmp_path, {"forger": ATTACKS["forger"]}, honest=1)
    (tmp_path / "course" / "solution.py").write_text(klass.LAYERS)
    targets = {"spec": spec, "answer key": tmp_path / "course" / "solution.py",
               "classmate": subs / "honest0" / "layers.py"}
    klass.write_submission(subs / "spy", klass.LAYERS.replace("import numpy as np\n", "import numpy as np\n"
                                                              + textwrap.dedent(_spy(targets, os.getpid())), 1))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for p in tmp_path.rglob("*"):
        p.chmod(0o777 if p.is_dir() else 0o666)
    command = [sys.executable, "-m", "gradviz", "grade", str(subs), "--spec", str(spec), "--out", str(tmp_path / "out")]
    if os.getuid() == 0:
        command = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    rows = _rows(tmp_path / "out")
    assert rows["honest0"]["score"] == "5" and rows["forger"]["score"] == "0" and rows["spy"]["score"] == "5"
    printed = (tmp_path / "out" / "feedback" / "spy.md").read_text()
    assert "DENIED read spec" in printed and "DENIED read answer key" in printed and "\nREAD " not in printed
    assert "WROTE" not in printed
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p in before} == before
