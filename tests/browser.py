"""Headless Chromium for the tests: docs/headless.py, the one way to start it (the docs' screenshots use it too)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))

from headless import chromium, unavailable  # noqa: E402,F401

__all__ = ["chromium", "unavailable"]
