"""What a notebook shows: drawings at their natural size (shrunk to the cell, never stretched), reports capped.

A real kernel runs the cells (nbclient); the outputs are then laid out the way JupyterLab lays
them out (text/html inline in the output area; image/svg+xml in an <img> with max-width: 100%)
and measured in headless Chromium.
"""

import base64
import re

import nbformat
import numpy as np
import pytest

import browser

import gradviz as gv

PX_PER_PT = 4 / 3

FIVE_NODES = """
import gradviz as gv
a = gv.Value(2.0, label="a")
b = gv.Value(-3.0, label="b")
out = (a * b).tanh()
out.label = "out"
out.backward()
gv.draw(out)
"""


def _execute(*cells: str) -> list[dict]:
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    outputs = [o for cell in notebook.cells for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"], outputs
    return [o.data for o in outputs if o.output_type in ("execute_result", "display_data")]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if browser.unavailable():
        pytest.skip(browser.unavailable())
    with browser.chromium(tmp_path_factory.mktemp("profile"), 1280, 900) as driver:
        yield driver


def _shown_width(driver, tmp_path, body: str, cell_px: int) -> float:
    """The CSS px width of the first picture in `body`, placed in a JupyterLab-like output area."""
    page = tmp_path / "cell.html"
    page.write_text("<!doctype html><html><head><style>"
                    ".jp-OutputArea-output{width:%dpx;overflow-x:auto}"
                    ".jp-RenderedImage img{max-width:100%%;height:auto}</style></head><body>"
                    "<div class='jp-OutputArea-output jp-RenderedImage'>%s</div></body></html>" % (cell_px, body))
    driver.get(page.as_uri())
    return driver.execute_script("return document.querySelector('svg, img').getBoundingClientRect().width")


def test_a_five_node_drawing_in_an_executed_notebook_is_not_wider_than_its_natural_width(chromium, tmp_path):
    [data] = _execute(FIVE_NODES)
    natural_pt = float(re.search(r'<svg width="([\d.]+)pt"', data["image/svg+xml"]).group(1))
    natural_px = natural_pt * PX_PER_PT
    # in a wide cell: the natural size, not the cell's 1100 px
    html_width = _shown_width(chromium, tmp_path, data["text/html"], 1100)
    encoded = base64.b64encode(data["image/svg+xml"].encode()).decode()
    img_width = _shown_width(chromium, tmp_path, f'<img src="data:image/svg+xml;base64,{encoded}">', 1100)
    assert natural_px < 1100
    assert html_width == pytest.approx(natural_px, abs=1.5)
    assert img_width == pytest.approx(natural_px, abs=1.5)
    # in a cell narrower than the picture: shrunk to fit (the text stays readable: at most 1/0.76 smaller)
    narrow = int(natural_px * 0.8)
    assert _shown_width(chromium, tmp_path, data["text/html"], narrow) <= narrow + 0.5
    assert _shown_width(chromium, tmp_path, f'<img src="data:image/svg+xml;base64,{encoded}">', narrow) <= narrow + 0.5


MANY_PARAMETERS = """
import gradviz as gv
mlp = gv.nn.MLP(3, [16, 16, 1], seed=0)
xs = [gv.Value(v, label=f"x{i}") for i, v in enumerate((0.1, 0.2, -0.3))]
report = gv.check(lambda *x: mlp(list(x)), *xs, params=mlp.parameters(), mode="directional", methods=("finite",))
"""


def test_a_report_on_many_parameters_is_capped_in_a_notebook():
    namespace = {}
    exec(MANY_PARAMETERS, namespace)
    report = namespace["report"]
    assert len(report.results) == 3 + 353
    [data] = _execute(MANY_PARAMETERS + "report")  # the same report, displayed by a kernel
    shown = data["text/html"]
    visible, _, hidden = shown.partition("<details")
    assert visible.count("<li>") <= 12  # a line per scope, not one per parameter
    assert "layer0.*" in visible and "layer1.*" in visible
    assert hidden.count("<li>") == len(report.results)  # every input is one click away
    assert "all %d inputs" % len(report.results) in hidden


def test_a_report_in_a_notebook_shows_no_column_that_no_oracle_filled():
    """Hand-written code has no SymPy twin: its HTML (and Markdown) table has no column of dashes for it."""
    html_layer, html_graph = _execute(
        "import numpy as np, gradviz as gv\n"
        "class Dense:\n"
        "    def __init__(self):\n"
        "        self.W = np.random.default_rng(0).normal(size=(4, 3))\n"
        "    def forward(self, x):\n"
        "        self.x = x\n"
        "        return x @ self.W\n"
        "    def backward(self, dout):\n"
        "        self.dW = self.x.T @ dout\n"
        "        return dout @ self.W.T\n"
        "gv.check_layer(Dense(), np.random.default_rng(1).normal(size=(5, 4)))",
        "a = gv.Value(0.4, label='a')\ngv.check(lambda a: (a * a).tanh(), a)")
    layer, graph = html_layer["text/html"], html_graph["text/html"]
    assert ">finite differences</th>" in layer and "SymPy" not in layer
    assert re.findall(r"<th[^>]*>([^<]*)</th>", layer) == ["input", "index", "yours", "finite differences",
                                                           "abs err", "rel err", "status"]
    assert "<td data-label=\"SymPy\"" not in layer and ">-</td>" not in layer  # no cell of dashes left either
    assert ">SymPy</th>" in graph and "<td data-label=\"SymPy\"" in graph  # a graph's SymPy column stays
    markdown = html_layer["text/markdown"]
    assert "| yours | finite differences | abs err |" in markdown and "SymPy" not in markdown
