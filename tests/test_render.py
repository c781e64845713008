"""Rendering with every available backend, golden DOT, escaping, collapse, overlay, step-through page."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz.rendering import backends

import browser
from oracles import wrong_tanh

GOLDEN = Path(__file__).parent / "golden"
SVG_NS = "{http://www.w3.org/2000/svg}"

BACKENDS = [
    pytest.param("embedded", marks=pytest.mark.skipif(backends.embedded_executable() is None,
                                                      reason="graphviz-pure is not installed")),
    pytest.param("dot", marks=pytest.mark.skipif(backends.dot_executable() is None,
                                                 reason="the system Graphviz `dot` is not on PATH")),
]


def neuron():
    """The classic neuron tanh(x1*w1 + x2*w2 + b), after backward."""
    x1, x2 = gv.Value(2.0, label="x1"), gv.Value(0.0, label="x2")
    w1, w2 = gv.Value(-3.0, label="w1"), gv.Value(1.0, label="w2")
    b = gv.Value(6.8813735870195432, label="b")
    with gv.scope("neuron"):
        out = (x1 * w1 + x2 * w2 + b).tanh()
    out.label = "out"
    out.backward()
    return out


def svg_texts(svg_bytes: bytes) -> list[str]:
    root = ET.fromstring(svg_bytes)
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


@pytest.mark.parametrize("renderer", BACKENDS)
def test_svg_and_png_show_labels_values_and_gradients(renderer, tmp_path):
    out = neuron()
    svg = gv.render(out, tmp_path / "neuron.svg", renderer=renderer)
    texts = svg_texts(svg.read_bytes())
    for expected in ("x1", "w1", "b", "out", "data 2", "grad -1.5", "grad 0.5", "data 0.7071", "tanh"):
        assert expected in texts, f"{expected!r} missing from the SVG"
    png = gv.render(out, tmp_path / "neuron.png", renderer=renderer).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 300 and height > 50


@pytest.mark.skipif(backends.dot_executable() is None, reason="the system Graphviz `dot` is not on PATH")
def test_pdf_with_system_dot(tmp_path):
    assert gv.render(neuron(), tmp_path / "n.pdf", renderer="dot").read_bytes()[:5] == b"%PDF-"


def test_the_embedded_renderer_cannot_write_pdf_and_says_what_to_do(tmp_path):
    with pytest.raises(gv.GradvizError, match="no renderer could produce pdf.*apt-get install graphviz.*source"):
        gv.render(neuron(), tmp_path / "n.pdf", renderer="embedded")


def test_a_missing_renderer_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADVIZ_RENDERER", "pygraphviz")
    # pygraphviz is not a dependency; without it the forced choice must fail cleanly
    if backends.importlib.util.find_spec("pygraphviz") is None:
        with pytest.raises(gv.GradvizError, match="pygraphviz is not installed.*install Graphviz"):
            gv.render(neuron(), tmp_path / "n.svg")
    with pytest.raises(gv.GradvizError, match="unknown renderer 'nope'"):
        gv.render(neuron(), tmp_path / "n.svg", renderer="nope")


def test_bad_output_paths_are_clear_errors(tmp_path):
    with pytest.raises(gv.GradvizError, match="unknown format .txt"):
        gv.render(neuron(), tmp_path / "n.txt")
    with pytest.raises(gv.GradvizError, match="does not exist"):
        gv.render(neuron(), tmp_path / "missing" / "n.svg")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("GRADVIZ_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; inspect it and rerun with GRADVIZ_UPDATE_GOLDEN=1"


def test_golden_dot_for_a_neuron():
    _golden("neuron.dot", gv.draw(neuron(), show_order=True, show_formulas=True).source)


WrongTanh = wrong_tanh()


def overlay_report():
    w, x = gv.Value(0.5, label="w"), gv.Value(2.0, label="x")
    return gv.check(lambda w, x: WrongTanh.apply(w * x + 0.3) * 2.0, w, x)


def test_golden_dot_for_a_check_overlay():
    _golden("check_overlay.dot", overlay_report().draw().source)


@pytest.mark.parametrize("renderer", BACKENDS)
def test_check_overlay_colours_nodes_and_marks_the_first_wrong_rule(renderer, tmp_path):
    report = overlay_report()
    source = report.draw().source
    assert "first wrong rule" in source and "#f4a6a6" in source  # FAIL colour
    texts = " ".join(svg_texts(report.draw().pipe(format="svg", renderer=renderer)))
    assert "yours" in texts and "finite diff." in texts and "SymPy" in texts and "FAIL" in texts


def test_dot_is_identical_across_processes():
    code = ("import sys; sys.path.insert(0, {tests!r}); import test_render as t, gradviz as gv; "
            "print(gv.draw(t.neuron(), show_order=True).source)").format(tests=str(Path(__file__).parent))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert runs[0] == runs[1] and "digraph" in runs[0]


HOSTILE = 'evil"]; injected [label="pwned" <b>&amp; {x|y} \\ back\nslash'


@pytest.mark.parametrize("renderer", BACKENDS)
def test_hostile_labels_are_escaped(renderer):
    a = gv.Value(1.0, label=HOSTILE)
    t = gv.Tensor(np.ones((2, 2)), label=HOSTILE)
    with gv.scope('sc"ope}|<'):
        out = a * 2.0
    tout = (t * 2.0).sum()
    out.backward()
    tout.backward()
    for root in (out, tout):
        svg = gv.draw(root).pipe(format="svg", renderer=renderer)
        texts = " ".join(svg_texts(svg))
        assert "pwned" in texts  # the text is shown as text ...
        names = [g.findtext(f"{SVG_NS}title") for g in ET.fromstring(svg).iter(f"{SVG_NS}g")]
        assert "injected" not in names  # ... and never becomes a node of its own


def test_tensor_nodes_show_small_values_and_large_statistics():
    small = gv.Tensor([[1.0, 2.0], [3.0, 4.0]], label="small")
    big = gv.Tensor(np.arange(100.0).reshape(10, 10), label="big")
    out = (small.sum() + big.mean())
    out.backward()
    source = gv.draw(out).source
    assert "<TD>4</TD>" in source and "<TD>1</TD>" in source
    assert "min 0 max 99 mean 49.5" in source
    assert "10x10" in source


def test_scopes_become_nested_clusters_and_collapse_folds_them():
    x = gv.Value(1.0, label="x")
    with gv.scope("mlp"):
        with gv.scope("layer1"):
            h = (x * 2.0).tanh()
        with gv.scope("layer2"):
            out = h * 3.0
    out.backward()
    source = gv.draw(out).source
    assert "subgraph cluster_mlp" in source and "subgraph cluster_mlp_layer1" in source
    folded = gv.draw(out, collapse=0).source
    assert "mlp\\n" in folded and "(collapsed)" in folded and "cluster_mlp_layer1" not in folded


def test_big_graphs_collapse_automatically_and_say_so():
    x = gv.Value(0.1, label="x")
    y = x
    for layer in range(20):
        with gv.scope(f"block{layer}"):
            for _ in range(10):
                y = (y * 0.9).tanh()
    y.backward()
    drawing = gv.draw(y)
    assert "auto-collapsed" in drawing.source
    assert drawing.source.count("[label=") < 150
    unscoped = x
    for _ in range(300):
        unscoped = unscoped * 1.01
    unscoped.backward()
    assert "showing the last" in gv.draw(unscoped).source
    assert "auto-collapsed" not in gv.draw(unscoped, collapse=False).source


def test_drawing_before_backward_warns_at_the_users_line(tmp_path):
    x = gv.Value(1.0, label="x")
    with pytest.warns(UserWarning, match="call backward") as drawn:
        gv.draw(x * 2.0)
    with pytest.warns(UserWarning, match="call backward") as rendered:
        gv.render(x * 3.0, tmp_path / "graph.svg")  # a deeper path inside gradviz: the same line is named
    for caught in (drawn, rendered):
        assert [w.filename for w in caught] == [__file__], [(w.filename, w.lineno) for w in caught]


def test_drawing_displays_inline_as_svg():
    svg = gv.draw(neuron())._repr_image_svg_xml()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg


@pytest.mark.skipif(browser.unavailable() is not None, reason=str(browser.unavailable()))
def test_step_through_page_in_headless_chromium(tmp_path):
    out = neuron()
    before = [n.grad for n in gv.topological_order(out)]
    page = gv.animate_backward(out, tmp_path / "backward.html")
    assert [n.grad for n in gv.topological_order(out)] == before  # real gradients restored after the frames
    with browser.chromium(tmp_path / "profile") as driver:
        driver.get(page.as_uri())
        frames = driver.find_elements("css selector", "figure.gv-frame")
        assert len(frames) == 6  # before backward + one per op (2 mul, 2 add, tanh)
        visible = [f.get_attribute("data-step") for f in frames if f.is_displayed()]
        assert visible == ["0"]
        driver.find_element("css selector", ".gv-next").click()
        driver.find_element("css selector", ".gv-next").click()
        visible = [f.get_attribute("data-step") for f in frames if f.is_displayed()]
        assert visible == ["2"]
        assert "step 2 of 5" in driver.find_element("css selector", ".gv-counter").text
        assert "backprop through" in frames[2].text and ".grad += 0.5 × 1 = 0.5" in frames[2].text
        driver.find_element("css selector", ".gv-prev").click()
        widget = driver.find_element("css selector", ".gv-steps")
        assert widget.get_attribute("data-current") == "1"
        driver.find_element("tag name", "body").send_keys("\ue014")  # the right arrow key
        assert widget.get_attribute("data-current") == "2"


def test_an_nchw_image_with_one_sample_and_channel_is_drawn_as_a_grid():
    image = gv.Tensor(np.arange(16.0).reshape(1, 1, 4, 4), label="image")
    total = (image * 2.0).sum()
    total.backward()
    source = gv.draw(total).source
    assert "<TD>15</TD>" in source and "1x1x4x4" in source
    assert "min 0" not in source.split("image")[1].split("</TABLE>>")[0]


def test_checking_never_imports_rendering():
    """Rendering draws reports; if checking imported rendering back, the two would form a cycle."""
    import ast

    for path in (Path(gv.__file__).parent / "checking").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                assert "rendering" not in target, f"{path.name} imports {target}"
            elif isinstance(node, ast.Import):
                assert not any("rendering" in a.name for a in node.names), f"{path.name} imports rendering"
    assert gv.check(lambda x: x * 2.0, gv.Value(1.0, label="x")).draw().source.startswith("digraph")


def test_a_report_shows_as_an_html_table_with_worded_statuses():
    html = overlay_report()._repr_html_()
    assert html.startswith('<div class="gv-report"') and "<table" in html
    assert ">FAIL</span>" in html and "#f9d0d0" in html  # FAIL is a word on a red badge, not an emoji
    assert not any(ord(ch) > 0x2000 for ch in html)
    passing = gv.check(lambda x: x * 2.0, gv.Value(1.0, label="x"))._repr_html_()
    assert ">PASS</span>" in passing and "#d3f0c7" in passing and "FAIL" not in passing


# --- one meaning per mark --------------------------------------------------------------------


def edge_labels(source: str) -> dict[tuple[str, str], str]:
    import re

    return {(a, b): label for a, b, label in re.findall(r'(\w+) -> (\w+) \[label="([^"]*)"', source)}


def test_edge_formulas_are_written_in_the_inputs_own_names():
    x1, w1 = gv.Value(2.0, label="x1"), gv.Value(-3.0, label="w1")
    hidden = x1 * w1                      # unlabelled: drawn as #2
    out = (hidden + 1.0).tanh()
    out.backward()
    labels = set(edge_labels(gv.draw(out, show_formulas=True).source).values())
    assert "d/dw1: x1" in labels and "d/dx1: w1" in labels
    assert "d/d(#2): 1" in labels           # the unlabelled input is named as the picture names it
    assert "d/d(#4): 1 - tanh(#4)^2" in labels
    assert not any("d/dx:" in label or "d/dy:" in label for label in labels)  # no generic argument names


def test_an_input_used_twice_gets_the_derivative_along_its_one_edge():
    x = gv.Value(3.0, label="x")
    square = x * x
    square.backward()
    (label,) = edge_labels(gv.draw(square, show_formulas=True).source).values()
    assert label == "x2 d/dx: 2*x"  # two uses, and d(x*x)/dx = 2x (not the per-argument x)


def test_a_constant_input_appears_as_its_value():
    x = gv.Value(2.0, label="x")
    out = x * 3.0
    out.backward()
    assert "d/dx: 3" in edge_labels(gv.draw(out, show_formulas=True).source).values()


def test_backward_steps_are_marked_as_steps_not_as_node_names():
    source = gv.draw(neuron(), show_order=True).source
    steps = re.findall(r'xlabel="([^"]*)"', source)
    assert sorted(steps) == [f"step {k}" for k in range(1, 6)]
    assert 'xlabel="#' not in source


def test_a_checked_drawing_colours_each_value_by_its_gradient_and_each_op_by_its_rule():
    report = overlay_report()          # WrongTanh's rule is wrong; everything before it inherits a wrong gradient
    order = gv.topological_order(report.root)
    source = report.draw().source
    fill = dict(re.findall(r'\b([vo]\d+) \[.*?fillcolor="(#\w+)"', source))
    bad_op = report.first_bad_node.node_id
    red, green = STATUS["FAIL"], STATUS["PASS"]
    assert fill[f"o{bad_op}"] == red                   # the rule that is wrong
    assert fill[f"v{bad_op}"] == green                 # its output's gradient is still right ...
    for i, node in enumerate(order[:bad_op]):          # ... everything upstream of the bad rule is wrong
        if node._op is not None:
            assert fill[f"v{i}"] == red, node
    assert "box: is its gradient right?" in source and "oval: is its backward rule right?" in source


STATUS = {"PASS": "#b7e1a1", "FAIL": "#f4a6a6"}


def test_graphs_too_wide_for_a_column_left_to_right_are_drawn_top_to_bottom():
    # the neuron: five leaves and four ops in a row, the graph the issue saw clipped in Jupyter
    assert "rankdir=TB" in gv.draw(neuron()).source
    x = gv.Value(0.5, label="x")
    short = x.tanh().tanh()
    short.backward()
    assert "rankdir=LR" in gv.draw(short).source  # fits: drawn the way courses draw it
    long = short
    for _ in range(10):
        long = long.tanh()
    long.backward()
    assert "rankdir=TB" in gv.draw(long).source
    assert "rankdir=BT" in gv.draw(long, rankdir="BT").source


def test_every_font_in_a_drawing_is_at_least_10_points():
    report = overlay_report()
    for source in (gv.draw(neuron(), show_order=True, show_formulas=True).source, report.draw().source):
        sizes = [float(s) for s in re.findall(r'(?:fontsize|POINT-SIZE)="?([\d.]+)', source)]
        assert sizes and min(sizes) >= 10


def test_drawing_render_and_view_use_gradviz_renderers_without_a_system_dot(tmp_path, monkeypatch):
    if backends.embedded_executable() is None:
        pytest.skip("graphviz-pure is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))  # no system dot on PATH: graphviz's own render() would fail
    drawing = gv.draw(neuron())
    picture = Path(drawing.render("neuron", directory=tmp_path, format="svg"))
    assert picture == tmp_path / "neuron.svg" and "data 0.7071" in " ".join(svg_texts(picture.read_bytes()))
    assert (tmp_path / "neuron").read_text() == drawing.source
    png = Path(drawing.render(outfile=tmp_path / "n.png", cleanup=True))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not (tmp_path / "n.gv").exists()


def test_values_and_tensors_display_their_graph_in_jupyter():
    out = neuron()
    html = out._repr_html_()
    assert html.startswith("<svg") and 'width="100%"' in html and "data 0.7071" in html
    t = gv.Tensor(np.ones((2, 2)), label="t")
    assert "<svg" in (t * 2.0).sum()._repr_html_()


def test_animate_backward_without_a_path_displays_inline_with_the_arithmetic():
    out = neuron()
    animation = gv.animate_backward(out)
    html = animation._repr_html_()
    assert html.count('class="gv-frame"') == 6 and "<script>" in html
    # step 1 is tanh: n's gradient becomes 1 x (1 - tanh(n)^2) = 0.5
    assert "#8.grad += 1 × 0.5 = 0.5" in html
    # the changed gradient is outlined in the frame of that step
    frame1 = html.split('data-step="1"')[1].split('data-step="2"')[0]
    assert CHANGED in frame1


CHANGED = "#e07b00"


def test_the_cli_passes_formulas_and_order_through_to_the_animation(tmp_path):
    page = tmp_path / "steps.html"
    done = subprocess.run([sys.executable, "-m", "gradviz", "render", "x*y", "--at", "x=1,y=2", "-o",
                           str(tmp_path / "g.svg"), "--animate", str(page), "--show-order", "--formulas"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    frame = page.read_text().split('data-step="1"')[1]
    texts = " ".join(svg_texts(frame[frame.index("<svg"):frame.index("</svg>") + 6]))
    assert "d/dx: y" in texts and "d/dy: x" in texts and "step 1" in texts
