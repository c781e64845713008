"""The README's and the tutorials' code blocks run, their images are fresh, the site builds.

Documentation that is executed cannot rot: a renamed function or a changed
output breaks this test before it misleads a reader.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

import build_images  # noqa: E402  (docs/build_images.py: one runner for the docs and for this test)


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    readme = ROOT / "README.md"
    for number, block in enumerate(build_images.code_blocks(readme), 1):
        exec(compile(block, f"README.md, python block {number}", "exec"), namespace)


@pytest.mark.parametrize("page", build_images.pages(), ids=lambda p: p.name)
def test_tutorial_runs_and_its_images_are_fresh(page, tmp_path):
    sources = build_images.run_page(page, tmp_path)
    stale = build_images.stale_images(page, sources)
    assert not stale, f"out-of-date images {stale}: run python docs/build_images.py"
    for name in sources:
        assert (tmp_path / "images" / name).stat().st_size > 0


def test_every_image_a_page_shows_exists():
    for page in list((ROOT / "docs").glob("*.md")):
        for line in page.read_text().splitlines():
            if line.startswith("![") and "](" in line:
                target = line.split("](", 1)[1].split(")", 1)[0]
                assert (page.parent / target).exists(), f"{page.name} shows a missing image {target}"


def test_the_seven_tutorials_and_reference_pages_exist():
    names = {p.name for p in (ROOT / "docs").glob("*.md")}
    for k in range(1, 8):
        assert any(n.startswith(f"tutorial-{k}-") for n in names), f"tutorial {k} is missing"
    assert {"index.md", "api.md", "cli.md", "comparison.md"} <= names


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (the docs extra)")
def test_the_documentation_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "tutorial-5-your-layer" / "index.html").exists()


def test_readme_quickstart_has_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
