"""A check's drawing for every status, above all ERROR: a user's backward that raised (issue #28).

`gradviz check --render`, the pytest plugin's --gradviz-render and grading all
draw the report; a raising backward used to make that drawing fail with
KeyError: 'ERROR' and the picture was lost.
"""

import re
import warnings
import xml.etree.ElementTree as ET

import pytest

import gradviz as gv
from gradviz.checking.status import STATUSES
from gradviz.rendering import backends

SVG_NS = "{http://www.w3.org/2000/svg}"
needs_embedded = pytest.mark.skipif(backends.embedded_executable() is None, reason="graphviz-pure is not installed")


class SquareWithBrokenBackward(gv.Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(grad, x, out):
        raise RuntimeError("the backward has a bug")


def raising_report():
    a = gv.Value(1.5, label="a")
    return gv.check(lambda a: SquareWithBrokenBackward.apply(a) * 2.0, a)


def fills(source: str) -> dict[str, str]:
    return dict(re.findall(r'\b([vo]\d+) \[.*?fillcolor="(#\w+)"', source))


def node_line(source: str, name: str) -> str:
    [line] = [ln for ln in source.splitlines() if ln.strip().startswith(f"{name} [")]
    return line


@needs_embedded
def test_a_backward_that_raised_is_drawn_on_the_node_that_raised():
    report = raising_report()
    assert report.status == "ERROR" and not report.ok
    bad = report.first_bad_node
    assert bad.status == "ERROR" and bad.op == "SquareWithBrokenBackward"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "call backward() first": the drawing says the backward raised
        drawing = report.draw()
    source = drawing.source
    raising = node_line(source, f"o{bad.node_id}")
    assert 'xlabel="backward raised"' in raising and "the backward has a bug" in raising  # the exception, as tooltip
    assert 'penwidth=3' in raising
    colours = fills(source)
    error_fill = colours[f"o{bad.node_id}"]
    assert colours["v0"] == error_fill  # the input whose gradient was never computed
    assert error_fill not in {colours[f"v{bad.node_id}"], "#b7e1a1", "#f4a6a6"}  # neither PASS nor FAIL

    svg = drawing.pipe(format="svg", renderer="embedded")  # the real embedded Graphviz renderer
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert "backward raised" in texts and "error" in texts  # the mark, and the legend's ERROR colour
    assert "check: ERROR" in texts


@needs_embedded
def test_gradviz_check_render_writes_the_drawing_when_a_backward_raised(tmp_path, monkeypatch, capsys):
    module = tmp_path / "broken_op.py"
    module.write_text(
        "import gradviz as gv\n\n"
        "class Cube(gv.Function):\n"
        "    @staticmethod\n"
        "    def forward(x):\n"
        "        return x ** 3\n\n"
        "    @staticmethod\n"
        "    def backward(grad, x, out):\n"
        "        return (3 * x ** 2 * grad * undefined_name,)\n")
    monkeypatch.setenv("GRADVIZ_RENDERER", "embedded")
    picture = tmp_path / "verdict.svg"
    from gradviz.cli import main

    assert main(["check", f"{module}:Cube", "--input", "x=1.5", "--render", str(picture)]) == 1
    svg = picture.read_bytes()
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert "backward raised" in texts and "Cube" in texts


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_has_its_own_fill(status):
    """Each status a check can give an input is drawn, in a colour no other status has."""
    x, y = gv.Value(0.5, label="x"), gv.Value(-1.25, label="y")
    report = gv.check(lambda x, y: (x * y).tanh(), x, y)
    report.results[0].status = status  # the verdict the drawing must show for x
    source = report.draw().source
    others = {s for s in STATUSES if s != status}
    drawn = fills(source)["v0"]
    for other in others:
        report.results[0].status = other
        assert fills(report.draw().source)["v0"] != drawn, (status, other)
