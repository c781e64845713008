"""Engines as students really write them: the lecture's tanh through math.exp, ops as classes, rules in the forward.

A correct engine must pass (exit 0) and one planted edit must fail with its cause. The oracles are the
check's own (the op table, SymPy, central differences); here the tests also recompute by hand what a
verdict quotes (a line number, a true derivative) so a wrong quote fails.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gradviz as gv
from gradviz.checking.report import ERROR, FAIL, PASS, SKIPPED
from gradviz.checking.text import scope_parts
from test_engines import load_style

HERE = Path(__file__).resolve().parent / "engines"
ROOT = HERE.parent.parent


load = load_style  # tests/test_engines.py: one way to import a planted engine


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def run_cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, env=env, capture_output=True, text=True)


# -- an overflow at a large input is a note -------------------------------------------


def test_the_lectures_engine_passes_with_a_note_where_tanh_and_sigmoid_overflow(tmp_path):
    cls, path = load(tmp_path, "lecture_style", "Value")
    report = gv.check_engine(cls)
    assert report.ok and report.status == PASS, report.verdict
    assert report.verdict.startswith("Value passes") and "Value.tanh overflows on tanh(800)" in report.verdict
    assert "Value.sigmoid overflows on sigmoid(-800)" in report.verdict
    notes = {n.split()[0]: n for n in report.notes if getattr(n, "cause", "") == "overflow"}
    assert set(notes) == {"Value.tanh", "Value.sigmoid"}
    tanh_line = line_of(path, "t = (math.exp(2 * z) - 1)")
    assert f"engine.py:{tanh_line}" in notes["Value.tanh"] and "math.tanh(x)" in notes["Value.tanh"]
    assert f"engine.py:{line_of(path, 's = 1.0 / (1.0 + math.exp')}" in notes["Value.sigmoid"]
    assert "math.exp(x) / (1 + math.exp(x)) when x < 0" in notes["Value.sigmoid"]
    large = [r for r in report.results if "(a large input)" in r.name]
    assert {r.name: r.status for r in large} == {"Value.tanh (tanh(800) (a large input))": SKIPPED,
                                                 "Value.tanh (tanh(-800) (a large input))": PASS,
                                                 "Value.sigmoid (sigmoid(800) (a large input))": PASS,
                                                 "Value.sigmoid (sigmoid(-800) (a large input))": SKIPPED}
    a = cls(0.3)  # the verdict is right because the engine is: tanh' = 1 - tanh^2, by hand
    a.tanh().backward()
    assert math.isclose(a.grad, 1 - math.tanh(0.3) ** 2)
    done = run_cli("check", "engine.py:Value", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("gradviz check of Value: PASS") and "note: Value.tanh overflows" in done.stdout


def test_a_planted_bug_beside_the_overflow_still_fails_and_the_header_and_verdict_agree(tmp_path):
    cls, path = load(tmp_path, "lecture_style", "Value", (("self.grad += out.data * out.grad",
                                                           "self.grad += self.data * out.grad"),))
    report = gv.check_engine(cls)
    assert report.status == FAIL and report.verdict.startswith("FAIL: Value.exp"), report.verdict
    assert f"engine.py:{line_of(path, 'self.grad += self.data * out.grad')}" in report.verdict
    assert any(getattr(n, "cause", "") == "overflow" for n in report.notes)
    # an operation that raises (ERROR) next to a wrong one (FAIL): the header says ERROR, so does the verdict
    cls, _ = load(tmp_path, "lecture_style", "Value", (("self.grad += out.data * out.grad",
                                                        "self.grad += self.data * out.grad"),
                                                       ("    def __neg__(self):\n        return self * -1\n", "")),
                  name="both")
    report = gv.check_engine(cls)
    assert report.status == ERROR and report.verdict.startswith("ERROR: Value.__sub__ needs Value.__neg__")
    assert "more below" in report.verdict


def test_an_overflow_to_nan_is_a_note_but_nan_at_a_moderate_input_or_a_wrong_number_at_800_fails(tmp_path):
    numpy_tanh = ("        z = self.data\n        t = (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1)\n",
                  "        e = np.exp(2 * np.float64(self.data))\n        t = (e - 1) / (e + 1)\n")
    imports = ("import math\n", "import math\n\nimport numpy as np\n")
    cls, _ = load(tmp_path, "lecture_style", "Value", (imports, numpy_tanh), name="npt")
    with pytest.warns(RuntimeWarning):  # numpy says exp(1600) overflowed: inf / inf is nan
        report = gv.check_engine(cls)
    assert report.ok, report.verdict
    [note] = [n for n in report.notes if n.startswith("Value.tanh overflows")]
    assert "tanh(800) gives nan where the true value is 1" in note
    # the same tanh with t**2 written as exp(2 log t): right for t > 0, nan for t < 0 (moderate inputs)
    cls, _ = load(tmp_path, "lecture_style", "Value", (imports, numpy_tanh, (
        "self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - np.exp(2 * np.log(t))) * out.grad")), name="npl")
    with pytest.warns(RuntimeWarning):
        report = gv.check_engine(cls)
    [alone] = [r for r in report.results if r.name == "Value.tanh (a.tanh())"]
    assert alone.status == FAIL and report.verdict.startswith("FAIL: Value.tanh")
    assert any(math.isnan(r.autograd) and r.status == FAIL for r in alone.rows)
    # a guard against overflow with a wrong sign: finite, wrong at -800 only, and a failure
    guard = ("        z = self.data\n        t = (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1)\n",
             "        z = self.data\n        if abs(z) > 20:\n            t = 1.0\n        else:\n"
             "            t = (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1)\n")
    cls, _ = load(tmp_path, "lecture_style", "Value", (guard,), name="guard")
    report = gv.check_engine(cls)
    [wrong] = [r for r in report.results if r.name == "Value.tanh (tanh(-800) (a large input))"]
    assert wrong.status == FAIL and wrong.diagnosis[0].cause == "overflow" and not report.ok
    assert "gives 1 where the true value is -1" in wrong.message
    assert not [n for n in report.notes if n.startswith("Value.tanh overflows")]


# -- parents one level down: ops as classes -------------------------------------------


def test_ops_as_classes_are_read_through_the_creators_parents_and_a_wrong_backward_is_named(tmp_path):
    cls, _ = load(tmp_path, "op_class_style", "Tensor")
    report = gv.check_engine(cls)
    assert report.ok and report.verdict.startswith("Tensor passes"), report.verdict
    assert report.settings["engine"]["parents"] == "creator.parents"
    assert {"Tensor.tanh", "Tensor.__truediv__", "Tensor.__rsub__"} <= set(report.settings["checked"])
    a, b = cls(0.8), cls(-0.6)
    out = (a * b + a).tanh()
    out.backward()
    assert gv.draw(out).source.count("label=") >= 5  # a, b and three ops, walked through creator.parents
    planted = ("return (up * (1 - t * t),)", "return (up * (1 - t),)")  # tanh' written as 1 - t
    cls, path = load(tmp_path, "op_class_style", "Tensor", (planted,), name="bug")
    report = gv.check_engine(cls)
    line = line_of(path, "return (up * (1 - t),)")
    assert report.status == FAIL and report.verdict.startswith("FAIL: Tensor.tanh")
    assert f"bug.py:{line} in Tanh.backward: `return (up * (1 - t),)`" in report.verdict
    [alone] = [r for r in report.results if r.name == "Tensor.tanh (a.tanh())"]
    assert alone.diagnosis[0].cause == "one_minus_y"
    sech = (("self.memo = (math.tanh(x),)", "self.memo = (math.tanh(x), x)"),
            ("(t,) = self.memo\n        return (up * (1 - t * t),)", "t, x = self.memo\n        return (up / math.cosh(x),)"))
    cls, path = load(tmp_path, "op_class_style", "Tensor", sech, name="sech")  # sech where sech**2 belongs
    report = gv.check_engine(cls)
    assert f"sech.py:{line_of(path, 'return (up / math.cosh(x),)')} in Tanh.backward" in report.verdict
    [alone] = [r for r in report.results if r.name == "Tensor.tanh (a.tanh())"]
    assert alone.diagnosis[0].cause == "dropped_product_term" and "1 / cosh(x)**2" in alone.diagnosis[0]


def test_parents_kept_deeper_are_refused_with_where_gradviz_looked_and_named_with_parents(tmp_path):
    deeper = (("        result.creator = self\n", "        result.node = Node(self)\n"),
              ("class Add(Function):", "class Node:\n    def __init__(self, fn):\n        self.fn = fn\n\n\n"
                                       "class Add(Function):"),
              ("        self.creator = None\n", "        self.node = None\n"),
              ("                if node.creator is not None:\n                    stack.extend((p, False) for p in "
               "node.creator.parents)", "                if node.node is not None:\n                    stack.extend("
               "(p, False) for p in node.node.fn.parents)"),
              ("            if node.creator is not None:\n                for parent, g in zip(node.creator.parents, "
               "node.creator.backward(node.grad)):", "            if node.node is not None:\n                fn = "
               "node.node.fn\n                for parent, g in zip(fn.parents, fn.backward(node.grad)):"))
    cls, _ = load(tmp_path, "op_class_style", "Tensor", deeper, name="deep")
    with pytest.raises(gv.GradvizError) as refused:
        gv.check_engine(cls)
    said = str(refused.value)
    assert ".node" in said and ".node.fn" in said and 'parents="grad_fn.inputs"' in said and "--parents" in said
    report = gv.check_engine(cls, parents="node.fn.parents")
    assert report.ok and report.settings["engine"]["parents"] == "node.fn.parents"
    with pytest.raises(gv.GradvizError, match=r"parents='node' does not hold a and b .*it holds Node"):
        gv.check_engine(cls, parents="node")
    done = run_cli("check", "deep.py:Tensor", "--parents", "node.fn.parents", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["reports"][0]["status"] == PASS
    done = run_cli("check", "deep.py:Tensor", cwd=tmp_path)
    assert done.returncode == 2 and "--parents" in done.stderr and "Traceback" not in done.stderr
    done = run_cli("render", "deep.py:Tensor", "--parents", "node.fn.parents", "-o", "deep.svg", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "deep.svg").exists(), done.stderr
    done = run_cli("check", "tanh(w * x)", "--parents", "grad_fn.inputs", cwd=tmp_path)
    assert done.returncode == 2 and "--parents grad_fn.inputs is for autograd engine classes" in done.stderr


# -- where a rule kept in the forward is quoted, and numbers in names ---------------------


def test_a_rule_computed_in_the_forward_is_quoted_at_the_line_that_builds_the_node(tmp_path):
    slip = ("return Var(self.v ** n, ((self, n * self.v ** (n - 1)),))", "return Var(self.v ** n, ((self, n * self.v "
            "** n - 1),))")  # n * x**n - 1: the parentheses forgotten
    cls, path = load(tmp_path, "recursive_style", "Var", (slip,))
    report = gv.check_engine(cls)
    line = line_of(path, "n * self.v ** n - 1")
    assert line_of(path, "def __pow__") == line - 1
    assert f"engine.py:{line} in Var.__pow__: `return Var(self.v ** n" in report.verdict, report.verdict
    assert report.verdict.startswith("FAIL: Var.__pow__'s power rule has its parentheses misplaced")
    powers = [r for r in report.results if r.name.startswith("Var.__pow__ (a ** ") and r.status == FAIL]
    assert len(powers) == 4 and all(r.diagnosis[0].cause == "power_rule_precedence" for r in powers)
    a = cls(1.3)  # what the slip computes, by hand: 3 * 1.3**3 - 1, not 3 * 1.3**2
    (a ** 3).backward()
    assert math.isclose(a.grad, 3 * 1.3 ** 3 - 1) and not math.isclose(a.grad, 3 * 1.3 ** 2)
    # a constructor call spread over two lines is quoted whole
    two_lines = ("return Var(self.v ** n, ((self, n * self.v ** (n - 1)),))",
                 "return Var(self.v ** n,\n                   ((self, n * self.v ** n - 1),))")
    cls, path = load(tmp_path, "recursive_style", "Var", (two_lines,), name="two")
    report = gv.check_engine(cls)
    assert f"two.py:{line_of(path, 'return Var(self.v ** n,')} in Var.__pow__: `return Var(self.v ** n, ((self, " \
           "n * self.v ** n - 1),))`" in report.verdict, report.verdict


def test_scopes_of_names_never_cut_a_number(tmp_path):
    assert scope_parts("Variable.__add__ (a + 1.5)") == ["Variable", "__add__ (a + 1.5)"]
    assert scope_parts("layer0.neuron1.w2") == ["layer0", "neuron1", "w2"]
    assert scope_parts("parameters['W1.b'].x") == ["parameters['W1.b']", "x"]
    assert scope_parts("x 1.5") == ["x 1.5"]
    cls, _ = load(tmp_path, "lecture_style", "Value")
    text = str(gv.check_engine(cls))
    grouped = [line for line in text.splitlines() if ".*:" in line]
    assert grouped and all(line.startswith("Value.*:") for line in grouped), grouped
