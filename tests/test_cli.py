"""The command line as a user runs it: subprocesses, exit codes, every target kind, format and error."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SCRIPT = shutil.which("gradviz", path=str(Path(sys.executable).parent)) or "gradviz"


def run(*args, cwd=None, via="module"):
    command = [sys.executable, "-m", "gradviz", *args] if via == "module" else [SCRIPT, *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.mark.parametrize("via", ["module", "script"])
def test_expression_check_passes_with_exit_0(via):
    done = run("check", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", via=via)
    assert done.returncode == 0, done.stderr
    assert "PASS" in done.stdout and "eps=1e-06" in done.stdout


def test_expression_without_at_uses_a_seeded_random_point():
    first, second = run("check", "w*x + sin(w)", "--json"), run("check", "w*x + sin(w)", "--json")
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["ok"] and a["reports"][0]["inputs"][0]["worst"][0]["autograd"] == \
        b["reports"][0]["inputs"][0]["worst"][0]["autograd"]


def test_json_and_markdown_outputs():
    data = json.loads(run("check", "relu(x) * y", "--at", "x=0,y=2", "--json").stdout)
    assert data["schema"] == 1 and data["ok"] is True and data["reports"][0]["status"] == "NONDIFF"
    md = run("check", "exp(x)", "--at", "x=1", "--markdown").stdout
    assert md.startswith("### gradviz check") and "| input |" in md


def test_render_check_verdict_and_render_command(tmp_path):
    out = tmp_path / "checked.svg"
    assert run("check", "tanh(w*x)", "--at", "w=1,x=0.5", "--render", str(out)).returncode == 0
    assert "check: PASS" in out.read_text()
    for suffix in ("svg", "png", "dot"):
        target = tmp_path / f"g.{suffix}"
        done = run("render", "tanh(w*x + b)", "--at", "w=0.5,x=2,b=-1", "-o", str(target), "--show-order",
                   "--formulas")
        assert done.returncode == 0, done.stderr
        assert target.stat().st_size > 100
    texts = [t.text for t in ET.parse(tmp_path / "g.svg").iter("{http://www.w3.org/2000/svg}text")]
    assert "w" in texts and "tanh" in texts
    page = tmp_path / "bw.html"
    assert run("render", "x*y", "--at", "x=1,y=2", "-o", str(tmp_path / "a.svg"), "--animate", str(page)).returncode == 0
    assert "step 0 of" in page.read_text()


USER_FILE = textwrap.dedent('''
    import numpy as np
    import gradviz as gv

    def neuron(w=0.5, x=2.0, b=-1.0):
        return (w * x + b).tanh()

    def dense(x=(2, 3), W=(3, 2)):
        return (x @ W).sigmoid().sum()

    def with_convention(a, b):
        return a * b + a.exp()
    with_convention.gradviz_inputs = {"a": 0.3, "b": 1.5}

    class Dense:
        def __init__(self, n_in=3, n_out=2, bug=False):
            rng = np.random.default_rng(0)
            self.W = rng.normal(size=(n_in, n_out))
            self.b = np.zeros(n_out)
            self.bug = bug

        def forward(self, x):
            return x @ self.W + self.b

        def backward(self, dZ, x):
            dW = x.T @ dZ
            if self.bug:
                dW = dW * 2
            return dZ @ self.W.T, [dW, dZ.sum(axis=0)]

    class MSE:
        def compute(self, y_hat, y):
            return np.mean((y_hat - y) ** 2)

        def backward(self, y_hat, y):
            return 2 * (y_hat - y) / y_hat.size
''')


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "student" / "layers.py"
    path.parent.mkdir()
    path.write_text(USER_FILE)
    return path


def test_file_targets_from_another_working_directory(user_file, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for target, extra in ((f"{user_file}:neuron", []), (f"{user_file}:dense", []),
                          (f"{user_file}:with_convention", []), (f"{user_file}:neuron", ["--input", "w=1.5"]),
                          (f"{user_file}:Dense", ["--input-shape", "4,3"]),
                          (f"{user_file}:MSE", ["--input-shape", "5,1"])):
        done = run("check", target, *extra, cwd=elsewhere)
        assert done.returncode == 0, (target, done.stdout, done.stderr)
        assert "PASS" in done.stdout


def test_a_broken_user_layer_exits_1_and_names_the_wrong_gradient(user_file):
    done = run("check", f"{user_file}:Dense", "--input-shape", "4,3", "--args", '{"bug": true}')
    assert done.returncode == 1
    assert "W (3, 2): FAIL" in done.stdout and "twice the true gradient" in done.stdout
    assert "x (4, 3): PASS" in done.stdout  # the forward argument's own name


@pytest.mark.parametrize("args,message", [
    (["check", "missing.py:f"], "no such file"),
    (["check", "{file}:nope"], "has no 'nope'; it defines"),
    (["check", "{bad_syntax}:f"], "syntax error in"),
    (["check", "{raises}:f"], "raised ZeroDivisionError"),
    (["check", "tanh(w*x"], "expected ')'"),
    (["check", "foo(x)"], "unknown function 'foo'"),
    (["check", "w*x", "--at", "w=abc"], "'abc' is not a number"),
    (["check", "w*x", "--at", "q=1"], "does not use"),
    (["check", "{file}:Dense"], "--input-shape"),
    (["check", "{file}:Dense", "--input-shape", "4,3", "--args", "[bad"], "not valid JSON"),
    (["render", "w*x", "-o", "/nonexistent/dir/g.svg"], "does not exist"),
    (["render", "w*x", "-o", "{tmp}/g.txt"], "unknown format"),
])
def test_errors_exit_2_with_one_readable_message(args, message, user_file, tmp_path):
    bad_syntax = tmp_path / "bad.py"
    bad_syntax.write_text("def f(:\n    pass\n")
    raises = tmp_path / "raises.py"
    raises.write_text("x = 1 / 0\n")
    args = [a.format(file=user_file, bad_syntax=bad_syntax, raises=raises, tmp=tmp_path) for a in args]
    done = run(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("gradviz: error:")


def test_a_format_no_backend_can_produce_is_exit_2(tmp_path):
    env = {**os.environ, "GRADVIZ_RENDERER": "embedded"}
    done = subprocess.run([sys.executable, "-m", "gradviz", "render", "x*2", "-o", str(tmp_path / "g.pdf")],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 2 and "no renderer could produce pdf" in done.stderr


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('touch pwned')",
    "x.__class__",
    "(lambda: 1)()",
    "exec('1')",
    "x[0]",
    "x; y",
    "2 ** 99999999999999999999999",
])
def test_hostile_expressions_are_rejected_cleanly(hostile, tmp_path):
    done = run("check", hostile, "--at", "x=1", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.slow
def test_self_test_of_every_builtin():
    done = run("check")
    assert done.returncode == 0, done.stdout[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.endswith("passed, 0 failed")
    assert "relu at 0" in done.stdout and "NONDIFF" in done.stdout


def test_render_a_file_function(user_file, tmp_path):
    out = tmp_path / "dense.svg"
    done = run("render", f"{user_file}:dense", "-o", str(out), "--collapse", "0", "--rankdir", "TB")
    assert done.returncode == 0, done.stderr
    texts = [t.text for t in ET.parse(out).iter("{http://www.w3.org/2000/svg}text")]
    assert "x" in texts and "W" in texts


@pytest.mark.skipif(shutil.which("dot") is None, reason="the system Graphviz `dot` is not on PATH")
def test_render_pdf_with_the_system_dot(tmp_path):
    out = tmp_path / "g.pdf"
    assert run("render", "tanh(w*x)", "--at", "w=1,x=2", "-o", str(out)).returncode == 0
    assert out.read_bytes()[:5] == b"%PDF-"


USER_OPS = textwrap.dedent("""
    import numpy as np
    import gradviz as gv

    class Softplus(gv.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return np.log1p(np.exp(x))

        @staticmethod
        def backward(grad, x, out):
            return (grad / (1 + np.exp(-x)),)   # sigmoid(x), the true derivative

    class SoftplusBug(Softplus):
        @staticmethod
        def backward(grad, x, out):
            return (grad / (1 + np.exp(x)),)    # sigmoid(-x): the sign in the exponent is wrong
""")


def test_a_gv_function_is_a_cli_target_checked_and_rendered_like_a_built_in(tmp_path):
    (tmp_path / "ops.py").write_text(USER_OPS)
    good = run("check", "ops.py:Softplus", "--input-shape", "4", "--json", cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)["reports"][0]
    assert [(i["name"], i["shape"]) for i in report["inputs"]] == [("x", [4])]
    bad = run("check", "ops.py:SoftplusBug", "--input", "x=1.5", cwd=tmp_path)
    assert bad.returncode == 1 and "SoftplusBug" in bad.stdout
    unknown = run("check", "ops.py:Softplus", "--input", "y=3", cwd=tmp_path)
    assert unknown.returncode == 2 and "Softplus.forward has no such argument" in unknown.stderr
    drawn = run("render", "ops.py:Softplus", "-o", "softplus.svg", cwd=tmp_path)
    assert drawn.returncode == 0 and (tmp_path / "softplus.svg").read_text().lstrip().startswith("<")
