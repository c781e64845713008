"""MkDocs hooks: every ```python block of a page runs at build time and its output appears under it.

Writing a page: plain ```python blocks, run in order in one namespace per page,
in a scratch folder. Under each block the site shows what it printed, the
warnings it raised, and the value of its last line when that is an expression,
as a notebook would (`gv.draw(out)` shows the picture, `report` its table).
No `assert` or `warnings` handling in visible code: what keeps a page honest
is a test in tests/test_docs.py reading `executed(page).namespace` and
`shown(page, block)`. A block that raises fails the build. A block that must
not run says ```python exec="off"```.

markdown-exec renders each block (its source, highlighted, then the output);
docs/pages.py runs it. Each tutorial is also offered as a notebook.
"""

from __future__ import annotations

import sys
from pathlib import Path

import markdown_exec
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402  (docs/pages.py)

_current: dict = {"page": None, "errors": [], "formatting": False}


def _validator(language, inputs, options, attrs, md) -> bool:
    """Every python block runs, unless it says exec="off" (or is the source we are showing)."""
    return (not _current["formatting"] and not _current.get("missing")
            and inputs.pop("exec", "on").lower() not in ("off", "no", "false", "0"))


def _formatter(source, language, css_class, options, md, **kwargs) -> str:
    page = _current["page"]

    def run(code: str, **_: object) -> str:
        try:
            return page.run(code).html()
        except pages.CellError as error:
            _current["errors"].append(str(error))
            return f'<div class="gv-output"><pre class="gv-text"><code>{error}</code></pre></div>'

    _current["formatting"] = True  # the source block base_format renders must not run again
    try:
        return markdown_exec.base_format(language="python", run=run, code=source, md=md, html=True, source="above")
    finally:
        _current["formatting"] = False


def on_config(config):
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    fences.insert(0, {"name": "python", "class": "python", "validator": _validator, "format": _formatter})
    markdown_exec.markdown_config.save(config.markdown_extensions, config.mdx_configs)
    return config


def notebook_name(src_path: str) -> str:
    return "notebooks/" + Path(src_path).stem + ".ipynb"


def on_files(files, config):
    for page in pages.pages():
        if page.name.startswith("tutorial-"):
            files.append(File.generated(config, notebook_name(page.name), content=pages.notebook(page)))
    return files


def on_page_markdown(markdown, page, config, files):
    _current["page"] = pages.EXECUTED[page.file.src_path] = pages.Page(page.file.src_path)
    # A page needing an extra that is not installed (<!-- requires: torch -->) is shown, not run.
    _current["missing"] = pages.missing_requirements(page.file.abs_src_path)
    if _current["missing"]:
        return markdown.replace("\n", f"\n\n!!! note\n    The code on this page needs {', '.join(_current['missing'])}"
                                f" (pip install {_current['missing'][0]}), which this build did not "
                                "have: it is shown without its output.\n", 1)
    if page.file.src_path.startswith("tutorial-"):
        link = f"../{notebook_name(page.file.src_path)}"
        title, _, rest = markdown.partition("\n")
        markdown = (f'{title}\n\n<a class="gv-notebook" href="{link}" download>'
                    f"Download this tutorial as a notebook</a>\n{rest}")
    return markdown


def on_page_content(html, page, config, files):
    errors, _current["errors"] = _current["errors"], []
    if errors:
        raise PluginError(f"{page.file.src_path}: a code block failed:\n  " + "\n  ".join(errors))
    return html
