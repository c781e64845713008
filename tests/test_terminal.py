"""Terminal output: one-line repr, reports fitted to 80 columns (golden), colour rules, progress, grouping.

Golden files: tests/golden/report_*.txt hold the expected text at 80 columns.
After an intended change of wording, rewrite them with
GRADVIZ_UPDATE_GOLDEN=1 pytest tests/test_terminal.py and review the diff.
"""

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz import progress
from gradviz.checking import text

from oracles import wrong_tanh

WrongTanh = wrong_tanh()
GOLDEN = Path(__file__).parent / "golden"


def _failing_report():
    x = gv.Tensor(np.array([0.3, -0.8, 1.1]), label="x")
    w = gv.Tensor(np.array([0.5, 0.2, -0.4]), label="w")
    return gv.check(lambda x, w: WrongTanh.apply(x * w).sum(), x, w)


class DenseLayerWithALongName:
    """A course-style layer: cache on self, backward(dout) returns dx, gradients as self.dW / self.db."""

    def __init__(self, bug: bool):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(3, 2))
        self.b = np.zeros(2)
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        dx = dout @ self.W.T
        return 2 * dx if self.bug else dx  # the bug: a stray factor 2


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GRADVIZ_UPDATE_GOLDEN"):
        path.write_text(actual + "\n")
    expected = path.read_text()[:-1]
    assert actual == expected


def _fits(output: str, width: int) -> None:
    """Every line fits `width`, tables and prose alike; only a single word longer than the line may pass it."""
    table = [line for line in output.splitlines() if line.endswith(("PASS", "FAIL", "NONDIFF", "SKIPPED", "ERROR",
                                                                     "status")) and "  " in line]
    assert table and [line for line in output.splitlines() if len(line) > width and " " in line.strip()] == []


def _wrapped_at_word_boundaries(output: str, sentence: str) -> None:
    """`sentence` is in `output` as consecutive lines that rejoin with single spaces: no word was cut."""
    words = sentence.split()
    lines = output.splitlines()
    for start, line in enumerate(lines):
        if line.strip() and sentence.startswith(line.strip()):
            joined, end = line.strip(), start
            while len(joined) < len(sentence) and end + 1 < len(lines):
                end += 1
                joined += " " + lines[end].strip()
            if joined.split() == words:
                return
    raise AssertionError(f"not found whole, wrapped at spaces: {sentence!r}\n{output}")


def test_repr_is_one_line_naming_the_wrong_inputs():
    line = repr(_failing_report())
    assert "\n" not in line and len(line) < 120
    assert line.startswith("<Report ") and "FAIL" in line and "wrong: x, w" in line


def test_repr_of_a_passing_report_says_pass():
    report = gv.check(lambda a: (a * a).tanh(), gv.Value(0.7, label="a"))
    assert report.ok
    line = repr(report)
    assert "\n" not in line and ": PASS;" in line and "wrong" not in line


def test_failing_check_at_80_columns_is_the_golden_text(monkeypatch):
    report = _failing_report()
    out = text.format_report(report, width=80)
    _fits(out, 80)
    _golden("report_failing_80.txt", out)
    for sentence in [report.verdict] + [f"diagnosis: {d}" for r in report.results for d in r.diagnosis]:
        _wrapped_at_word_boundaries(out, sentence)
    monkeypatch.setenv("COLUMNS", "80")  # str(report) asks shutil.get_terminal_size, which reads COLUMNS first
    assert str(report) == out


def test_hand_written_layer_at_80_columns_drops_the_empty_symbolic_column():
    report = gv.check_layer(DenseLayerWithALongName(bug=True), np.random.default_rng(1).normal(size=(4, 3)))
    out = text.format_report(report, width=80)
    _fits(out, 80)
    _golden("report_layer_80.txt", out)
    for sentence in [report.verdict, *(f"note: {n}" for n in report.notes)]:
        _wrapped_at_word_boundaries(out, sentence)
    assert "symbolic" not in out.split("\n\n")[1]  # no SymPy for hand-written code: no column of dashes


def test_directional_mode_shows_the_directional_derivatives_it_compared():
    x = gv.Tensor(np.random.default_rng(3).normal(size=(40,)), label="x")
    report = gv.check(lambda x: WrongTanh.apply(x).sum(), x, mode="directional", methods=("finite",))
    out = text.format_report(report, width=80)
    _fits(out, 80)
    _golden("report_directional_80.txt", out)
    assert out.count("judged along the random directions") <= 1  # a note the inputs share, said once
    assert "SKIPPED" not in out.split("\n\n")[1] and "nan" not in out
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    assert len(rows) == 8 and all(r[-1] == "FAIL" for r in rows)
    # v is a random unit vector, so |g.v| <= |g| (Cauchy-Schwarz) for the gradient each column claims:
    # autograd's is WrongTanh's 1 - tanh(x), the finite one the true 1 - tanh(x)^2 (closed forms, not gradviz's)
    wrong, true = np.linalg.norm(1 - np.tanh(x.data)), np.linalg.norm(1 - np.tanh(x.data) ** 2)
    assert all(abs(float(r[1])) <= wrong + 1e-9 and abs(float(r[2])) <= true + 1e-6 for r in rows)


def test_many_inputs_are_grouped_by_scope_and_capped():
    mlp = gv.nn.MLP(3, [16, 16, 1], seed=0)
    xs = [gv.Value(v, label=f"x{i}") for i, v in enumerate((0.1, 0.2, -0.3))]
    report = gv.check(lambda *x: mlp(list(x)), *xs, params=mlp.parameters(), mode="directional", methods=("finite",))
    assert len(report.results) == 3 + 353
    out = text.format_report(report, width=80)
    _fits(out, 80)
    lines = out.splitlines()
    assert len(lines) < 40
    assert "layer1.*: 272 inputs, 272 elements: PASS" in lines and "(top level): 3 inputs, 3 elements: PASS" in lines


def test_a_note_seven_inputs_share_is_said_once_naming_them():
    rng = np.random.default_rng(5)
    xs = [gv.Tensor(rng.normal(size=(3,)), label=f"x{k}") for k in range(7)]
    report = gv.check(lambda *xs: sum((x * x).sum() for x in xs), *xs, mode="directional", methods=("finite",))
    out = text.format_report(report, width=80)
    _fits(out, 80)
    assert out.count("judged along the random directions") == 1
    shared = next(line for line in out.splitlines() if "judged along the random directions" in line)
    assert shared.startswith("all 7 inputs:")
    assert [line for line in out.splitlines() if re.match(r"^x\d \(3,\): PASS$", line)] != []


def test_failing_inputs_are_listed_one_by_one_before_the_groups():
    report = _failing_report()
    many = [gv.checking.report.InputResult(f"layer{k // 10}.p{k}", (2,), "PASS") for k in range(30)]
    report.results = report.results[:1] + many
    out = text.input_lines(report)
    assert out[0].startswith("x (3,): FAIL") and "layer0.*: 10 inputs, 20 elements: PASS" in out


class DenseWithTransposedDW(DenseLayerWithALongName):
    """A course's classic slip: dW = (x.T @ dout).T, of shape (n_out, n_in)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW.T
        return dx


def test_failing_rows_come_first_even_when_the_failure_has_no_element_to_compare():
    report = gv.check_layer(DenseWithTransposedDW(bug=False), np.random.default_rng(1).normal(size=(4, 3)))
    assert report.status == "FAIL"
    out = text.format_report(report, width=80)
    _fits(out, 80)
    table = out.split("\n\n")[1].splitlines()
    # the wrong-shaped W leads the table (not ten passing rows of x and b), and its row says why it has no numbers
    assert table[1].split() == ["W", "-", "-", "-", "-", "-", "FAIL"]
    assert "no element compared" in table[2]
    assert [line.split()[-1] for line in table[3:]] == ["PASS"] * (len(table) - 3)
    _wrapped_at_word_boundaries(out, report.verdict)


def test_narrow_terminal_never_cuts_a_name_it_gives_it_a_line_of_its_own():
    report = gv.check_layer(DenseLayerWithALongName(bug=True), np.ones((2, 3)))
    for r in report.results:
        r.name = "encoder.block3.attention.query." + r.name
    for row in report.rows():
        row.input = "encoder.block3.attention.query." + row.input
    out = text.format_report(report, width=60)
    _fits(out, 60)
    assert "…" not in out
    lines = out.splitlines()
    own = lines.index("encoder.block3.attention.query.x")  # the whole name, alone on its line
    assert re.match(r"^ +\[\d,\d\] ", lines[own + 1])  # its rows follow, the name cell left blank
    assert lines.count("encoder.block3.attention.query.x") == 1  # said once for its run of rows
    _wrapped_at_word_boundaries(out, report.verdict)


def test_colour_only_on_the_status_words_and_only_when_asked():
    report = _failing_report()
    plain, coloured = text.format_report(report, width=80), text.format_report(report, width=80, color=True)
    assert "\033[" not in plain
    assert "\033[1;31mFAIL\033[0m" in coloured
    assert coloured.replace("\033[1;31m", "").replace("\033[32m", "").replace("\033[0m", "") == plain


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colour_rules_no_color_force_color_and_non_tty(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert text.use_color(_Terminal()) and not text.use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not text.use_color(_Terminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert text.use_color(io.StringIO())
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not text.use_color(_Terminal())


def test_progress_bar_is_drawn_on_a_terminal_and_erased_at_the_end():
    screen = _Terminal()
    with progress.shown(screen, delay=0.0):
        report = gv.check_layer(DenseLayerWithALongName(bug=False), np.ones((40, 3)))
    assert report.ok
    drawn = screen.getvalue()
    assert "finite differences [" in drawn and "/256 " in drawn  # 2 evaluations x (120 input + 6 W + 2 b)
    assert drawn.endswith("\r\033[K")  # erased: the report printed next starts on a clean line


def test_no_progress_output_off_a_terminal_or_outside_the_command_line():
    pipe = io.StringIO()
    with progress.shown(pipe, delay=0.0):
        gv.check_layer(DenseLayerWithALongName(bug=False), np.ones((4, 3)))
    assert pipe.getvalue() == ""
    with progress.task(10, "anything") as step:  # nobody asked for a bar: a no-op
        step()


# --- teaching vocabulary: whose answer each column holds, the user's names, no index for scalars -----------


def _neuron_inputs():
    x1, x2 = gv.Value(2.0, label="x1"), gv.Value(0.0, label="x2")
    w1, w2 = gv.Value(-3.0, label="w1"), gv.Value(1.0, label="w2")
    b = gv.Value(6.8813735870195432, label="b")
    return x1, w1, x2, w2, b


def test_columns_say_whose_answer_they_hold_and_json_keys_stay():
    report = _failing_report()
    out = text.format_report(report, width=100)
    header = next(line for line in out.splitlines() if line.startswith("input"))
    assert header.split()[:7] == ["input", "index", "yours", "finite", "differences", "SymPy", "abs"]
    assert "autograd" not in header
    assert "| yours | finite differences | SymPy |" in report.to_markdown()
    assert "<th" in report._repr_html_() and ">yours</th>" in report._repr_html_()
    row = report.to_dict()["inputs"][0]["worst"][0]
    assert {"autograd", "finite", "symbolic"} <= set(row)  # JSON keys are stable: scripts keep working


def test_scalars_have_no_index_column():
    x1, w1, x2, w2, b = _neuron_inputs()
    report = gv.check(lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), x1, w1, x2, w2, b)
    out = text.format_report(report, width=80)
    header = next(line for line in out.splitlines() if line.startswith("input"))
    assert "index" not in header and "()" not in out.split("\n\n")[1]
    assert "index" not in report.to_markdown() and ">index<" not in report._repr_html_()
    # the rows still carry each scalar's three answers: d tanh(s)/d w1 = (1 - tanh(s)^2) * x1, a closed form
    s = 2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432
    w1_row = next(line for line in out.splitlines() if line.startswith("w1 "))
    assert float(w1_row.split()[1]) == pytest.approx((1 - np.tanh(s) ** 2) * 2.0, rel=1e-5)


def test_the_check_keeps_the_users_labels_and_names_the_output():
    x1, w1, x2, w2, b = _neuron_inputs()
    x1w1 = x1 * w1; x1w1.label = "x1w1"  # noqa: E702  (tutorial 1's style)
    n = x1w1 + x2 * w2 + b; n.label = "n"  # noqa: E702
    out = n.tanh()
    report = gv.check(lambda x1, w1, x2, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), x1, w1, x2, w2, b)
    names = re.findall(r'label="\{ ([^ |]+)', report.draw().source)
    assert {"x1w1", "n"} <= set(names)  # the user's names, not #3 and #8
    assert "output" in names and not [name for name in names if name == f"#{len(names) - 1}"]
    # a different computation does not take the names: x1 + w1 is not x1 * w1
    other = gv.check(lambda x1, w1, x2, w2, b: (x1 + w1 + x2 * w2 + b).tanh(), x1, w1, x2, w2, b)
    assert "x1w1" not in other.draw().source and "n" not in re.findall(r'label="\{ ([^ |]+)', other.draw().source)
    assert out.label is None  # the user's own graph is untouched
