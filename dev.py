#!/usr/bin/env python3
"""Set up gradviz in ./.venv and run it: the two Quickstart commands.

    python3 dev.py demo    # set up, then draw a small graph, check its gradients, run `gradviz check`
    python3 dev.py test    # set up with the test and docs extras, then run the whole test suite
    GRADVIZ_DEV_EXTRAS=torch python3 dev.py test    # the same with PyTorch, for the gv.torch tests
    GRADVIZ_DEV_VENV=.venv-debian /usr/bin/python3 dev.py test   # in a second environment

Only the standard library is used, so this works on a machine with nothing but
python3 (3.11, e.g. Debian 12's). The environment is rebuilt only when pyproject.toml
changes, so a second run starts at once. Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# GRADVIZ_DEV_VENV names another environment, e.g. a second one made by another interpreter (CI).
VENV = ROOT / os.environ.get("GRADVIZ_DEV_VENV", ".venv")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*args: object, **kwargs) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)


def ensure_venv() -> None:
    if PYTHON.exists() and subprocess.run([PYTHON, "-m", "pip", "--version"], capture_output=True).returncode == 0:
        return
    say(f"creating {VENV.relative_to(ROOT)}")
    try:
        venv.create(VENV, with_pip=True, clear=True)
    except subprocess.CalledProcessError:
        # Debian's python3 without the python3-venv package has no ensurepip:
        # make the venv bare and install pip from its wheel on PyPI.
        say("ensurepip is not available; installing pip from its PyPI wheel")
        venv.create(VENV, with_pip=False, clear=True)
        install_pip_from_wheel()


def install_pip_from_wheel() -> None:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["filename"].endswith(".whl"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:
            path.write_bytes(response.read())
        # A pip wheel can run itself: python pip.whl/pip install pip.whl
        run(PYTHON, path / "pip", "install", "--quiet", "--no-index", path)


def ensure_installed(extras: str) -> None:
    """pip install -e .[extras], skipped when nothing it depends on has changed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras.replace(',', '-') or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing gradviz{f'[{extras}]' if extras else ''} into .venv (first run only)")
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "demo":
        ensure_installed("")
        code = subprocess.run([PYTHON, ROOT / "examples" / "quickstart.py", *rest], cwd=ROOT).returncode
        if code:
            return code
        expression = ["check", "tanh(x1*w1 + x2*w2 + b)", "--at", "x1=2,w1=-3,x2=0,w2=1,b=6.8813735870195432"]
        say("gradviz " + " ".join(f'"{a}"' if " " in a else a for a in expression))
        return subprocess.run([PYTHON, "-m", "gradviz", *expression], cwd=ROOT).returncode
    # The suite also builds the documentation site. GRADVIZ_DEV_EXTRAS adds extras, e.g. "torch" in CI,
    # so the gv.torch tests run there (without it they skip and say why).
    extras = ",".join(["test", "docs", *filter(None, os.environ.get("GRADVIZ_DEV_EXTRAS", "").split(","))])
    ensure_installed(extras)
    return subprocess.run([PYTHON, "-m", "pytest", *rest], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
