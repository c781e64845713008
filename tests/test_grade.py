"""`gradviz grade` on a synthetic class: correct code, planted bugs and every misbehaviour.

The class is graded once, by the real command line in a real subprocess, with real
isolation; the tests then read its outputs. The gradients' verdicts come from gradviz's own
checkers (tested against finite differences and SymPy elsewhere); what is tested here is that
each submission gets the row its code deserves and that nothing it does escapes its copy.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade_class as klass  # noqa: E402

import gradviz as gv  # noqa: E402
from gradviz import cli  # noqa: E402
from gradviz.errors import GradvizError  # noqa: E402
from gradviz.grade import grade, load_spec, merge  # noqa: E402
from gradviz.grade.progress import progress_line  # noqa: E402

QUICK = ["alice", "bob", "dan", "jon", "nia"]  # no limit is hit: fast to grade again and again
TIMEOUT = 8  # seconds per submission in the graded class (the student's code; the sandbox starts before the clock)


def gradviz(*args, cwd=None, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "gradviz", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file under roots with a hash of its bytes."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for root in roots for p in sorted(root.rglob("*") if root.is_dir() else [root]) if p.is_file()}


class _Listener:
    """A TCP server on localhost that counts connections: a submission must not reach it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port, self.accepted = self.sock.getsockname()[1], 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


def build_class(root: Path, port: int) -> dict[str, Path]:
    course = root / "course"
    subs = course / "submissions"
    klass.write_submission(subs / "alice")
    for kind in ["bob", "cara", "olga", "dan", "nia", "eve", "fay", "gus", "hal", "ivy", "jon"]:
        klass.write_planted(subs / kind, kind)
    precious = root / "precious.txt"
    precious.write_text("the teacher's notes")
    spec = klass.write_spec(course / "grading.toml", timeout=TIMEOUT)
    victims = [precious, subs / "alice" / "layers.py", spec]
    klass.write_submission(subs / "kim", klass.with_prelude(f'''
        import os
        for _path in {[str(v) for v in victims]!r}:
            try:
                os.remove(_path)
                print("removed", _path)
            except OSError as _exc:
                print("could not remove", _path, "-", _exc.strerror)
        try:
            print("the spec says:", open({str(spec)!r}).read())
        except OSError as _exc:
            print("could not read the spec -", _exc.strerror)
    '''))
    klass.write_submission(subs / "lea", klass.with_prelude(f'''
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            print("network: connected")
        except OSError as _exc:
            print("network: blocked -", _exc.strerror)
    '''))
    klass.write_submission(subs / "max", klass.with_prelude('''
        import os
        try:
            _pid = os.fork()
        except OSError as _exc:  # a worker makes threads, not processes (seccomp.py)
            print("fork refused -", _exc.strerror)
        else:
            if _pid == 0:
                os.setsid()  # detached: a new session, so that it would outlive its parent's process group
                os.execv("/bin/sleep", ["sleep", "4242.25"])
            print("forked a detached sleep")
    '''))
    return {"root": root, "course": course, "subs": subs, "spec": spec, "precious": precious}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    listener = _Listener()
    paths = build_class(root, listener.port)
    before = snapshot(paths["course"], paths["precious"])
    done = gradviz("grade", paths["subs"], "--spec", paths["spec"], "--out", root / "results", "-j", "2")
    out = root / "results"
    with (out / "gradebook.csv").open() as handle:
        rows = {r["student"]: r for r in csv.DictReader(handle)}
    doc = json.loads((out / "gradviz-results.json").read_text())
    return {**paths, "out": out, "rows": rows, "before": before, "stdout": done.stdout, "listener": listener,
            "json": {s["student"]: s for s in doc["submissions"]}, "doc": doc}


# (Dense points, Sigmoid points, worst status) per student; Dense is worth 3, Sigmoid 2
EXPECTED = {
    "alice": ("3", "2", "PASS"),
    "bob": ("0", "2", "FAIL"),  # dW twice too big
    "cara": ("0", "2", "FAIL"),  # dW divided by the batch
    "olga": ("0", "2", "FAIL"),  # the same mistake
    "dan": ("0", "2", "FAIL"),  # right only for the visible batch of 4
    "nia": ("3", "0", "FAIL"),  # sigmoid' forgot (1 - out)
    "eve": ("0", "0", "TIMEOUT"),  # endless loop in backward
    "fay": ("0", "2", "ERROR"),  # memory bomb in forward: MemoryError at the limit, then Sigmoid is checked
    "gus": ("0", "0", "ERROR"),  # os._exit(3): the process is gone before Sigmoid
    "hal": ("0", "2", "ERROR"),  # prints without end: the write past the cap raises
    "ivy": ("0", "2", "ERROR"),  # imports a module that does not exist
    "jon": ("0", "2", "ERROR"),  # syntax error
    "kim": ("3", "2", "PASS"),  # tries to delete files outside its copy: correct code otherwise
    "lea": ("3", "2", "PASS"),  # tries the network
    "max": ("3", "2", "PASS"),  # tries to fork a process that would outlive it
}


def test_every_submission_gets_its_row(graded):
    rows = graded["rows"]
    assert set(rows) == set(EXPECTED)
    for student, (dense, sigmoid, status) in EXPECTED.items():
        row = rows[student]
        assert (row["Dense"], row["Sigmoid"], row["status"]) == (dense, sigmoid, status), student
        assert float(row["score"]) == int(dense) + int(sigmoid) and row["out of"] == "5"
    assert "graded 15 submissions" in graded["stdout"]


def test_the_gradebook_has_a_one_line_comment_for_the_lms(graded):
    rows = graded["rows"]
    assert rows["alice"]["comment"] == "all targets pass"
    assert rows["bob"]["comment"].startswith("Dense: W: it is twice the true gradient")
    assert all("\n" not in r["comment"] and len(r["comment"]) <= 310 for r in rows.values())
    assert "Dense: " in rows["jon"]["comment"] and "syntax error" in rows["jon"]["comment"]


def _target(graded, student, name):
    return next(t for t in graded["json"][student]["targets"] if t["target"] == name)


@pytest.mark.parametrize("student, target, words", [
    ("bob", "Dense", "W: it is twice the true gradient"),
    ("cara", "Dense", "backward divides by the batch size (4) once too often"),
    ("dan", "Dense", "a batch of 7: "),
    ("nia", "Sigmoid", "w: it is the true gradient times a constant"),
    ("eve", "Dense", f"did not finish within the {TIMEOUT} s time limit"),
    ("eve", "Sigmoid", "not checked"),
    ("fay", "Dense", "ran out of memory: the limit is 100 MB"),
    ("gus", "Dense", "exited early with code 3"),
    ("gus", "Sigmoid", "not checked"),
    ("hal", "Dense", "more than the 1 MB output limit"),
    ("ivy", "Dense", "No module named 'autograd_helpers'"),
    ("jon", "Dense", "syntax error in layers.py:13"),
])
def test_each_failure_says_why(graded, student, target, words):
    assert words in _target(graded, student, target)["reason"]


def test_timeouts_and_errors_have_their_own_status(graded):
    assert _target(graded, "eve", "Dense")["status"] == "TIMEOUT"
    assert _target(graded, "eve", "Sigmoid")["status"] == "TIMEOUT"
    assert _target(graded, "gus", "Dense")["status"] == "ERROR"
    assert _target(graded, "fay", "Dense")["status"] == "ERROR" and _target(graded, "hal", "Dense")["status"] == "ERROR"
    assert graded["json"]["eve"]["seconds"] < TIMEOUT + 30  # killed at its deadline (+ the sandbox's start)


def test_nothing_outside_the_copies_changed(graded):
    assert snapshot(graded["course"], graded["precious"]) == graded["before"]
    output = (graded["out"] / "feedback" / "kim.md").read_text()
    assert "removed" not in output and "the spec says" not in output
    assert "could not read the spec" in output


def test_the_network_is_unreachable(graded):
    assert graded["json"]["lea"]["isolation"]["network"].startswith("none")
    assert "network: blocked" in (graded["out"] / "feedback" / "lea.md").read_text()
    assert graded["listener"].accepted == 0


def test_a_submission_cannot_fork_a_process_that_outlives_it(graded):
    assert "fork refused - Operation not permitted" in (graded["out"] / "feedback" / "max.md").read_text()
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline") if b"4242.25" in _read(p)], "the sleep outlived it"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_huge_output_is_capped(graded):
    assert graded["json"]["hal"]["output_bytes"] <= 1024 * 1024
    assert any("output limit" in n for n in graded["json"]["hal"]["notes"])


def test_feedback_explains_each_failing_target(graded):
    feedback = graded["out"] / "feedback"
    bob = (feedback / "bob.md").read_text()
    assert "**Score: 2 / 5**" in bob
    assert "`W`: it is twice the true gradient" in bob and "## Dense" in bob and "## Sigmoid" not in bob
    nia = (feedback / "nia.md").read_text()
    assert "## Sigmoid" in nia and "times a constant" in nia
    dan = (feedback / "dan.md").read_text()
    assert "a batch of 7 (hidden)" in dan and "7,3" not in dan  # the hidden inputs are not revealed
    hidden = dan.split("a batch of 7 (hidden)", 1)[1]
    assert "`W`: wrong on the hidden variant" in hidden  # which array, not the numbers at the hidden inputs
    assert "yours" not in hidden and "true" not in hidden and "(7," not in hidden, hidden
    assert "## Dense" not in (feedback / "alice.md").read_text()


def test_junit_has_a_case_per_target(graded):
    suites = ET.parse(graded["out"] / "junit.xml").getroot()
    cases = {(s.get("name"), c.get("name")): c for s in suites for c in s}
    assert len(cases) == 2 * len(EXPECTED)
    assert cases[("alice", "Dense")].find("failure") is None
    assert "twice the true gradient" in cases[("bob", "Dense")].find("failure").get("message")
    assert cases[("eve", "Dense")].find("error").get("type") == "TIMEOUT"


def test_summary_groups_the_common_mistakes(graded):
    html = (graded["out"] / "summary.html").read_text()
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "ends the process early" in html and "a syntax error" in html
    assert "passes the visible check but not a hidden variant" in html
    assert "<a href='feedback/bob.html'>bob</a>" in html
    bins = dict(_bins(html))
    assert bins == {"0": 2, "1": 0, "2": 8, "3": 1, "4": 0, "5": 4}
    row = next(r for r in html.split("<tr class='mistake'>")[1:] if "once too often" in r)
    assert row.startswith("<td class='num'>2</td><td>Dense</td>")  # one group, two students
    assert "feedback/cara.html" in row and "feedback/olga.html" in row


def _bins(html: str):
    import re

    for score, count in re.findall(r"data-score='([^']+)' data-count='(\d+)'", html):
        yield score, int(count)


def _quick_class(root: Path) -> tuple[Path, Path]:
    subs = root / "subs"
    for name in QUICK:
        klass.write_submission(subs / name) if name == "alice" else klass.write_planted(subs / name, name)
    return subs, klass.write_spec(root / "grading.toml", timeout=20)


def test_shards_merge_to_the_same_gradebook(tmp_path):
    subs, spec = _quick_class(tmp_path)
    grade(subs, spec, tmp_path / "whole", jobs=2)
    for i in (1, 2):
        grade(subs, spec, tmp_path / f"shard-{i}", jobs=2, shard=f"{i}/2")
    one = (tmp_path / "shard-1" / "gradebook.csv").read_text()
    assert 1 < len(one.splitlines()) < len(QUICK) + 1  # a shard holds part of the class
    assert cli.main(["grade", "merge", str(tmp_path / "shard-1"), str(tmp_path / "shard-2"),
                     "--out", str(tmp_path / "merged")]) == 0
    assert (tmp_path / "merged" / "gradebook.csv").read_text() == (tmp_path / "whole" / "gradebook.csv").read_text()
    with pytest.raises(GradvizError, match="shards are missing"):
        merge([tmp_path / "shard-1"], tmp_path / "half")


def _records(journal: Path, kind: str) -> list[str]:
    return [json.loads(line)["student"] for line in journal.read_text().splitlines()
            if line.endswith("}") and json.loads(line).get("kind") == kind]


def test_resume_completes_an_interrupted_run(tmp_path):
    subs, spec = _quick_class(tmp_path)
    out = tmp_path / "out"
    journal = out / "journal.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "gradviz", "grade", subs, "--spec", spec, "--out", out, "-j", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    orphans = f"{tempfile.gettempdir()}/gradviz-grade-{run.pid}-*"  # its copies of submissions in flight
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not journal.exists() or len(_records(journal, "submission")) < 2
                                           or len(_records(journal, "started")) < 3 or not glob.glob(orphans)):
        time.sleep(0.02)
    run.send_signal(signal.SIGKILL)  # the harshest interruption: no chance to clean up
    run.wait()
    assert glob.glob(orphans)
    lines = journal.read_text().splitlines()
    graded_before = _records(journal, "submission")
    in_flight = sorted(set(_records(journal, "started")) - set(graded_before))
    assert 2 <= len(graded_before) < len(QUICK) and len(in_flight) == 1
    with pytest.raises(GradvizError, match="add --resume to continue it"):
        grade(subs, spec, out)
    assert cli.main(["grade", str(subs), "--spec", str(spec), "--out", str(out), "--resume"]) == 0
    assert glob.glob(orphans) == []  # the killed run's copy in flight is cleaned up by the next run
    after = journal.read_text().splitlines()
    assert after[:len(lines)] == lines  # what was graded stays, and is not graded again
    assert sorted(_records(journal, "submission")) == sorted(QUICK)
    with (out / "gradebook.csv").open() as handle:
        rows = {r["student"]: (r["Dense"], r["Sigmoid"], r["status"]) for r in csv.DictReader(handle)}
    # the submission in flight when the grader died may be what killed it: ERROR, never run again
    assert rows == {s: ("0", "0", "ERROR") if s in in_flight else EXPECTED[s] for s in QUICK}
    reason = json.loads((out / "gradviz-results.json").read_text())["submissions"]
    assert any("grader stopped while this submission was running" in t["reason"]
               for r in reason if r["student"] in in_flight for t in r["targets"])


@pytest.mark.parametrize("text, words", [
    ("[[target]]\nname = 'D'\ncheck = 'layers.py:Dense'\ninptu-shape = '4,3'\n",
     "target 'D': gradviz check does not accept these settings: unrecognized arguments: --inptu-shape"),
    ("[[target]]\nname = 'D'\ncheck = 'tanh(x)'\n", "check must name code in the submission"),
    ("[[target]]\nname = 'D'\ncheck = '../x.py:f'\n", "must be a path inside the submission folder"),
    ("[assignment]\ntimeout = -1\n[[target]]\nname = 'D'\ncheck = 'a.py:f'\n", "timeout must be a positive number"),
    ("[assignment]\ntitle = 'x'\n", "no targets"),
    ("[[target]]\nname = 'D'\ncheck = 'a.py:f'\njson = true\n", "'json' is an output flag"),
    ("[[target]\n", "is not valid TOML"),
    ("[[target]]\nname = 'A'\ncheck = 'optim.py:adam'\noptimizer = 'adam'\n", "optimizer targets cannot be graded yet"),
])
def test_a_bad_spec_is_one_clear_error(tmp_path, text, words):
    spec = tmp_path / "grading.toml"
    spec.write_text(text)
    with pytest.raises(GradvizError) as info:
        load_spec(spec)
    assert words in str(info.value)


def test_a_bad_spec_on_the_command_line_is_exit_code_2(tmp_path):
    spec = tmp_path / "grading.toml"
    spec.write_text("[[target]]\nname = 'D'\ncheck = 'a.py:f'\ninputs = { x = 1 }\n")
    (tmp_path / "subs" / "a").mkdir(parents=True)
    done = gradviz("grade", tmp_path / "subs", "--spec", spec, "--out", tmp_path / "out", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("gradviz: error: grading.toml: target 'D'")


@pytest.mark.parametrize("flags, words", [
    (["--timeout", "0"], "--timeout must be a positive number"),
    (["--memory", "-5"], "--memory must be a positive number"),
    (["--shard", "3/2"], "--shard takes i/n with 1 <= i <= n"),
    (["-j", "0"], "-j takes a number of parallel jobs >= 1"),
])
def test_bad_options_are_one_clear_error(tmp_path, flags, words, capsys):
    subs, spec = tmp_path / "subs", klass.write_spec(tmp_path / "grading.toml")
    klass.write_submission(subs / "ann")
    assert cli.main(["grade", str(subs), "--spec", str(spec), "--out", str(tmp_path / "out"), *flags]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "out" / "journal.jsonl").exists()


def test_spec_turns_tables_into_check_flags(tmp_path):
    spec = tmp_path / "grading.toml"
    spec.write_text("[[target]]\nname = 'D'\ncheck = 'a.py:f'\ninput = { x = 2.5 }\nseed = 4\n"
                    "args = { pad = 1, stride = 1 }\n"
                    "[[target.variant]]\ninput = { y = '3,2' }\nargs = { stride = 2 }\n")
    target = load_spec(spec).targets[0]
    assert target.checks[0].argv == ("a.py:f", "--input", "x=2.5", "--seed", "4", "--args", '{"pad": 1, "stride": 1}')
    assert target.checks[1].argv == ("a.py:f", "--input", "x=2.5", "--input", "y=3,2", "--seed", "4",
                                     "--args", '{"pad": 1, "stride": 2}')
    assert target.checks[1].hidden and target.checks[1].label == "hidden variant 1"


def test_progress_line():
    assert progress_line(5, 2, 20, 10.0, width=10) == "[##........] 5/20 graded, 2 failing, 15 left, 2.00 s each"
    assert progress_line(0, 0, 3, 0.0, width=4) == "[....] 0/3 graded, 0 failing, 3 left"


import browser  # noqa: E402  (the browser the tutorial's picture is taken with: docs/headless.py)


@pytest.mark.skipif(browser.unavailable() is not None, reason=str(browser.unavailable()))
def test_summary_renders_in_headless_chromium(graded, tmp_path):
    with browser.chromium(tmp_path / "profile", 1000, 1200) as driver:
        driver.get((graded["out"] / "summary.html").as_uri())
        bars = driver.find_elements("css selector", "#score-histogram rect.bin")
        drawn = {b.get_attribute("data-score"): b.size["height"] for b in bars}
        counts = {b.get_attribute("data-score"): int(b.get_attribute("data-count")) for b in bars}
        tallest = max(counts, key=counts.get)
        assert tallest == "2" and drawn["2"] > drawn["5"] > drawn["0"] > 0 and drawn["1"] == 0
        mistakes = driver.find_elements("css selector", "#mistakes tr.mistake")
        assert mistakes and all(m.is_displayed() for m in mistakes)
        first = mistakes[0].find_elements("tag name", "td")
        assert int(first[0].text) == max(int(m.find_elements("tag name", "td")[0].text) for m in mistakes)
        link = mistakes[0].find_element("tag name", "a")
        assert (graded["out"] / "feedback" / f"{link.text}.html").exists()
        driver.save_screenshot(str(tmp_path / "summary.png"))
    assert (tmp_path / "summary.png").stat().st_size > 10_000


def test_support_files_are_copied_and_the_results_folder_is_not_a_submission(tmp_path):
    subs = tmp_path / "subs"
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "provided.py").write_text("def batch_mean(a):\n    return a.sum(axis=0)\n")
    klass.write_submission(subs / "ann", klass.LAYERS.replace("db = dZ.sum(axis=0)",
                                                              "from provided import batch_mean\n        db = batch_mean(dZ)"))
    spec = klass.write_spec(tmp_path / "course" / "grading.toml", timeout=20)
    spec.write_text(spec.read_text().replace("output = 1\n", "output = 1\nfiles = [\"provided.py\"]\n"))
    results = grade(subs, spec, subs / "results")
    assert [(r.student, r.score) for r in results] == [("ann", 5.0)]
    assert not (subs / "ann" / "provided.py").exists()  # copied into the copy, not the original


COURSE = Path(__file__).resolve().parent / "course_code"
CS231N_SPEC = '''
[assignment]
title = "Assignment 2: layers as function pairs"
timeout = 30

[[target]]
name = "affine"
check = "layers.py:affine"
points = 1
input = { x = "4,5", w = "5,3", b = "3" }

[[target]]
name = "batchnorm"
check = "layers.py:batchnorm"
points = 2
input = { x = "6,4", gamma = "4", beta = "4" }
args = { bn_param = { mode = "train" } }

[[target]]
name = "softmax"
check = "layers.py:softmax_loss"
points = 2
input = { x = "5,10", y = "randint(10, size=5)" }

[[target.variant]]
input = { x = "9,10", y = "randint(10, size=9)" }
'''


def test_graded_targets_take_every_form_gradviz_check_takes(tmp_path):
    """cs231n-style function pairs and a loss returning (loss, dx), with inputs and settings from the spec."""
    correct = (COURSE / "cs231n_layers.py").read_text()
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    (tmp_path / "subs" / "ann" / "layers.py").write_text(correct)
    (tmp_path / "subs" / "ben").mkdir()
    (tmp_path / "subs" / "ben" / "cs231n_layers.py").write_text(correct)  # the starter code the bug file imports
    (tmp_path / "subs" / "ben" / "layers.py").write_text((COURSE / "cs231n_layers_bug.py").read_text())
    spec = tmp_path / "grading.toml"
    spec.write_text(CS231N_SPEC)
    results = {r.student: {t.target: (t.status, t.reason) for t in r.targets}
               for r in grade(tmp_path / "subs", spec, tmp_path / "out")}
    assert {t: s for t, (s, _) in results["ann"].items()} == {"affine": "PASS", "batchnorm": "PASS", "softmax": "PASS"}
    assert {t: s for t, (s, _) in results["ben"].items()} == {"affine": "PASS", "batchnorm": "FAIL", "softmax": "FAIL"}
    assert "dgamma of shape (1, 4)" in results["ben"]["batchnorm"][1]
    assert "5 times the true gradient" in results["ben"]["softmax"][1]


# --- the pages a teacher opens: linked HTML feedback, tables that agree with their verdicts, a phone ---------

PHONE_LAYOUT = """
const problems = [];
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > width + 1) problems.push('scrolls sideways by ' +
    (document.documentElement.scrollWidth - width) + ' px');
for (const el of document.querySelectorAll('body *')) {
  if (!el.getClientRects().length) continue;
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  let px = parseFloat(getComputedStyle(el).fontSize);
  const svg = el.closest('svg');
  if (svg && own) px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  if (own && px < 10) problems.push(px.toFixed(1) + ' px: ' + el.textContent.trim().slice(0, 40));
}
return problems;
"""


def test_the_summary_links_to_html_feedback_that_says_what_the_markdown_says(graded):
    import html as html_lib
    import re

    summary = (graded["out"] / "summary.html").read_text()
    links = set(re.findall(r"href='(feedback/[^']+)'", summary))
    assert links and all(link.endswith(".html") and (graded["out"] / link).is_file() for link in links)
    bob = (graded["out"] / "feedback" / "bob.html").read_text()
    assert "<meta name='viewport'" in bob and "<h2>Dense" in bob
    assert "it is twice the true gradient" in html_lib.unescape(bob)
    for page in (graded["out"] / "feedback").glob("*.md"):  # the HTML page says what its Markdown says
        shown = html_lib.unescape(re.sub(r"<[^>]+>", "", page.with_suffix(".html").read_text()))
        for line in page.read_text().splitlines():
            if line.startswith("- "):  # a diagnosis sentence: the escapes gone, the words the same
                words = re.sub(r"\\(.)", r"\1", line[2:]).replace("`", "")
                assert words in shown, (page.name, words)


def test_no_feedback_table_contradicts_its_verdict(graded):
    """A FAIL or ERROR row never shows errors of 0 (nothing compared is not 'no error')."""
    for page in (graded["out"] / "feedback").glob("*.md"):
        for line in page.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 5 and any(s in cells[2] for s in ("FAIL", "ERROR")):
                assert cells[3:5] != ["0", "0"], (page.name, line)


def test_a_missing_gradient_row_shows_no_error_of_zero():
    class NoBiasGradient:
        def __init__(self):
            self.W = np.random.default_rng(0).normal(size=(3, 2))
            self.b = np.zeros(2)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout  # forgot self.db
            return dout @ self.W.T

    report = gv.check_layer(NoBiasGradient(), np.ones((4, 3)))
    row = next(line for line in report.to_markdown().splitlines() if line.startswith("| `b`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert "FAIL" in cells[2] and cells[3:5] == ["-", "-"] and "no gradient" in cells[5]


@pytest.mark.skipif(browser.unavailable() is not None, reason=str(browser.unavailable()))
def test_the_summary_and_a_feedback_page_read_on_a_phone(graded, tmp_path):
    with browser.chromium(tmp_path / "profile", 1000, 1200) as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
        for page in ("summary.html", "feedback/bob.html", "feedback/nia.html"):
            driver.get((graded["out"] / page).as_uri())
            assert driver.execute_script(PHONE_LAYOUT) == [], page
