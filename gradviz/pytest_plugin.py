"""The gradviz pytest plugin (registered through the `pytest11` entry point, name `gradviz`).

- A test that fails with gv.GradientError already shows the report as its
  message; the plugin adds nothing to that, except the drawing below.
- The `gradviz_report` fixture attaches reports to a test:
  ``report = gradviz_report(gv.check(...))``. When the test fails (say on
  ``assert report.ok``), each attached report is printed in full in a
  "gradviz report" section, diagnosis included.
- ``--gradviz-render DIR`` saves the verdict drawing (an SVG) of every report
  of every failing test to DIR and lists the files at the end of the run.

Disable it with ``-p no:gradviz``. The plugin has no checking logic of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .checking.report import Report
from .testing import GradientError

_REPORTS = pytest.StashKey[list]()
_WRITTEN = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradviz")
    group.addoption("--gradviz-render", metavar="DIR", default=None,
                    help="save the verdict drawing (SVG) of each failing test's gradviz reports to DIR")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_WRITTEN] = []


class ReportCollector:
    """The `gradviz_report` fixture: call it with a Report to attach it to the test; returns the report."""

    def __init__(self) -> None:
        self.reports: list[Report] = []

    def __call__(self, report: Report) -> Report:
        if not isinstance(report, Report):
            raise TypeError(f"gradviz_report takes the Report of a gv.check* call, got {type(report).__name__}")
        self.reports.append(report)
        return report


@pytest.fixture
def gradviz_report(request: pytest.FixtureRequest) -> ReportCollector:
    """Attach gradviz reports to this test: shown in full, and drawn with --gradviz-render, if it fails."""
    collector = ReportCollector()
    request.node.stash[_REPORTS] = collector.reports
    return collector


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    result = outcome.get_result()
    if call.when != "call":
        return
    attached = item.stash.get(_REPORTS, [])
    for report in attached:
        item.user_properties.append(("gradviz", repr(report)))
    if not result.failed:
        return
    raised = call.excinfo.value.report if call.excinfo and isinstance(call.excinfo.value, GradientError) else None
    for report in attached:
        if report is not raised:  # a raised report is already the failure message
            result.sections.append(("gradviz report", str(report)))
    folder = item.config.getoption("gradviz_render")
    if folder:
        reports = ([raised] if raised is not None else []) + [r for r in attached if r is not raised]
        item.config.stash[_WRITTEN].extend(_draw_all(reports, Path(folder), item.nodeid))


def _draw_all(reports: list[Report], folder: Path, nodeid: str) -> list[str]:
    """Render each report that has a recorded graph; say so for those that do not (hand-written code)."""
    from .rendering import render

    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")
    lines = []
    for k, report in enumerate(reports):
        name = f"{stem}.svg" if k == 0 else f"{stem}-{k}.svg"
        if report.root is None:
            lines.append(f"{nodeid}: no drawing for {report.subject} (hand-written code has no recorded graph)")
            continue
        lines.append(f"{nodeid}: {render(report.root, folder / name, report=report)}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    written = config.stash.get(_WRITTEN, [])
    if written:
        terminalreporter.write_sep("-", "gradviz drawings of failing checks")
        for line in written:
            terminalreporter.write_line(line)
