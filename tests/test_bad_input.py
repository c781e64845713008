"""Every bad input a new user tried gets one readable message naming it and what to do: exit 2, no traceback.

Each case runs through the command line (a real subprocess) and, where there is one, through the Python API.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv

ROOT = Path(__file__).resolve().parent.parent

LAYERS = textwrap.dedent('''
    import numpy as np


    class Dense:
        """An affine layer, results on self (cs231n style)."""

        def __init__(self, n_in=3, n_out=2):
            rng = np.random.default_rng(0)
            self.W = rng.normal(size=(n_in, n_out))
            self.b = np.zeros(n_out)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T


    class HalfPrecisionDense(Dense):
        """The same layer with float32 weights, as a notebook that used np.float32 makes them."""

        def __init__(self):
            super().__init__()
            self.W = self.W.astype(np.float32)
            self.b = self.b.astype(np.float32)


    def square(x):
        return x * x
''')


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "layers.py").write_text(LAYERS)
    (tmp_path / "notes.txt").write_text("not python\n")
    return tmp_path


def cli(folder, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, **kwargs)


def one_message(done, *words):
    """Exit 2, nothing on stdout, one line on stderr that names `words`, and no traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.returncode, done.stdout[-500:], done.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


CLI_CASES = {
    "input-shape beyond memory": (["check", "layers.py:Dense", "--input-shape", "100000,100000"],
                                  ["--input-shape", "too many", "smaller shape"]),
    "ragged list": (["check", "layers.py:square", "--input", "x=[[1, 2], [3]]"], ["--input x", "different lengths"]),
    "float32 parameters": (["check", "layers.py:HalfPrecisionDense", "--input-shape", "4,3"],
                           ["HalfPrecisionDense.W (float32)", "astype(np.float64)"]),
    "not a python file": (["check", "notes.txt:f"], ["notes.txt is not a Python file", "file.py:NAME"]),
    "negative eps": (["check", "layers.py:Dense", "--input-shape", "4,3", "--eps", "-1e-6"], ["--eps", "must be > 0"]),
    "unknown option": (["check", "--bogus"], ["--bogus", "--help"]),
}


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: c.replace(" ", "-"))
def test_each_bad_command_line_gets_one_message_and_exit_2(folder, case):
    args, words = CLI_CASES[case]
    one_message(cli(folder, *args), *words)


def test_ragged_list_settings_do_not_stop_the_diagnosis(folder):
    """Settings that are lists of lists of different lengths are no index or label arrays: the diagnosis goes on."""
    (folder / "pair.py").write_text("def forward(x, f, stride):\n    return x * 2.0\n\n\n"
                                    "def backward(dout, x, f, stride):\n    return dout * 4.0\n")
    done = cli(folder, "check", "pair.py:forward,backward", "--input", "x=3,4", "--args",
               '{"f": [2, "a"], "stride": [[1, 2], [3]]}')
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "twice the true gradient" in done.stdout  # forward 2x, backward 4x: the diagnosis ran to its end


def test_grade_out_under_a_file_is_refused_before_any_work(folder):
    subs = folder / "subs" / "alice"
    subs.mkdir(parents=True)
    (subs / "layers.py").write_text(LAYERS)
    (folder / "grading.toml").write_text('[assignment]\ntitle = "t"\n[[target]]\nname = "dense"\n'
                                         'check = "layers.py:Dense"\npoints = 1\ninput-shape = "4,3"\n')
    one_message(cli(folder, "grade", "subs", "--spec", "grading.toml", "--out", "notes.txt/results"),
                "--out notes.txt/results", "notes.txt, which is a file")


def test_piping_into_head_is_silent(folder):
    gradviz = subprocess.Popen([sys.executable, "-m", "gradviz", "check"], cwd=folder, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    head = subprocess.run(["head", "-n", "2"], stdin=gradviz.stdout, capture_output=True, text=True, timeout=300)
    gradviz.stdout.close()
    err = gradviz.stderr.read().decode()
    gradviz.wait(timeout=300)
    assert len(head.stdout.splitlines()) == 2
    assert "BrokenPipe" not in err and "Traceback" not in err, err


SLOW = """
import pathlib, time
import numpy as np

def f(x):
    if pathlib.Path("sleep_in_f").exists():
        pathlib.Path("started").write_text("yes")  # the check is running the user's code now
        time.sleep(120)
    return float(np.sum(x ** 2))

def f_prime(x):
    if pathlib.Path("sleep_in_f_prime").exists():
        pathlib.Path("started").write_text("yes")
        time.sleep(120)
    return 2 * x
"""


def _as_in_a_terminal():
    """Ctrl-C in a terminal reaches a foreground program whose SIGINT is at its default. A test run in the
    background of a non-interactive shell (`pytest ... &`) inherits SIGINT *ignored*, and so would gradviz:
    undo that in the child, as a terminal's foreground job would have it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("where", ["sleep_in_f", "sleep_in_f_prime"])
def test_ctrl_c_prints_one_line(folder, where):
    """Ctrl-C while the user's forward (or gradient) runs: one line, exit 130, no retry of another reading."""
    (folder / "slow.py").write_text(SLOW)
    (folder / where).write_text("")
    run = subprocess.Popen([sys.executable, "-m", "gradviz", "check", "slow.py:f,f_prime", "--input", "x=3"],
                           cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=_as_in_a_terminal)
    deadline = time.monotonic() + 120
    while not (folder / "started").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # interrupted mid-check, inside the user's code, not at start-up
    assert (folder / "started").exists(), f"the user's code never ran: {run.poll()=}"
    run.send_signal(signal.SIGINT)
    try:
        _, err = run.communicate(timeout=30)  # the user's code sleeps 120 s: finishing early means it stopped
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail("gradviz kept running for 30 s after Ctrl-C")
    # 130, or -2 (ended by SIGINT after printing the line); a shell shows 130 for both
    assert run.returncode in (130, -signal.SIGINT), err
    assert err.strip().splitlines()[-1] == "gradviz: interrupted" and "Traceback" not in err, err
    assert err.count("interrupted") == 1


# --- the same mistakes through the Python API: one GradvizError whose message says what to do ------------


@pytest.fixture
def layers(folder, monkeypatch):
    monkeypatch.syspath_prepend(str(folder))
    import importlib

    return importlib.import_module("layers")


def test_api_class_instead_of_instance(layers):
    with pytest.raises(gv.GradvizError, match=r"Dense is a class: pass an instance, e\.g\. check_layer\(Dense\(\.\.\.\), x\)"):
        gv.check_layer(layers.Dense, np.ones((4, 3)))


def test_api_float32_parameters_are_named_not_skipped(layers):
    with pytest.raises(gv.GradvizError, match=r"HalfPrecisionDense\.W \(float32\), HalfPrecisionDense\.b \(float32\)"):
        gv.check_layer(layers.HalfPrecisionDense(), np.ones((4, 3)))


def test_api_check_of_a_built_graph_asks_for_the_function_that_builds_it():
    """micrograd's habit, gv.check(loss): a usage message, not an ERROR blaming 'the checked function'."""
    x = gv.Value(0.5, label="x")
    loss = (x * x).tanh()
    for args in [(loss,), (loss, x)]:
        with pytest.raises(gv.GradvizError, match=r"the function that computes the output, not the output itself"
                                                   r".*gv\.check\(lambda x, w: \(x \* w\)\.tanh\(\), x, w\)"):
            gv.check(*args)
    with pytest.raises(gv.GradvizError, match=r"first argument is the function to check, got float 3\.0"):
        gv.check(3.0, x)


def test_api_check_without_inputs_shows_how_to_give_them():
    def neuron(x, w):
        return (x * w).tanh()

    with pytest.raises(gv.GradvizError, match=r"gv\.check\(neuron, x, w\) checks neuron\(x, w\)"):
        gv.check(neuron)


def test_api_ragged_list(layers):
    with pytest.raises(gv.GradvizError, match="y_pred is a ragged list"):
        gv.check_grad_fn(lambda y_pred: float(np.sum(y_pred)), lambda y_pred: np.ones(3), [[1.0, 2.0], [3.0]])


def test_api_zero_eps_is_a_message_not_a_zero_division(layers):
    with pytest.raises(gv.GradvizError, match="eps=0 cannot be used"):
        gv.check_layer(layers.Dense(), np.ones((4, 3)), eps=0)


def test_api_a_function_that_raises_is_an_error_report_naming_the_exception():
    def forward(v):
        raise ValueError("shapes do not match")

    report = gv.check(forward, gv.Value(1.0, label="v"))
    assert report.status == "ERROR" and "raised ValueError: shapes do not match" in report.verdict
    assert "does not build a gradviz graph" not in report.verdict


# --- user code that calls sys.exit: never gradviz's exit code (0 would read as "all gradients agree") -------

EXITING = textwrap.dedent('''
    import sys
    import numpy as np
    import gradviz as gv

    def f(x):
        sys.exit(0)

    def f_prime(x):
        return np.cos(x)

    def g(x):
        return float(np.sin(x).sum())

    def g_grad(x):
        sys.exit(0)

    def graph(x):
        sys.exit(0)
''')


@pytest.mark.parametrize("target, culprit, line", [("exiting.py:f,f_prime", "f", 7),
                                                   ("exiting.py:g,g_grad", "g_grad", 16),
                                                   ("exiting.py:graph", "sys.exit(0)", 19)])
def test_user_code_calling_sys_exit_is_exit_1_with_its_line(folder, target, culprit, line):
    (folder / "exiting.py").write_text(EXITING)
    done = cli(folder, "check", target, "--input", "x=randn(3)")
    assert done.returncode == 1, (done.stdout[-800:], done.stderr[-800:])
    said = " ".join((done.stdout + done.stderr).split())  # wrapped at the terminal's width
    assert culprit in said and "sys.exit(0)" in said and f"exiting.py:{line}" in said and "Traceback" not in said


def test_a_file_that_exits_on_import_is_refused_with_its_line(folder):
    (folder / "script.py").write_text("import sys\nimport numpy as np\n\ndef f(x):\n    return float(np.sum(x))\n\n"
                                      "sys.exit(0)\n")
    one_message(cli(folder, "check", "script.py:f", "--input", "x=randn(3)"),
                "script.py:7 called sys.exit(0)", 'if __name__ == "__main__":')


def test_api_a_backward_calling_sys_exit_is_an_error_report():
    def f(x):
        return float(np.sum(x ** 2))

    def f_prime(x):
        sys.exit(0)

    report = gv.check_grad_fn(f, f_prime, np.ones(3))
    said = " ".join(str(report).split())
    assert report.status == "ERROR" and "f_prime called sys.exit(0)" in said and "cannot check code that ends" in said
