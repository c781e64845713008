"""gv.check_engine on students' own scalar autograd engines, written in five styles, correct and with planted bugs.

Each planted bug is one edit of a correct engine's source (the way a student
gets it wrong); the test asserts the verdict, the method named and the cause.
The oracles are the op table, SymPy and central differences inside the check;
the correct engines passing and each single edit failing is what is tested.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gradviz as gv
from gradviz.checking.diagnosis.catalogue import CAUSES
from gradviz.checking.report import ERROR, FAIL, SKIPPED

HERE = Path(__file__).resolve().parent / "engines"
ROOT = HERE.parent.parent
STYLES = {"micrograd_style": "Value", "tensor_style": "Tensor", "parents_style": "Node", "dict_style": "Scalar",
          "recursive_style": "Var", "slots_style": "Scalar"}


def load(tmp_path: Path, style: str, old: str = "", new: str = "", name: str = "engine"):
    return load_style(tmp_path, style, STYLES[style], ((old, new),) if old else (), name)


def load_style(tmp_path: Path, style: str, cls: str, edits: tuple = (), name: str = "engine"):
    """tests/engines/STYLE.py with the planted edits, imported from tmp_path: (its class CLS, the file)."""
    source = (HERE / f"{style}.py").read_text()
    for old, new in edits:
        assert old in source, f"the planted edit does not apply to {style}: {old!r}"
        source = source.replace(old, new, 1)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"{style}_{abs(hash(source))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return getattr(module, cls), path


def failing(report, method: str):
    return [r for r in report.results if r.name.startswith(method + " (") and r.status in (FAIL, ERROR)]


@pytest.mark.parametrize("style", STYLES)
def test_a_correct_engine_passes_with_every_operation_listed(tmp_path, style):
    cls, _ = load(tmp_path, style)
    report = gv.check_engine(cls)
    assert report.ok, report
    checked = report.settings["checked"]
    for dunder in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                   "__rtruediv__", "__pow__", "__neg__"):
        assert f"{cls.__name__}.{dunder}" in checked
    assert "passes" in report.verdict
    unsupported = [r for r in report.results if "(a ** b)" in r.name]
    assert unsupported[0].status == SKIPPED and "unsupported" in unsupported[0].message


def test_module_level_functions_and_named_methods_are_found(tmp_path):
    cls, _ = load(tmp_path, "tensor_style")
    report = gv.check_engine(cls)
    assert {"F.tanh", "F.exp"} <= set(report.settings["checked"])
    assert report.settings["engine"]["number"] == "value" and report.settings["engine"]["parents"] == "children"
    cls, _ = load(tmp_path, "parents_style", name="p")
    assert {"Node.sigmoid", "Node.log"} <= set(gv.check_engine(cls).settings["checked"])


# (style, edit from, edit to, method named, cause, status)
PLANTED = [
    ("micrograd_style", "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
     "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
     "Value.__mul__", "assignment_not_accumulation", FAIL),
    ("micrograd_style", "self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - self.data ** 2) * out.grad",
     "Value.tanh", "pre_activation", FAIL),
    ("micrograd_style", "self.grad += other * self.data ** (other - 1) * out.grad",
     "self.grad += self.data ** (other - 1) * out.grad", "Value.__pow__", "missing_factor", FAIL),
    ("micrograd_style", "            self.grad += other.data * out.grad", "            self.grad += self.data * out.grad",
     "Value.__mul__", "wrong_operand", FAIL),
    ("micrograd_style", "self.grad += out.data * out.grad", "self.grad += out.grad", "Value.exp", "missing_factor",
     FAIL),
    ("micrograd_style", "self.grad += (out.data > 0) * out.grad", "self.grad += (out.data <= 0) * out.grad",
     "Value.relu", "mask_inverted", FAIL),
    ("micrograd_style", "            other.grad += out.grad\n", "", "Value.__add__", "operand_without_gradient", FAIL),
    ("micrograd_style", "return other + (-self)", "return self + (-other)", "Value.__rsub__",
     "swapped_reflected_operands", FAIL),
    ("micrograd_style", "Value(self.data * other.data, (self, other), '*')",
     "Value(self.data + other.data, (self, other), '*')", "Value.__mul__", "forward_mismatch", FAIL),
    ("micrograd_style", "    def __neg__(self):\n        return self * -1\n", "", "Value.__sub__", "missing_operation",
     ERROR),
    ("tensor_style", "child.grad += local * node.grad", "child.grad = local * node.grad", "Tensor.backward",
     "assignment_not_accumulation", FAIL),
    ("tensor_style", 'return [1.0 - self.value ** 2]', 'return [1.0 - self.children[0].value ** 2]', "F.tanh",
     "pre_activation", FAIL),
    ("tensor_style", 'return [b * a ** (b - 1), 0.0]', 'return [a ** (b - 1), 0.0]', "Tensor.__pow__",
     "missing_factor", FAIL),
    ("tensor_style", "return [b, a]", "return [b, 0.0]", "Tensor.__mul__", "operand_without_gradient", FAIL),
    ("tensor_style", "return Tensor(other) - self", "return self - Tensor(other)", "Tensor.__rsub__",
     "swapped_reflected_operands", FAIL),
    ("tensor_style", 'Tensor(self.value / other.value, [self, other], "div")',
     'Tensor(self.value / other.value ** 2, [self, other], "div")', "Tensor.__truediv__", "forward_mismatch", FAIL),
    ("parents_style", "self.grad += s * (1 - s) * g", "self.grad += self.val * (1 - self.val) * g", "Node.sigmoid",
     "pre_activation", FAIL),
    ("parents_style", "self.grad += g\n            other.grad += g", "self.grad = g\n            other.grad = g",
     "Node.__add__", "assignment_not_accumulation", FAIL),
    ("parents_style", "self.grad += k * self.val ** (k - 1) * g", "self.grad += self.val ** (k - 1) * g",
     "Node.__pow__", "missing_factor", FAIL),
    ("parents_style", "return Node.lift(other) / self", "return self / Node.lift(other)", "Node.__rtruediv__",
     "swapped_reflected_operands", FAIL),
    ("dict_style", "return (1.0 if a > 0 else 0.0,)", "return (0.0 if a > 0 else 1.0,)", "Scalar.relu",
     "mask_inverted", FAIL),
    ("dict_style", "return 1.0 / b, -a / (b * b)", "return 1.0 / a, -b / (a * a)", "Scalar.__truediv__",
     "wrong_operand", FAIL),
    ("dict_style", "return (k * a ** (k - 1),)", "return (a ** (k - 1),)", "Scalar.__pow__", "missing_factor", FAIL),
    ("dict_style", "        order = _topological(self)\n", "", "Scalar.backward", "topological_order", FAIL),
    ("dict_style", "return (1.0 - out * out,)", "return (1.0 - a * a,)", "Scalar.tanh", "pre_activation", FAIL),
    ("dict_style", "return 1.0 / b, -a / (b * b)", "return 1.0 / b, 0.0", "Scalar.__truediv__",
     "operand_without_gradient", FAIL),
    ("micrograd_style", "        out._backward = _backward\n        return out\n\n    def exp",
     "        self._backward = _backward\n        return out\n\n    def exp", "Value.tanh", "own_output", FAIL),
    ("micrograd_style", "    def __add__(self, other):\n        other = other if isinstance(other, Value) else Value(other)\n",
     "    def __add__(self, other):\n", "Value.__add__", "operation_raised", ERROR),
    ("tensor_style", "        return Tensor(self.value - other.value, [self, other], \"sub\")\n",
     "        return Tensor(self.value - other.value, [self, other], \"sub\")\n\n    __sub__ = None\n",
     "Tensor.__rsub__", "missing_operation", ERROR),
    ("tensor_style", "                stack.extend((child, False) for child in node.children)",
     "                stack.extend((child, False) for child in node.children)\n        order = _breadth_first(self)",
     "Tensor.backward", "topological_order", FAIL),
    ("parents_style", "s = 1 / (1 + math.exp(-self.val)) if", "s = 1 / (1 + math.exp(self.val)) if", "Node.sigmoid",
     "forward_mismatch", FAIL),
    ("parents_style", "            other.grad += self.val * g\n", "", "Node.__mul__", "operand_without_gradient", FAIL),
    ("parents_style", "    def __neg__(self):\n        return self * -1\n", "", "Node.__sub__", "missing_operation",
     ERROR),
    ("dict_style", "return self._make(self.data / other.data, (self, other), \"/\")",
     "return self._make(other.data / self.data, (self, other), \"/\")", "Scalar.__truediv__", "forward_mismatch",
     FAIL),
    ("dict_style", "return Scalar(other) / self", "return self / Scalar(other)", "Scalar.__rtruediv__",
     "swapped_reflected_operands", FAIL),
    ("dict_style", "x.grad += local * node.grad", "x.grad = local * node.grad", "Scalar.backward",
     "assignment_not_accumulation", FAIL),
    ("dict_style", "    def __neg__(self):\n        return self * -1.0\n", "", "Scalar.__sub__", "missing_operation",
     ERROR),
    ("recursive_style", "return Var(other) / self", "return self / Var(other)", "Var.__rtruediv__",
     "swapped_reflected_operands", FAIL),
    ("recursive_style", "return Var(self.v + other.v, ((self, 1.0), (other, 1.0)))",
     "return Var(self.v + 2 * other.v, ((self, 1.0), (other, 1.0)))", "Var.__add__", "forward_mismatch", FAIL),
    ("recursive_style", "    def __neg__(self):\n        return Var(-self.v, ((self, -1.0),))\n", "", "Var.__sub__",
     "missing_operation", ERROR),
    ("slots_style", "lambda g: (g * s * (1 - s),)", "lambda g: (g * self.value * (1 - self.value),)",
     "Scalar.sigmoid", "pre_activation", FAIL),
    ("slots_style", "lambda g: (g * (self.value > 0),)", "lambda g: (g * (self.value <= 0),)", "Scalar.relu",
     "mask_inverted", FAIL),
    ("slots_style", "self.grad = g if self.grad is None else self.grad + g", "self.grad = g", "Scalar._acc",
     "assignment_not_accumulation", FAIL),
    ("slots_style", "lambda g: (g * o.value, g * self.value))", "lambda g: (g * o.value, 0.0))", "Scalar.__mul__",
     "operand_without_gradient", FAIL),
    ("recursive_style", "self.grad += grad", "self.grad = grad", "Var.backward", "assignment_not_accumulation", FAIL),
    ("recursive_style", "return Var(t, ((self, 1 - t * t),))", "return Var(t, ((self, 1 - self.v * self.v),))",
     "Var.tanh", "pre_activation", FAIL),
    ("recursive_style", "return Var(e, ((self, e),))", "return Var(e, ((self, 1.0),))", "Var.exp", "missing_factor",
     FAIL),
    ("recursive_style", "return Var(self.v * other.v, ((self, other.v), (other, self.v)))",
     "return Var(self.v * other.v, ((self, other.v), (other, 0.0)))", "Var.__mul__", "operand_without_gradient",
     FAIL),
]


@pytest.mark.parametrize("style, old, new, method, cause, status", PLANTED,
                         ids=[f"{p[0]}-{p[3]}-{p[4]}" for p in PLANTED])
def test_a_planted_bug_is_named_by_method_and_cause(tmp_path, style, old, new, method, cause, status):
    cls, _ = load(tmp_path, style, old, new)
    report = gv.check_engine(cls)
    assert not report.ok
    assert report.status in (FAIL, ERROR)
    assert method in report.verdict, report.verdict
    causes = [d.cause for r in report.results if r.status in (FAIL, ERROR) for d in r.diagnosis]
    assert cause in causes, (causes, report.verdict)
    named = [r for r in report.results if r.status == status and any(d.cause == cause for d in r.diagnosis)]
    assert any(method in r.name or method in str(r.diagnosis[0]) for r in named)
    assert cause in CAUSES


def test_the_rule_line_is_quoted_from_the_students_file(tmp_path):
    cls, path = load(tmp_path, "micrograd_style", "self.grad += other.data * out.grad",
                     "self.grad = other.data * out.grad")
    report = gv.check_engine(cls)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "self.grad = other.data" in text)
    assert f"engine.py:{line}" in report.verdict and "self.grad = other.data * out.grad" in report.verdict


def test_an_undefined_reflected_op_is_a_note_and_a_raising_one_is_an_error_with_its_line(tmp_path):
    cls, _ = load(tmp_path, "micrograd_style", "    def __rsub__(self, other):\n        return other + (-self)\n", "")
    report = gv.check_engine(cls)
    assert report.ok
    [rsub] = [r for r in report.results if "(1.5 - a)" in r.name]
    assert rsub.status == SKIPPED and any("__rsub__" in n for n in report.notes)
    cls, path = load(tmp_path, "micrograd_style", "    def __neg__(self):\n        return self * -1\n", "", "e2")
    report = gv.check_engine(cls)
    [rsub] = [r for r in report.results if "(1.5 - a)" in r.name]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "return other + (-self)" in text)
    assert rsub.status == ERROR and f"e2.py:{line}" in rsub.message and "__neg__" in str(rsub.diagnosis[0])
    assert any(r.status != ERROR for r in report.results if "(a * b)" in r.name)  # the others were still checked


def test_a_recursive_backward_is_a_finding_with_its_depth_not_a_crash(tmp_path):
    cls, _ = load(tmp_path, "recursive_style")
    report = gv.check_engine(cls)
    [deep] = [r for r in report.results if "chain of 2000" in r.name]
    assert deep.status == SKIPPED and deep.diagnosis[0].cause == "recursive_topological_order"
    depth = int(str(deep.diagnosis[0]).split("chain of ")[1].split()[0])
    assert 100 < depth <= sys.getrecursionlimit()
    cls, _ = load(tmp_path, "dict_style", name="d")
    assert [r for r in gv.check_engine(cls).results if "chain of 2000" in r.name][0].status == "PASS"


def test_backward_twice_is_a_note_with_the_measured_factor(tmp_path):
    cls, _ = load(tmp_path, "micrograd_style")
    report = gv.check_engine(cls)
    [note] = [n for n in report.notes if getattr(n, "cause", "") == "stale_gradients"]
    # (c + a) * c with c = a * b at a=0.6, b=-1.1: recomputed by hand from micrograd's rules run twice
    assert "8.5" in note and report.ok


def test_a_class_that_is_not_an_engine_gets_a_usage_message(tmp_path):
    class Dense:
        def __init__(self, n):
            self.n = n

        def forward(self, x):
            return x

    with pytest.raises(gv.GradvizError, match=r"no gradient attribute.*no backward\(\) method"):
        gv.check_engine(Dense)


def test_the_students_graph_is_drawn_with_the_verdict_on_each_op(tmp_path):
    cls, _ = load(tmp_path, "micrograd_style", "self.grad += (1 - t ** 2) * out.grad",
                  "self.grad += (1 - self.data ** 2) * out.grad")
    a, b = cls(2.0, label="a"), cls(-3.0, label="b")
    out = (a * b + a).tanh()
    out.backward()
    plain = gv.draw(out).source
    assert "{ a | data 2 |" in plain and "{ b | data -3 |" in plain and "label=tanh" in plain
    drawn = gv.draw(out, report=gv.check_engine(cls)).source
    ops = {line.split("label=")[1].split()[0].strip('"'): line for line in drawn.splitlines()
           if line.strip().startswith("o") and " [label=" in line}
    assert 'fillcolor="#b7e1a1"' in ops["*"] and 'fillcolor="#b7e1a1"' in ops["+"]  # PASS: right alone
    assert 'fillcolor="#f4a6a6"' in ops["tanh"] and "first wrong rule" in drawn and "pre-activation" in drawn
    page = gv.animate_backward(out, tmp_path / "steps.html").read_text()
    assert page.count("<svg") == 4  # before backward, then one frame per op node: tanh, +, *


def test_a_deep_student_graph_draws_and_an_engine_without_per_node_rules_cannot_be_stepped(tmp_path):
    cls, _ = load(tmp_path, "tensor_style")
    x = cls(0.5)
    for _ in range(3000):  # deeper than any recursion would go
        x = x + 0.001
    x.backward()
    assert gv.draw(x, collapse=False).source.count("label=add") == 3000
    with pytest.raises(gv.GradvizError, match="per-node rule"):
        gv.animate_backward(cls(1.0) * cls(2.0))
    node, _ = load(tmp_path, "parents_style", name="p")
    a, b = node(0.5), node(-1.5)
    out = (a * b).sigmoid()
    out.backward(1.0)
    assert gv.animate_backward(out, tmp_path / "p.html").read_text().count("<svg") == 3
    scalar, _ = load(tmp_path, "slots_style", name="s")  # rules that return gradients instead of adding them
    a, b = scalar(0.5), scalar(1.5)
    out = (a * b + a).relu()
    out.backward()
    from gradviz.rendering import foreign
    from gradviz.rendering.animate import backward_steps

    steps = backward_steps(foreign.adapt_root(out))
    assert steps[-1].grads[id(steps[-1].changed[0])] in (2.5, 0.5)  # a.grad = b + 1, b.grad = a: by hand
    assert sorted(v for v in steps[-1].grads.values())[-2:] == [1.0, 2.5] and a.grad == 2.5 and b.grad == 0.5


def run_cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gradviz", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_command_line_checks_renders_and_grades_an_engine(tmp_path):
    load(tmp_path, "micrograd_style", "self.grad += out.data * out.grad", "self.grad += out.grad")
    done = run_cli("check", "engine.py:Value", "--json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    causes = [d["cause"] for r in doc["reports"][0]["inputs"] for d in r["diagnosis"]]
    assert "missing_factor" in causes
    done = run_cli("render", "engine.py:Value", "-o", "g.svg", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "g.svg").read_text().count("<svg") == 1
    (tmp_path / "notes.py").write_text("class Thing:\n    def backward(self):\n        pass\n"
                                       "    def __add__(self, o):\n        return self\n")
    done = run_cli("check", "notes.py:Thing", cwd=tmp_path)
    assert done.returncode == 2 and "not a scalar autograd engine" in done.stderr
    from gradviz.grade.spec import load_spec

    spec = tmp_path / "grading.toml"
    spec.write_text('[[target]]\nname = "engine"\ncheck = "engine.py:Value"\npoints = 5\n')
    assert load_spec(spec).targets[0].checks[0].argv == ("engine.py:Value",)


def test_gradviz_grade_refuses_to_trust_an_engine_check_run_in_the_students_process(tmp_path):
    """The grader computes verdicts outside the student's process; an engine battery cannot be served yet,
    so its row is ERROR saying why, never a grade the student's own process could have forged."""
    folder = tmp_path / "subs" / "alice"
    folder.mkdir(parents=True)
    load(folder, "micrograd_style", "", "")
    (tmp_path / "grading.toml").write_text('[[target]]\nname = "engine"\ncheck = "engine.py:Value"\npoints = 5\n')
    done = run_cli("grade", "subs", "--spec", "grading.toml", "--out", "results", "--no-sandbox", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    row = next(line for line in (tmp_path / "results" / "gradebook.csv").read_text().splitlines()
               if line.startswith("alice,"))
    assert row.startswith("alice,0,0,5,ERROR") and "autograd engine" in row and "gradviz check engine.py:Value" in row


def test_the_engine_tutorial_says_true_things():
    sys.path.insert(0, str(ROOT / "docs"))
    import pages

    page = pages.EXECUTED.get("tutorial-engine.md") or pages.run_page(Path(pages.DOCS) / "tutorial-engine.md")
    shown = [output.text() for output in page.outputs]
    assert shown[0].startswith("Value passes") and "does not define __rsub__" in shown[0]
    assert "unsupported" in shown[0]  # a ** b
    assert shown[1].startswith("FAIL: Assigns.__mul__ assigns the gradient")
    assert "python block 2:6 in Assigns.__mul__._backward: `self.grad = other.data * out.grad`" in shown[1]
    causes = {line.split(" | ")[1] for line in shown[2].splitlines()}
    assert causes == {"pre_activation", "missing_factor", "built_on_wrong_op"}
    assert "first wrong rule" in page.namespace["gv"].draw(page.namespace["out"],
                                                           report=page.namespace["report"]).source
    lecture = next(text for text in shown if text.startswith("PASS | Lecture passes"))
    assert "Lecture.tanh overflows on tanh(800)" in lecture and "python block 5:4" in lecture
    torchlike = next(text for text in shown if text.startswith("parents: grad_fn.inputs"))
    assert "FAIL: Scalar.tanh: half of the product sech(x) * sech(x) is missing" in torchlike
    assert "in Tanh.backward: `return (g / math.cosh(self.inputs[0].data),)" in torchlike
    assert page.namespace["torchlike"].results[0].status == "PASS"  # a + b: the other ops still pass


def test_a_gradient_kept_under_another_name_is_found_and_a_backward_that_writes_nothing_is_refused(tmp_path):
    source = (HERE / "parents_style.py").read_text().replace(".grad", ".g")  # the gradient lives in .g ...
    source = source.replace("        self.g = 0.0\n", "        self.g = 0.0\n        self.grad = 0.0\n")  # ... .grad is a decoy
    (tmp_path / "renamed.py").write_text(source)
    spec = importlib.util.spec_from_file_location("renamed_engine", tmp_path / "renamed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = gv.check_engine(module.Node)  # .grad stays 0: .g is where backward() writes
    assert report.ok and report.settings["engine"]["grad"] == "g"
    assert any(".g" in n and "read as the gradient" in n for n in report.notes)
    lazy, _ = load(tmp_path, "dict_style", "        self.grad = 1.0\n        for node in order:", "        return\n"
                   "        for node in order:", name="lazy")
    with pytest.raises(gv.GradvizError, match="no number on a or b changed"):
        gv.check_engine(lazy)
