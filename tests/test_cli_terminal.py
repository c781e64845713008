"""The command line on a terminal: colour, progress, streamed self-test rows, exclusive flags, --help, pi and e.

Terminals here are real pseudo-terminals (pty), the way a user's shell runs gradviz.
"""

import math
import os
import pty
import re
import select
import subprocess
import sys

import pytest

import gradviz as gv
from gradviz import expr

ENV = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "80", "TERM": "xterm"}
ENV.pop("NO_COLOR", None)
ENV.pop("FORCE_COLOR", None)


def run(*args, **env):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, timeout=300,
                          env={**ENV, **env})


def run_on_terminal(*args, **env) -> tuple[int, str]:
    """Run gradviz with stdout and stderr on a pseudo-terminal; (exit code, everything the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "gradviz", *args], stdout=follower, stderr=follower,
                            env={**ENV, **env})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=300), b"".join(chunks).decode()


def test_statuses_are_coloured_on_a_terminal_unless_no_color():
    code, screen = run_on_terminal("check", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1")
    assert code == 0 and "\033[32mPASS\033[0m" in screen
    code, screen = run_on_terminal("check", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", NO_COLOR="1")
    assert code == 0 and "PASS" in screen and "\033[" not in screen


def test_no_colour_when_output_is_not_a_terminal():
    done = run("check", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1")
    assert done.returncode == 0 and "PASS" in done.stdout and "\033[" not in done.stdout + done.stderr


@pytest.mark.slow  # the whole self-test once more (test_cli runs it too): about 10 s on an idle machine
def test_self_test_streams_rows_and_shows_progress_on_a_terminal():
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "gradviz", "check"], stdout=subprocess.PIPE, stderr=follower,
                            env=ENV, text=True)
    os.close(follower)
    header = proc.stdout.readline()
    first_row = proc.stdout.readline()
    still_running = proc.poll() is None  # the first row arrived while the other checks were still running
    rest, bar = proc.stdout.read(), b""
    while True:
        ready, _, _ = select.select([leader], [], [], 5)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        bar += data
    os.close(leader)
    assert proc.wait(timeout=300) == 0
    assert header.split()[:2] == ["name", "shapes"] and first_row.split()[-1] == "PASS" and still_running
    lines = [header, first_row] + rest.splitlines()
    assert all(len(line.rstrip("\n")) <= 80 for line in lines)
    assert rest.splitlines()[-1].endswith("passed, 0 failed")
    assert b"self-test [" in bar and bar.endswith(b"\r\033[K")  # drawn on stderr, erased at the end
    assert "\033[" not in rest  # stdout is a pipe: no colour there


def test_output_flags_are_mutually_exclusive():
    done = run("check", "x*y", "--json", "--markdown")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr and "--json" in done.stderr
    assert run("check", "x*y", "-q", "--verbose").returncode == 2


def test_help_states_the_defaults():
    text = run("check", "--help").stdout
    squashed = " ".join(text.split())
    for flag, default in (("--eps", "1e-06"), ("--atol", "1e-05"), ("--rtol", "0.001"), ("--mode", "auto"),
                          ("--seed", "0")):
        assert f"(default: {default})" in squashed.split(flag, 2)[-1].split("--", 1)[0] or \
            f"(default: {default})" in squashed, flag
    assert "(default: None)" not in squashed and "(default: False)" not in squashed
    assert "(default: auto)" in " ".join(run("render", "--help").stdout.split())


def test_pi_and_e_are_constants_in_expressions():
    tree = expr.parse("sin(pi*x) + e**x")
    assert expr.names(tree) == ["x"]
    x = gv.Value(0.25, label="x")
    out = expr.evaluate(tree, {"x": x})
    out.backward()
    assert out.data == pytest.approx(math.sin(math.pi / 4) + math.e ** 0.25)
    assert x.grad == pytest.approx(math.pi * math.cos(math.pi / 4) + math.e ** 0.25)  # d/dx, by hand
    done = run("check", "sin(pi*x) * e", "--at", "x=0.3")
    assert done.returncode == 0 and "PASS" in done.stdout


def test_constants_used_wrongly_are_clear_errors():
    with pytest.raises(gv.GradvizError, match="pi is the constant 3.14159, not a function"):
        expr.parse("pi(2)")
    done = run("check", "e*x", "--at", "e=2,x=1")
    assert done.returncode == 2 and "e is a constant (e = 2.71828)" in done.stderr
    assert "Traceback" not in done.stderr


# --- reports wrap at the terminal's width, and at 80 columns when piped --------------------------------------

TRANSPOSED = '''
import numpy as np


class Dense:
    def __init__(self):
        self.W = np.random.default_rng(0).normal(size=(3, 2))
        self.b = np.zeros(2)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = (self.x.T @ dout).T  # the slip: transposed
        self.db = dout.sum(axis=0)
        return dout @ self.W.T
'''


def _prose_fits(out: str, width: int) -> None:
    """Every line within `width`; only a single word longer than the line may pass it. Sentences are whole:
    the verdict, rejoined from its lines, reads as it was written, with no word cut."""
    assert [line for line in out.splitlines() if len(line) > width and " " in line.strip()] == []
    said = " ".join(out.split())
    assert "it matches the true gradient transposed" in said and "(e.g. dY.T @ X instead of X.T @ dY)" in said


def test_a_piped_report_is_80_columns_wide_with_sentences_wrapped_at_spaces(tmp_path):
    (tmp_path / "dense.py").write_text(TRANSPOSED)
    env = {k: v for k, v in ENV.items() if k != "COLUMNS"}  # nothing says a width: a pipe gets 80
    done = subprocess.run([sys.executable, "-m", "gradviz", "check", "dense.py:Dense", "--input-shape", "4,3"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) > 70  # the width was used, not a narrower one
    _prose_fits(done.stdout, 80)


def test_a_report_on_a_60_column_terminal_wraps_at_60(tmp_path):
    import fcntl
    import struct
    import termios

    (tmp_path / "dense.py").write_text(TRANSPOSED)
    env = {k: v for k, v in ENV.items() if k != "COLUMNS"}  # the terminal's own size decides
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 60, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "gradviz", "check", "dense.py:Dense", "--input-shape", "4,3"],
                            stdout=follower, stderr=follower, cwd=tmp_path, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=300) == 1
    screen = b"".join(chunks).decode().replace("\r\n", "\n")
    plain = re.sub(r"\033\[[0-9;]*[A-Za-z]|\r", "", screen)
    _prose_fits(plain, 60)
    assert max(len(line) for line in plain.splitlines()) > 50
