"""The docs run: the site builds with every block's output, the tutorials say true things, images are fresh.

Each page's python blocks are executed when the site is built (docs/hooks.py,
docs/pages.py), so their output cannot drift from the code. What keeps a
tutorial honest lives here: each test reads the namespace and the outputs a
page left behind and checks them against an independent oracle (a closed
form, numpy, SymPy), so the visible code stays what a student would type.
"""

import html
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))

import build_images  # noqa: E402  (docs/build_images.py)
import browser as headless  # noqa: E402  (tests/browser.py)
import pages  # noqa: E402  (docs/pages.py: one runner for the site, the notebooks and these tests)


def executed(name: str) -> pages.Page:
    """The page's run: the one the site build made in this session, else a fresh one."""
    return pages.EXECUTED.get(name) or pages.run_page(DOCS / name)


def shown(name: str, block: int) -> str:
    """Everything block `block` (1-based) of a page showed."""
    return executed(name).outputs[block - 1].text()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The documentation site, built in this process (so the pages' runs are shared) and strictly."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (the docs extra)")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    folder = tmp_path_factory.mktemp("site")
    build(load_config(config_file=str(ROOT / "mkdocs.yml"), site_dir=str(folder), strict=True))
    return folder


def test_the_site_builds_strictly_with_every_output_under_its_block(site):
    for page in pages.pages():
        built = (site / page.stem / "index.html") if page.name != "index.md" else site / "index.html"
        html = built.read_text()
        showing = sum(1 for output in executed(page.name).outputs if output.pieces)
        assert html.count('<div class="gv-output">') == showing, f"{page.name}: an output is missing"
        assert "Traceback" not in html


def test_tutorials_are_offered_as_notebooks(site):
    import nbformat

    for page in pages.pages():
        if page.name.startswith("tutorial-"):
            notebook = nbformat.reads((site / "notebooks" / f"{page.stem}.ipynb").read_text(), as_version=4)
            nbformat.validate(notebook)
            code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
            assert code == [block.rstrip("\n") for block in pages.code_blocks(page)]
            assert f"../notebooks/{page.stem}.ipynb" in (site / page.stem / "index.html").read_text()


def test_no_visible_code_carries_test_scaffolding():
    move = "students copy what they see: check it in tests/test_docs.py, reading executed(page).namespace"
    for page in pages.pages():
        for number, block in enumerate(pages.code_blocks(page), 1):
            for line in block.splitlines():
                where = f"{page.name} block {number}: {line.strip()!r}"
                assert not re.match(r"\s*assert\b", line), f"{where}: {move}"
                assert "warnings" not in line, f"{where}: a page shows its warnings under the block; {move}"


def test_a_failing_block_names_its_page_and_block():
    page = pages.Page("broken.md")
    page.run("x = 1")
    with pytest.raises(pages.CellError, match=r"broken.md, python block 2 raised ZeroDivisionError"):
        page.run("x / 0")


def test_a_cell_shows_its_prints_warnings_and_last_value_like_a_notebook():
    page = pages.Page("cells.md")
    out = page.run("import warnings\nprint('hello')\nwarnings.warn('careful')\n6 * 7")
    assert out.pieces == [("text", "hello\n"), ("text", "UserWarning: careful\n"), ("text", "42\n")]
    assert page.run("y = 6 * 7").pieces == []
    drawing = page.run("import gradviz as gv\na = gv.Value(2.0, label='a')\n(a * a).backward()\ngv.draw(a * a)")
    kind, markup = drawing.pieces[-1]
    assert kind == "html" and markup.startswith("<svg") and 'width="100%"' in markup


def test_a_page_needing_a_missing_extra_is_shown_but_not_run(tmp_path):
    page = tmp_path / "needs.md"
    page.write_text("# Needs\n\n<!-- requires: numpy, no_such_package_here -->\n\n```python\nimport no_such_package_here\n```\n")
    assert pages.missing_requirements(page) == ["no_such_package_here"]
    assert pages.missing_requirements(DOCS / "tutorial-1-first-graph.md") == []


def test_readme_python_blocks_run_and_show_their_real_output():
    page = pages.Page("README.md")
    blocks = pages.code_blocks(ROOT / "README.md")
    for block in blocks:
        page.run(block)
    # "Your own op" prints its verdict and shows it in a comment: the comment is what the code prints
    own_op = next(k for k, block in enumerate(blocks) if "class Softplus" in block)
    comment = [line[2:] for line in blocks[own_op].splitlines()[-2:]]
    assert page.outputs[own_op].text().strip() == " ".join(comment)
    assert "yours is the odd one out" in page.outputs[own_op].text() and "(Softplus)" in comment[-1]


def test_static_images_are_fresh():
    stale = build_images.stale(build_images.drawings())
    assert not stale, f"out-of-date images {stale}: run python docs/build_images.py"


def test_every_image_a_page_shows_exists():
    for page in [*DOCS.glob("*.md"), ROOT / "README.md"]:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} shows a missing image {target}"


def test_the_tutorials_and_reference_pages_exist():
    names = {p.name for p in DOCS.glob("*.md")}
    for k in range(1, 8):
        assert any(n.startswith(f"tutorial-{k}-") for n in names), f"tutorial {k} is missing"
    assert {"index.md", "api.md", "cli.md", "comparison.md"} <= names


def test_readme_quickstart_has_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]


# --- what each tutorial claims, against an independent oracle ------------------------------


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


def test_tutorial_1_builds_the_gradient_three_ways_and_they_match_the_closed_form():
    name = "tutorial-1-first-graph.md"
    ns = executed(name).namespace
    slopes = numbers(shown(name, 1))[1::2]            # (h, slope) pairs
    assert slopes == sorted(slopes, reverse=True) and abs(slopes[-1] - 14.0) < 1e-3  # f'(3) = 6*3 - 4
    assert "call backward() first" in shown(name, 2)
    t = math.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
    assert ns["out"].data == pytest.approx(t, abs=1e-12)
    local = 1 - t ** 2                                 # d tanh(n) / dn
    closed_form = {"x1": local * -3.0, "w1": local * 2.0, "x2": local * 1.0, "w2": local * 0.0, "b": local}
    assert ns["by_hand"] == pytest.approx(closed_form, abs=1e-12)
    assert {v: ns[v].grad for v in closed_form} == pytest.approx(closed_form, abs=1e-12)
    steps = shown(name, 4)
    assert steps.count('class="gv-frame"') == 6 and "n.grad += 1 × 0.5 = 0.5" in steps
    formulas = html.unescape(shown(name, 6))
    assert "d/dn: 1 - tanh(n)^2" in formulas and "d/dw1: x1" in formulas and "d/ds: 1" in formulas
    assert ns["report"].ok and 'class="gv-report"' in shown(name, 7)


def test_tutorial_2_claims():
    name = "tutorial-2-three-ways.md"
    ns = executed(name).namespace
    w, x, b = sympy.symbols("w x b", real=True)
    printed = shown(name, 1).strip().splitlines()[-1]
    assert sympy.simplify(sympy.sympify(printed, locals={'w': w, 'x': x, 'b': b}) - sympy.diff(sympy.tanh(w * x + b), w)) == 0
    assert "yours is the odd one out" in shown(name, 2)
    errors = dict(zip(ns["sweep"].steps, ns["sweep"].error64))
    assert errors[1e-1] > errors[1e-5] < errors[1e-12]  # the valley
    assert ns["report"].ok and ns["report"].results[0].status == "NONDIFF"


def test_tutorial_3_training_converges_and_checks():
    ns = executed("tutorial-3-mlp.md").namespace
    assert len(ns["model"].parameters()) == 4 * 5 + 2 * 5 + 1 * 3
    assert ns["curve"][-1] < ns["curve"][0] / 10
    assert ns["report"].ok


def test_tutorial_4_conv_and_pool_gradients():
    name = "tutorial-4-conv-pool.md"
    ns = executed(name).namespace
    kernel = np.array([[1.0, -1.0], [0.5, 0.0]])
    scatter = sum(np.pad(kernel, ((i, 2 - i), (j, 2 - j))) for i in range(3) for j in range(3))
    assert np.allclose(ns["image"].grad[0, 0], scatter)
    assert shown(name, 3).count("PASS") == 4
    assert shown(name, 4).split() == ["array([[0.,", "1.],", "[0.,", "0.]])"]
    assert ns["report"].ok
    assert np.allclose(ns["x"].grad, 0.25)


def test_tutorial_5_reports_name_the_bugs():
    name = "tutorial-5-your-layer.md"
    ns = executed(name).namespace
    assert "pad=1: PASS" in shown(name, 1) and "returned dA_prev of shape (2, 0, 0, 2)" in shown(name, 1)
    assert "division by the batch size (8) is missing" in shown(name, 2)
    assert not ns["report"].ok
    assert ns["done"].returncode == 1


def test_tutorial_6_log_softmax_is_stable_and_its_gradient_is_softmax_minus_one_hot():
    ns = executed("tutorial-6-log-softmax.md").namespace
    assert np.isinf(ns["naive"].data).any()
    assert np.allclose(ns["stable"].data, [[0.0, -800.0, -1000.0]])
    assert ns["report"].ok
    logits = ns["logits"].data
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.allclose(ns["logits"].grad, (softmax - np.eye(3)[[0, 1]]) / 2)


def test_tutorial_7_reports_and_grades():
    ns = executed("tutorial-7-ci-grading.md").namespace
    assert ns["report"]["ok"] and ns["report"]["schema"] == 1
    assert ns["md"].startswith("### gradviz check")



def test_tutorial_grading_scores_each_planted_mistake():
    import csv

    name = "tutorial-grading.md"
    page = executed(name)
    assert page.namespace["done"].returncode == 0
    with (page.workdir / "results" / "gradebook.csv").open() as handle:
        rows = {r["student"]: (r["Dense"], r["MSE"], r["status"]) for r in csv.DictReader(handle)}
    assert rows == {  # what each planted mistake must cost (Dense 4 points, MSE 2)
        "alice": ("4", "2", "PASS"), "ben": ("4", "2", "PASS"),
        "ana": ("4", "0", "FAIL"),  # MSE without the mean's 1/N
        "bob": ("0", "2", "FAIL"), "bea": ("0", "2", "FAIL"),  # dW doubled, two ways
        "cara": ("0", "2", "FAIL"), "cody": ("0", "2", "FAIL"),  # dW divided by the batch, two ways
        "dan": ("0", "0", "FAIL"),  # right only for a batch of 4 (the hidden variant has 7), and no 1/N
        "eli": ("0", "2", "FAIL"),  # db summed over the wrong axis; 1/len(y_hat) is the same 1/N
        "carl": ("0", "0", "TIMEOUT"),  # an endless loop: MSE is never reached
        "dora": ("0", "0", "ERROR"),  # imports a module that is not installed
    }
    assert "graded 11 submissions" in shown(name, 3)
    assert "TIMEOUT - did not finish within the 3 s time limit" in shown(name, 5)
    assert "`W`: it is twice the true gradient" in shown(name, 6) and "<details>" not in shown(name, 6)
    assert "fran {'Dense': 'PASS', 'Dense forward': 'FAIL', 'MSE': 'PASS'}" in shown(name, 7)
    assert "alice {'Dense': 'PASS', 'Dense forward': 'PASS', 'MSE': 'PASS'}" in shown(name, 7)
    # a spec its own reference cannot pass is refused before grading, and nothing is written
    assert "grading-typo.toml: target 'Dense': the teacher's reference solution.py:Dense does not pass its own " \
           "check with these settings (ERROR" in shown(name, 8) and shown(name, 8).endswith("False\n")
    assert "setup.sh" in shown(name, 9) and "run_autograder" in shown(name, 9) and "wheels/gradviz_check-" in shown(name, 9)
    assert "Dense forward: 0/1 failed" in shown(name, 10) and "Dense: 4/4 passed" in shown(name, 10)
    assert shown(name, 11).startswith("FAIL - db") or "db" in shown(name, 11)
    assert "shard 1/2: alice, bea, bob, carl, dan, eli" in shown(name, 12)
    merged = (page.workdir / "merged" / "gradebook.csv").read_text()
    assert merged == (page.workdir / "results" / "gradebook.csv").read_text()
    summary = (page.workdir / "results" / "summary.html").read_text()
    assert "score-histogram" in summary and "<script" not in summary
    row = next(r for r in summary.split("<tr class='mistake'>")[1:] if "once too often" in r)
    assert row.startswith("<td class='num'>2</td><td>Dense</td>") and "cara" in row and "cody" in row


def test_tutorial_optimizer_names_each_cause():
    name = "tutorial-optimizer.md"
    ns = executed(name).namespace
    assert "adam: FAIL" in shown(name, 1) and "bias correction missing" in shown(name, 1)
    assert "identified as adam" in shown(name, 2) and "matches at all 5 steps" in shown(name, 2)
    assert ns["report"].results[0].diagnosis[0].cause == "bias_from_epoch"
    assert ns["done"].returncode == 1 and "momentum sign mixed" in shown(name, 4)


def test_tutorial_optimizer_reads_explicit_state_and_per_parameter_objects_and_refuses_the_odd_one():
    name = "tutorial-optimizer.md"
    verdict, binding, counter = shown(name, 5).splitlines()
    assert "(function with explicit state) identified as adam" in verdict
    assert binding.startswith("binding: parameters <- the parameters (a dict keyed W1, b1, ...), grads <- their "
                              "gradients (a dict keyed dW1, db1, ...)") and binding.endswith("t <- the step counter")
    assert counter == "step counter passed: t = 1, 2, 3, ... (counted from 1); the reference rule follows this count"
    assert "identified as rmsprop" in shown(name, 6) and "param_grad <- its gradient" in shown(name, 6)
    refused = shown(name, 7)
    assert refused.startswith("gradviz cannot read ScaledSGD.update: none of the 2 ways")
    assert "it changed delta in place" in refused and "--role grad=NAME" in refused
    assert refused.rstrip().endswith("ScaledSGD (per-parameter update) identified as sgd (p -= lr*g): every parameter "
                                     "matches at all 5 steps.")


def test_tutorial_optimizer_reads_an_update_over_every_parameter_by_structure():
    verdict, binding = shown("tutorial-optimizer.md", 8).splitlines()
    assert verdict.startswith("Momentum (update over all parameters) follows momentum") and "5 steps" in verdict
    assert binding == ("binding: update(...): weights <- the parameters (a dict keyed W, b), grads <- their gradients "
                       "(a dict keyed dW, db)")


def test_tutorial_course_code_names_each_planted_bug_and_each_convention():
    """Every convention's example: the verdict the planted bug implies (1/5 for a mean over 5 rows, 2/3 for
    Mul's swapped a*d and b*d at a=2, b=3, ...) and the convention the report says it picked."""
    name = "tutorial-course-code.md"
    ns = executed(name).namespace
    assert "b: it is 1/5 of the true gradient" in shown(name, 2)  # db = dout.mean(axis=0) over 5 rows
    assert "forward_pass()/backward_pass() detected" in shown(name, 3)
    assert shown(name, 4).startswith("PASS") and "results kept on self" in shown(name, 4)
    assert shown(name, 5) == "PASS: every gradient agrees with central finite differences.\nweights restored: True\n"
    assert np.array_equal(ns["layer"].weights, ns["before"])
    assert shown(name, 6).startswith("PASS")
    assert "a: it is the true gradient times a constant 0.666667" in shown(name, 7)  # a*d / (b*d) = 2/3
    assert "batchnorm_backward returned dgamma of shape (1, 4); gamma has shape (4,)" in shown(name, 8)
    assert "('x', 'PASS'), ('gamma', 'FAIL'), ('beta', 'PASS')" in shown(name, 8)
    same, valid = shown(name, 9).splitlines()
    assert same.startswith("PASS") and "dA_prev of shape (2, 0, 0, 2); A_prev has shape (2, 5, 5, 2)" in valid
    in_order, by_name = shown(name, 10).splitlines()  # the same loss, its arrays given by position and by name
    assert "x: it is 5 times the true gradient" in in_order and "x: it is 5 times the true gradient" in by_name
    assert shown(name, 11).startswith("PASS")
    assert "guessed from the names y_true, y_pred" in shown(name, 12)
    assert shown(name, 13).startswith("PASS")
    activation, reading = shown(name, 14).splitlines()  # sigmoid and sigmoid_derivative, both arrays
    assert activation.startswith("PASS") and reading.startswith("sigmoid is elementwise in x")
    convention, per_example = shown(name, 15).splitlines()
    assert "1/3 of the true gradient" in convention and "deeplearning.ai convention" in convention  # m = 3
    assert per_example.startswith("PASS")
    assert ns["done"].returncode == 0 and "PASS" in shown(name, 16)


def test_tutorial_course_code_reads_unseen_structures_and_refuses_what_it_cannot_confirm():
    """Issue 22's sections: several outputs and a parameters dict (the dWaa bug fails alone), a cost with no
    upstream gradient (db1 with 4/m), a cost returned with its gradients, a refusal and the flag resolving it."""
    name = "tutorial-course-code.md"
    ns = executed(name).namespace
    rows, binding = shown(name, 17).splitlines()
    assert "(\"parameters['Waa']\", 'FAIL')" in rows and rows.count("'PASS'") == 4
    assert binding.startswith("binding: da_next <- upstream of") and "dWaa <- parameters['Waa']" in binding
    assert "parameters['b1']: it is the true gradient times a constant 4 everywhere" in shown(name, 18)
    assert shown(name, 19).startswith("PASS")
    refusal = shown(name, 20)
    assert "cannot read twin_forward/twin_backward: two ways of calling it both hold and disagree" in refusal
    assert "--outputs NAMES" in refusal and refusal.rstrip().endswith("PASS: every gradient agrees with central "
                                                                      "finite differences.")
    assert ns["done"].returncode == 0 and shown(name, 21).startswith("PASS")
    layer_refusal, verdict, binding = shown(name, 22).rsplit("\n", 3)[:3]
    assert "cannot read LeakyCell: two ways of calling it both hold and disagree" in layer_refusal
    assert "self.z_list[-1]" in layer_refusal and "outputs= (--outputs NAME)" in layer_refusal
    assert verdict.startswith("PASS") and "the output is self.h_list[-1]" in binding
    assert "activator <- self.activator" in binding


def test_tutorial_course_code_reads_several_inputs_and_integer_ids():
    """forward(x, h_prev): a gradient per input, the planted Whh (not Whh.T) fails h_prev alone; integer ids are
    data and the table's accumulated gradient passes."""
    name = "tutorial-course-code.md"
    rows, embedding = shown(name, 23).splitlines()
    assert rows == ("[('x', 'PASS'), ('h_prev', 'FAIL'), ('Wxh', 'PASS'), ('Whh', 'PASS'), ('bh', 'PASS')]")
    assert embedding.startswith("PASS")


def test_tutorial_course_code_names_a_column_layout_and_checks_lazy_gradients():
    """Column code given rows: the layout is said, numpy's words kept after it, and batch_axis=1 with x.T (what it
    says to do) passes; a dW made on first use and added into passes like one made in __init__."""
    name = "tutorial-course-code.md"
    wrong, columns, lazy = shown(name, 24).strip().split("\n")
    assert wrong.startswith("ERROR: likely a layout mismatch: ColumnDense.forward fails on x of shape (5, 4), one "
                            "example per row (batch, features), but runs on x of shape (4, 5)")
    assert "batch_axis=1" in wrong and "matmul" in wrong
    assert columns.startswith("PASS") and lazy.startswith("PASS")


# --- what a reader sees: the built site in a real browser, the tutorials as real notebooks ---------

MIN_TEXT_PX = 10
VIEWPORT = (1280, 900)

# Every graph on the page: the CSS px size of each text element (font size times the on-screen scale
# of its SVG, transforms included), or 0 for a graph that is not laid out at all.
MEASURE_GRAPHS = """
const sizes = [];
for (const svg of document.querySelectorAll('.gv-rich svg')) {
  if (svg.closest('[hidden]')) continue;  // a step-through page's other frames: the same layout as the shown one
  if (svg.getBoundingClientRect().width === 0) { sizes.push(['(a graph with no width)', 0]); continue; }
  // a graph shrunk to fit the column (or the screen's height) offers a click to zoom it to its natural size
  // (1 pt = 4/3 px); the zoom itself is checked in test_every_page_reads_without_sideways_scrolling...
  if (getComputedStyle(svg).cursor === 'zoom-in' && svg.getScreenCTM().a < 4 / 3 - 0.01) continue;
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    sizes.push([t.textContent, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a]);
  }
}
const images = [];
for (const img of document.querySelectorAll('article img')) {
  if (img.currentSrc.endsWith('.svg')) images.push([img.getAttribute('src'), img.getBoundingClientRect().width]);
}
return [sizes, images];
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if headless.unavailable():
        pytest.skip(headless.unavailable())
    with headless.chromium(tmp_path_factory.mktemp("profile"), *VIEWPORT) as driver:
        yield driver


@pytest.fixture(scope="module")
def served(site):
    """The built site over HTTP, as `mkdocs serve` or a web server would give it."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def svg_font_scale(path: Path) -> tuple[float, float]:
    """(smallest font size, viewBox width) of an SVG file, both in its own units."""
    text = path.read_text()
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', text)]
    return min(sizes), float(re.search(r'viewBox="[\d.-]+ [\d.-]+ ([\d.]+)', text).group(1))


def test_every_graph_on_every_page_is_legible_at_1280_px(site, served, browser):
    checked = 0
    for page in sorted(DOCS.glob("*.md")):
        url = f"{served}/" if page.name == "index.md" else f"{served}/{page.stem}/"
        browser.get(url)
        sizes, images = browser.execute_script(MEASURE_GRAPHS)
        small = [(text, round(px, 1)) for text, px in sizes if px < MIN_TEXT_PX]
        assert not small, f"{page.name}: graph text under {MIN_TEXT_PX} px at {VIEWPORT[0]} px: {small[:8]}"
        for src, shown_width in images:
            smallest, view_width = svg_font_scale(page.parent / src)
            px = smallest * shown_width / view_width
            assert px >= MIN_TEXT_PX, f"{page.name}: {src} shows its text at {px:.1f} px"
        checked += len(sizes) + len(images)
    assert checked > 100  # the pages do show graphs: the loop measured something


def notebook_outputs(page: Path, workdir: Path) -> list[dict]:
    import nbclient
    import nbformat

    notebook = nbformat.reads(pages.notebook(page), as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}).execute()
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def test_tutorial_1_as_a_notebook_shows_scalable_drawings_and_html_reports(tmp_path):
    pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")
    outputs = notebook_outputs(DOCS / "tutorial-1-first-graph.md", tmp_path)
    assert not [o for o in outputs if o.output_type == "error"]
    shown_data = [o.data for o in outputs if o.output_type in ("execute_result", "display_data")]
    drawings = [d.get("text/html") or d["image/svg+xml"] for d in shown_data
                if "<svg" in (d.get("text/html") or d.get("image/svg+xml") or "")]
    assert len(drawings) >= 3
    for svg in drawings:
        tag = re.search(r"<svg[^>]*>", svg).group(0)
        assert 'width="100%"' in tag and "max-width:" in tag, tag  # shrinks to the cell, never wider
        assert not re.search(r'\swidth="[\d.]+pt"', tag), tag
    assert any('class="gv-report"' in d.get("text/html", "") for d in shown_data)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in pages.pages() if p.name.startswith("tutorial-")], ids=lambda p: p.stem)
def test_every_tutorial_runs_as_a_notebook(page, tmp_path):
    pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")
    errors = [o for o in notebook_outputs(page, tmp_path) if o.output_type == "error"]
    assert not errors, f"{page.name}: {errors[0].ename}: {errors[0].evalue}" if errors else ""


# Every page at a desktop and a phone width: text of at least 10 CSS px, nothing scrolls sideways.
# Graphs scale to fit: at a phone width a graph's text may drop under 10 px only where a click zooms it.
LAYOUT = """
const problems = [];
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > width + 1)
  problems.push('the page scrolls sideways by ' + (document.documentElement.scrollWidth - width) + ' px');
for (const el of document.querySelectorAll('article *')) {
  if (!el.getClientRects().length || el.closest('svg')) continue;
  const style = getComputedStyle(el);
  if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
    problems.push(el.tagName.toLowerCase() + '.' + el.className + ' scrolls sideways by '
                  + (el.scrollWidth - el.clientWidth) + ' px: ' + el.textContent.slice(0, 60));
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (own && parseFloat(style.fontSize) < 10)
    problems.push(style.fontSize + ' text: ' + el.textContent.trim().slice(0, 60));
}
const smallGraphs = [];
for (const svg of document.querySelectorAll('.gv-rich svg')) {
  if (svg.closest('[hidden]') || !svg.getClientRects().length) continue;
  let smallest = 1e9;
  for (const t of svg.querySelectorAll('text'))
    if (t.textContent.trim()) smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  if (smallest < 10) { smallGraphs.push([smallest, getComputedStyle(svg).cursor]); svg.setAttribute('data-small', ''); }
}
for (const img of document.querySelectorAll('article img')) {
  if (img.getBoundingClientRect().right > width + 1) problems.push('an image sticks out: ' + img.src);
  if (img.getBoundingClientRect().width < img.naturalWidth - 1 && getComputedStyle(img).cursor !== 'zoom-in')
    problems.push('a shrunk image offers no zoom: ' + img.src);
}
return [problems, smallGraphs];
"""

ZOOMED_TEXT = """
const svg = document.querySelector('.gv-zoomed svg');
if (!svg) return null;
let smallest = 1e9;
for (const t of svg.querySelectorAll('text'))
  if (t.textContent.trim()) smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
return smallest;
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_reads_without_sideways_scrolling_and_with_text_of_10_px(site, served, browser, width):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": 844, "deviceScaleFactor": 1, "mobile": width < 600})
    try:
        found, zoomable = [], 0
        for page in sorted(DOCS.glob("*.md")):
            browser.get(f"{served}/" if page.name == "index.md" else f"{served}/{page.stem}/")
            problems, small_graphs = browser.execute_script(LAYOUT)
            found += [f"{page.name} at {width} px: {p}" for p in problems]
            for smallest, cursor in small_graphs:  # scaled to fit the column, and a click zooms it
                if cursor != "zoom-in":
                    found.append(f"{page.name} at {width} px: a graph at {smallest:.1f} px offers no zoom")
            if small_graphs:  # the zoom really shows the first one at a readable size
                browser.execute_script("document.querySelector('.gv-rich svg[data-small]').dispatchEvent("
                                       "new MouseEvent('click', {bubbles: true}))")
                zoomed = browser.execute_script(ZOOMED_TEXT)
                if zoomed is None or zoomed < MIN_TEXT_PX:
                    found.append(f"{page.name} at {width} px: the zoomed graph's text is {zoomed} px")
                zoomable += 1
        assert not found, "\n".join(found[:40])
        if width < 600:  # on a phone, graphs had to shrink: the zoom was exercised
            assert zoomable >= 4
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
