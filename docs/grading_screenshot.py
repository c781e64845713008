"""Take the picture of the grading summary shown in tutorial 10, with headless Chromium.

    python docs/grading_screenshot.py      # rewrite docs/images/grading-summary.png

It runs the tutorial's own code in a scratch folder (so the picture is of the page's class) and
photographs results/summary.html. Needs chromium, chromium-driver and selenium (the test extra).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "tutorial-grading.md"
PICTURE = DOCS / "images" / "grading-summary.png"


def available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


@contextmanager
def chromium(profile: Path, width: int = 1000, height: int = 1200):
    """A headless Chromium driven by selenium, closed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def main() -> int:
    if not available():
        print("needs chromium, chromium-driver and selenium", file=sys.stderr)
        return 1
    sys.path.insert(0, str(DOCS))
    import pages

    page = pages.run_page(PAGE)
    with tempfile.TemporaryDirectory() as tmp, chromium(Path(tmp) / "profile") as driver:
        driver.get((page.workdir / "results" / "summary.html").as_uri())
        driver.save_screenshot(str(PICTURE))
    print(f"wrote {PICTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
