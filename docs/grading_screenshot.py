"""Take the picture of the grading summary shown in tutorial 10, with headless Chromium.

    python docs/grading_screenshot.py      # rewrite docs/images/grading-summary.png

It runs the tutorial's own code in a scratch folder (so the picture is of the page's class) and
photographs results/summary.html. Needs chromium, chromium-driver and selenium (the test extra).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

from headless import chromium, unavailable  # noqa: E402  (docs/headless.py)

PAGE = DOCS / "tutorial-grading.md"
PICTURE = DOCS / "images" / "grading-summary.png"


def available() -> bool:
    return unavailable() is None


def main() -> int:
    if not available():
        print("needs chromium, chromium-driver and selenium", file=sys.stderr)
        return 1
    import pages

    page = pages.run_page(PAGE)
    with tempfile.TemporaryDirectory() as tmp, \
            chromium(Path(tmp) / "profile", 1000, 1200, ("--hide-scrollbars",)) as driver:
        driver.get((page.workdir / "results" / "summary.html").as_uri())
        driver.save_screenshot(str(PICTURE))
    print(f"wrote {PICTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
