"""Jupyter notebooks as code to check: `gradviz check hw2.ipynb:affine_forward`, and notebook submissions.

A notebook is run the way "Run All" runs it, without a kernel: its code cells in order, in one
module's namespace. IPython-only lines (magics such as `%matplotlib inline`, shell lines such as
`!pip install`, whole `%%` cell magics) cannot run in plain Python: they are skipped, and the
notes say which. Each cell has a time limit; a cell that raises stops the notebook (in grading, a cell
that starts a program stops only itself: see refuse_programs), and the error
names the cell by its number (the one Jupyter shows as In [n] counts executions, not cells; this is
the cell's position among the code cells, from 1).
"""

from __future__ import annotations

import errno
import json
import traceback
from pathlib import Path
from types import ModuleType

from .errors import GradvizError, ProgramRefused

CELL_TIMEOUT = 60.0  # seconds one cell may run
_cell_limit = [CELL_TIMEOUT]  # lowered by a grading worker to fit inside the submission's own time limit


_programs_refused = [False]  # set by a grading worker whose sandbox refuses new processes and programs


def refuse_programs() -> None:
    """From now on a cell that starts a program is stopped there with a note, not a failed submission.

    A grading sandbox lets no student code start a program (grade/seccomp.py), but notebooks start
    one for what grading never looks at: graphviz's `dot` to render a drawing (`draw_dot(root).render()`,
    `gv.render(loss, "graph.svg")`), a shell command. Failing the whole notebook for that would give a
    correct submission 0 marks.
    """
    _programs_refused[0] = True


def _started_a_program(exc: BaseException) -> bool:
    """Whether `exc` is the sandbox's refusal of a new process or program (EPERM from fork/exec)."""
    if not (_programs_refused[0] and isinstance(exc, OSError) and exc.errno == errno.EPERM):
        return False
    if isinstance(exc, ProgramRefused):  # gv.render's renderers are programs
        return True
    frames = traceback.extract_tb(exc.__traceback__)
    return any(Path(f.filename).name == "subprocess.py" or "multiprocessing" in Path(f.filename).parts
               for f in frames) or any(word in (frames[-1].line or "") for word in ("fork", "spawn", "exec", "system"))


def raised_on_import(where: str, exc: BaseException) -> GradvizError:
    """The error for code that raised while its file loaded, typed by what stopped it.

    Two grading limits surface as plain OSErrors in the student's own line: a print past the output
    limit (EFBIG: the grader adds which limit) and a program the sandbox refused (EPERM), which
    would otherwise read as a bare "Operation not permitted" with no hint of what to change.
    """
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return GradvizError(f"{where} raised {type(exc).__name__}: {exc}", kind="output_limit")  # the grader says why
    if _started_a_program(exc):
        program = f" ({Path(str(exc.filename)).name})" if getattr(exc, "filename", None) else ""
        return GradvizError(f"{where} starts a program{program}, which grading does not allow (threads are allowed; "
                            "processes and programs are not): put that part under `if __name__ == \"__main__\":` "
                            "so that loading the file only defines things", kind="import_raised")
    return GradvizError(f"{where} raised {type(exc).__name__}: {exc}",
                        kind="missing_module" if isinstance(exc, ModuleNotFoundError) else "import_raised")


def limit_cells(seconds: float) -> None:
    """Each cell's time limit from now on: a grader sets it under its own, so the endless cell is named."""
    _cell_limit[0] = min(CELL_TIMEOUT, seconds)
SUFFIX = ".ipynb"
_NOTES: dict[str, list[str]] = {}  # per notebook run in this process: what was skipped
_CUT: dict[str, list[str]] = {}  # per notebook run in this process: the cells stopped where they started a program


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(number among the code cells, source) of every code cell, in order."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GradvizError(f"{path} is not a readable notebook: {exc}", kind="syntax") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise GradvizError(f"{path} is not a Jupyter notebook (it has no list of cells)", kind="syntax")
    out = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append((len(out) + 1, "".join(source) if isinstance(source, list) else str(source)))
    return out


def python_of(number: int, source: str) -> tuple[str, list[str]]:
    """The cell's plain-Python lines, and notes for what was skipped (line numbers are kept)."""
    if source.lstrip().startswith("%%"):
        return "", [f"cell {number}: skipped the cell magic {source.lstrip().split()[0]} (IPython only)"]
    lines, notes = [], []
    for k, line in enumerate(source.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and stripped[:-1].isidentifier()):
            indent = line[:len(line) - len(stripped)]
            lines.append(f"{indent}pass  # gradviz skipped: {stripped[:40]}")  # keeps blocks and line numbers
            notes.append(f"cell {number}, line {k}: skipped {stripped[:60]!r} (IPython only)")
        else:
            lines.append(line)
    return "\n".join(lines), notes


def run_notebook(path: Path, module: ModuleType, timeout: float | None = None) -> list[str]:
    """Run the code cells into `module`; returns the notes. A raising or endless cell is a GradvizError."""
    timeout = _cell_limit[0] if timeout is None else timeout
    from .checking.adapters.reading import _Timeout, _time_limit

    notes: list[str] = []
    cut: list[str] = []  # cells stopped where they started a program (refuse_programs)
    module.__file__ = str(path)
    for number, source in code_cells(path):
        code_text, skipped = python_of(number, source)
        notes += skipped
        where = f"{path} cell {number}"
        try:
            compiled = compile(code_text, where, "exec")
        except SyntaxError as exc:
            raise GradvizError(f"syntax error in {path}, cell {number}, line {exc.lineno}: {exc.msg}",
                               kind="syntax") from None
        try:
            with _time_limit(timeout):
                exec(compiled, module.__dict__)  # noqa: S102 - the user's own notebook, run as `gradviz check` runs files
        except _Timeout:
            raise GradvizError(f"{path}: cell {number} did not finish within {timeout:g} s", kind="timeout") from None
        except Exception as exc:
            lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == where]
            at = f", line {lines[-1]}" if lines else ""
            if _started_a_program(exc):
                program = f" ({Path(str(exc.filename)).name})" if exc.filename else ""
                cut.append(f"cell {number}{at} starts a program{program}, which grading does not allow, so the rest "
                           "of that cell was skipped; drawings and shell commands are not graded")
                notes.append(cut[-1])
                continue
            error = raised_on_import(f"{path}: cell {number}{at}", exc)
            raise GradvizError(f"{error}{_after(cut)}", kind=error.kind) from None  # _after: what the cut rest defines
    _NOTES[str(path)] = notes
    _CUT[str(path)] = cut
    return notes


def cut_short(path: str | Path) -> str:
    """Why a name may be missing from the notebook at `path`: the cells stopped where they started a program."""
    return _after(_CUT.get(str(path), []))


def _after(cut: list[str]) -> str:
    return f" (after {' and '.join(cut)})" if cut else ""


def notes_of(path: str | Path) -> list[str]:
    """What running the notebook at `path` skipped (empty for a .py file or a notebook not run here)."""
    return list(_NOTES.get(str(path), []))


def loaded_notes() -> list[str]:
    """What every notebook run in this process skipped (a grading worker runs one submission's)."""
    return [n for notes in _NOTES.values() for n in notes]
