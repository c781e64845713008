"""The README's and the tutorials' code blocks run, in order, one namespace per file.

Documentation that is executed cannot rot: a renamed function or a changed
output breaks this test before it misleads a reader.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def code_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("path", [p for p in DOCS if code_blocks(p)], ids=lambda p: p.name)
def test_every_python_block_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(code_blocks(path), 1):
        try:
            exec(compile(block, f"{path.name} block {number}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{path.name}, python block {number} raised {type(exc).__name__}: {exc}\n{block}")


def test_readme_quickstart_has_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["python3 dev.py demo", "python3 dev.py test"]
