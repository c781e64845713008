"""Pictures for slides: --dpi, --scale and --landscape, the PDF message, the step-through page on a laptop screen."""

import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import browser

import gradviz as gv
from gradviz.rendering import backends

ROOT = Path(__file__).resolve().parent.parent
EXPRESSION = ["tanh(x1*w1 + x2*w2 + b)", "--at", "x1=2,w1=-3,x2=0,w2=1,b=6.8813735870195432"]
MIN_TEXT_PX = 10


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (the IHDR chunk), read without gradviz."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


def test_dpi_scale_and_landscape_change_the_png_as_asked(tmp_path):
    sizes = {}
    for name, extra in {"plain": [], "dpi": ["--dpi", "192"], "scale": ["--scale", "2"],
                        "landscape": ["--landscape"]}.items():
        done = cli("render", *EXPRESSION, "-o", f"{name}.png", *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        sizes[name] = png_size(tmp_path / f"{name}.png")
    (w, h) = sizes["plain"]
    assert h > w  # the default layout of this graph is a portrait (the issue's 385x847)
    for doubled in ("dpi", "scale"):
        assert sizes[doubled][0] == pytest.approx(2 * w, abs=4) and sizes[doubled][1] == pytest.approx(2 * h, abs=4)
    assert sizes["landscape"][0] > sizes["landscape"][1]  # wider than tall, for a slide


@pytest.mark.skipif(backends.dot_executable() is None, reason="PDF needs the system Graphviz `dot` on PATH")
def test_scale_applies_to_svg_and_pdf_too(tmp_path):
    x = gv.Value(2.0, label="x")
    out = (x * x).tanh()
    out.backward()
    plain = gv.render(out, tmp_path / "plain.svg").read_text()
    big = gv.render(out, tmp_path / "big.svg", scale=1.5).read_text()
    natural = float(plain.split('<svg width="')[1].split("pt")[0])
    assert float(big.split('<svg width="')[1].split("pt")[0]) == pytest.approx(1.5 * natural, rel=0.02)
    boxes = []
    for name, scale in (("plain.pdf", None), ("big.pdf", 1.5)):  # the page size, read from the PDF itself
        data = gv.render(out, tmp_path / name, scale=scale).read_bytes()
        boxes.append([float(v) for v in re.search(rb"/MediaBox \[([\d. ]+)\]", data).group(1).split()])
    assert boxes[1][2] - boxes[0][2] == pytest.approx(0.5 * natural, rel=0.02)  # the page adds a fixed margin


def test_bad_slide_options_get_one_message(tmp_path):
    for bad in (["--dpi", "0"], ["--scale", "-1"], ["--scale", "0"], ["--dpi", "nan"], ["--dpi", "many"],
                ["--landscape", "--rankdir", "TB"]):
        done = cli("render", *EXPRESSION, "-o", "x.png", *bad, cwd=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr, (bad, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (bad, done.stderr)
        assert (bad[0] if bad[0] != "--landscape" else "--rankdir TB") in done.stderr, (bad, done.stderr)
        assert not (tmp_path / "x.png").exists()
    x = gv.Value(2.0, label="x")
    with pytest.raises(gv.GradvizError, match="--scale must be between"):
        gv.render(x * x, tmp_path / "never.png", scale=0)


def test_dpi_on_a_vector_format_says_what_it_does(tmp_path):
    done = cli("render", *EXPRESSION, "-o", "g.svg", "--dpi", "300", cwd=tmp_path)
    assert done.returncode == 0 and "wrote g.svg" in done.stdout
    assert "--dpi sets the resolution of .png and .jpeg" in done.stderr and "--scale" in done.stderr


def test_the_slides_command_in_the_docs_runs(tmp_path):
    text = (ROOT / "docs" / "cli.md").read_text()
    command = next(line for line in text.splitlines() if line.startswith("gradviz render") and "--dpi" in line)
    args = shlex.split(command)[1:]
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    width, height = png_size(tmp_path / args[args.index("-o") + 1])
    assert width > height and width > 1500  # landscape, at twice the pixels


@pytest.mark.skipif(backends.embedded_executable() is None,
                    reason="graphviz-pure (the embedded renderer) has no wheel for this platform")
def test_pdf_without_system_graphviz_says_what_is_missing(tmp_path):
    """Only the embedded renderer on PATH: the message names the missing system Graphviz, not graphviz-pure."""
    scripts = Path(sysconfig.get_path("scripts"))
    path = str(scripts)  # the venv's scripts (graphviz-pure among them), no /usr/bin with its `dot`
    assert shutil.which("dot", path=path) is None
    done = cli("render", *EXPRESSION, "-o", "slides.pdf", cwd=tmp_path, env={"PATH": path})
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr.strip()
    assert "PDF needs the system Graphviz" in message and "graphviz-pure, installed" in message
    assert "not installed" not in message and "apt-get install graphviz" in message
    png = cli("render", *EXPRESSION, "-o", "slides.png", "--dpi", "150", cwd=tmp_path, env={"PATH": path})
    assert png.returncode == 0 and png_size(tmp_path / "slides.png")[0] > 0  # the embedded renderer does the rest


@pytest.fixture(scope="module")
def laptop(tmp_path_factory):
    """Headless Chromium with a 1280x800 laptop screen."""
    if browser.unavailable():
        pytest.skip(browser.unavailable())
    with browser.chromium(tmp_path_factory.mktemp("profile"), 1280, 800) as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        yield driver


# The shown frame's caption and graph: where they sit on the screen, and the graph's smallest text in CSS px.
FRAME = """
const frame = document.querySelector('figure.gv-frame:not([hidden])');
const caption = frame.querySelector('figcaption').getBoundingClientRect();
const svg = frame.querySelector('svg');
let smallest = 1e9;
for (const t of svg.querySelectorAll('text')) {
  if (t.textContent.trim()) smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
}
return [frame.dataset.step, caption.top, caption.bottom, frame.querySelector('figcaption').innerText,
        svg.getBoundingClientRect().bottom, smallest];
"""


def neuron() -> gv.Value:
    x1, w1 = gv.Value(2.0, label="x1"), gv.Value(-3.0, label="w1")
    x2, w2 = gv.Value(0.0, label="x2"), gv.Value(1.0, label="w2")
    b = gv.Value(6.8813735870195432, label="b")
    return (x1 * w1 + x2 * w2 + b).tanh()


def test_the_step_through_page_keeps_the_arithmetic_visible_at_1280x800(laptop, tmp_path):
    """The issue's neuron, top to bottom (its tall layout): each step's arithmetic and the whole graph on screen."""
    page = gv.animate_backward(neuron(), tmp_path / "steps.html", rankdir="TB")
    laptop.get(page.as_uri())
    for step in range(1, 6):
        laptop.find_element("css selector", ".gv-next").click()
        shown, top, bottom, caption, graph_bottom, smallest = laptop.execute_script(FRAME)
        assert shown == str(step)
        assert 0 <= top and bottom <= 800, (step, top, bottom)
        assert ".grad +=" in caption  # the arithmetic itself is what is on screen
        assert graph_bottom <= 800 + 1, (step, graph_bottom)  # and the graph it belongs to, whole
        assert smallest >= MIN_TEXT_PX, (step, smallest)  # shrunk to fit, still legible


def test_a_graph_too_tall_for_the_screen_stays_legible_under_its_arithmetic(laptop, tmp_path):
    x = gv.Value(0.3, label="x")
    out = x
    for _ in range(12):  # a long chain, top to bottom: taller than any screen at a legible size
        out = (out * 1.1).tanh()
    page = gv.animate_backward(out, tmp_path / "tall.html", rankdir="TB")
    laptop.get(page.as_uri())
    laptop.find_element("css selector", ".gv-next").click()
    shown, top, bottom, caption, graph_bottom, smallest = laptop.execute_script(FRAME)
    assert shown == "1" and 0 <= top and bottom <= 800 and ".grad +=" in caption
    assert graph_bottom > 800 and smallest >= MIN_TEXT_PX  # the page scrolls rather than shrink text unreadably


def test_a_step_through_page_of_a_graph_with_plain_numbers_writes_their_arithmetic(tmp_path):
    """`x * 1.1` makes a constant node, which takes no gradient: the page steps past it (it used to crash)."""
    import math

    x = gv.Value(0.3, label="x")
    out = (x * 1.1).tanh()
    page = gv.animate_backward(out, tmp_path / "constant.html").read_text()
    upstream = 1 - math.tanh(0.33) ** 2  # d tanh(u)/du at u = 1.1 * 0.3
    assert f"x.grad += {upstream:.4g} × 1.1 = {upstream * 1.1:.4g}" in page
    assert x.grad == 0.0  # the page leaves the graph's gradients as they were


def test_gv_draw_warns_at_the_users_line():
    """gv.draw hands torch tensors to gv.torch; for gradviz's own graphs its warnings still name the caller."""
    x = gv.Value(2.0, label="x")
    with pytest.warns(UserWarning, match="call backward") as caught:
        gv.draw(x * x)
    assert caught[0].filename == __file__
