"""Headless Chromium, one way to find it and start it: for the tests of what people see in a browser and for the
docs' screenshots (docs/grading_screenshot.py)."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def unavailable() -> str | None:
    """Why no browser can be started here (the tests skip and say so), or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "needs Debian's chromium and chromium-driver (CI installs them: apt-get install chromium chromium-driver)"
    return None


@contextmanager
def chromium(profile: Path, width: int = 1280, height: int = 900, extra_flags: tuple[str, ...] = ()) -> Iterator:
    """A headless Chromium driven by selenium with its own profile folder, closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--window-size={width},{height}", f"--user-data-dir={profile}", *extra_flags):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()
