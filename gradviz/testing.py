"""Gradient checks as assertions, for a user's own test suite.

    def test_my_layer():
        gv.assert_layer(MyDense(4, 3), x)      # raises gv.GradientError, whose message is the report

Each assert_* (assert_gradients, assert_layer, assert_loss, assert_grad_fn,
assert_pair) runs the matching gv.check* with the same arguments and returns
the Report when every gradient agrees, so a test can go on to look at it.
GradientError is an AssertionError: pytest and unittest count it as a test
failure (not an error), and the gradviz pytest plugin shows its report and
draws it with --gradviz-render.
"""

from __future__ import annotations

from typing import Any, Callable

from .checking.core import check
from .checking.handwritten import check_grad_fn, check_layer, check_loss, check_pair
from .checking.report import Report
from .checking.text import format_report, terminal_width

PYTEST_INDENT = 8


class GradientError(AssertionError):
    """A gradient check failed; ``str(error)`` is the full report, ``error.report`` the Report."""

    def __init__(self, report: Report):
        # pytest indents a failure message by 8 columns ("E       "): leave room so each line still fits
        super().__init__(format_report(report, width=terminal_width() - PYTEST_INDENT))
        self.report = report


GradientError.__module__ = "gradviz"  # tracebacks say gradviz.GradientError, the name users write


def require(report: Report) -> Report:
    """The report itself when it is ok, else GradientError carrying it."""
    __tracebackhide__ = True  # pytest: show the caller's line, not this one
    if not report.ok:
        raise GradientError(report)
    return report


def assert_gradients(fn: Callable, *inputs: Any, **options: Any) -> Report:
    """gv.check(fn, *inputs, **options), raising GradientError unless every gradient agrees."""
    __tracebackhide__ = True
    return require(check(fn, *inputs, **options))


def assert_layer(obj: Any, x: Any, *args: Any, **options: Any) -> Report:
    """gv.check_layer(obj, x, ...), raising GradientError unless every gradient agrees."""
    __tracebackhide__ = True
    return require(check_layer(obj, x, *args, **options))


def assert_loss(obj: Any, *args: Any, **options: Any) -> Report:
    """gv.check_loss(obj, ...), raising GradientError unless every gradient agrees."""
    __tracebackhide__ = True
    return require(check_loss(obj, *args, **options))


def assert_grad_fn(f: Callable, grad_f: Callable, *args: Any, **options: Any) -> Report:
    """gv.check_grad_fn(f, grad_f, ...), raising GradientError unless every gradient agrees."""
    __tracebackhide__ = True
    return require(check_grad_fn(f, grad_f, *args, **options))


def assert_pair(forward: Callable, backward: Callable, *args: Any, **options: Any) -> Report:
    """gv.check_pair(forward, backward, ...), raising GradientError unless every gradient agrees."""
    __tracebackhide__ = True
    return require(check_pair(forward, backward, *args, **options))
