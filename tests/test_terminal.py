"""Terminal output of a Report: one-line repr, the text layout module."""

import numpy as np

import gradviz as gv
from gradviz.checking import text

from oracles import wrong_tanh

WrongTanh = wrong_tanh()


def _failing_report():
    x = gv.Tensor(np.array([0.3, -0.8, 1.1]), label="x")
    w = gv.Tensor(np.array([0.5, 0.2, -0.4]), label="w")
    return gv.check(lambda x, w: WrongTanh.apply(x * w).sum(), x, w)


def test_repr_is_one_line_naming_the_wrong_inputs():
    report = _failing_report()
    line = repr(report)
    assert "\n" not in line and len(line) < 120
    assert line.startswith("<Report ") and "FAIL" in line
    assert "wrong: x, w" in line


def test_repr_of_a_passing_report_says_pass():
    report = gv.check(lambda a: (a * a).tanh(), gv.Value(0.7, label="a"))
    assert report.ok
    line = repr(report)
    assert "\n" not in line and ": PASS;" in line and "wrong" not in line


def test_str_is_the_text_module_layout():
    report = _failing_report()
    assert str(report) == text.format_report(report)
    assert str(report).splitlines()[0].startswith("gradviz check of")
