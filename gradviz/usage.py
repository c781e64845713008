"""The command line's first and last lines of defence: what argparse and the OS would otherwise get wrong.

- A negative number after a numeric option (`--eps -1e-6`) looks like an option to argparse ("expected one
  argument"): it is joined to its option, so the option's own check says what is wrong with the value.
- `notes.txt:f` is a file target with the wrong kind of file, not an expression with a syntax error.
- Piping into `head` closes stdout early: that is the reader's choice, not an error worth a traceback.
- Ctrl-C stops the run with one line, not silently and not with a traceback.
- The user's code calling sys.exit (0 would read as "all gradients agree") is exit 1 with its file:line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Callable

from .errors import GradvizError

NUMERIC_OPTIONS = ("--eps", "--atol", "--rtol", "--seed", "--dpi", "--scale", "--steps", "--timeout", "--memory")
_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
INTERRUPTED = 130
USER_CODE_FAILED = 1  # as for code that raised: the JSON would say ERROR
BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


def join_negative_numbers(argv: list[str]) -> list[str]:
    """['--eps', '-1e-6'] -> ['--eps=-1e-6'], so that argparse reads the value and the option judges it."""
    out: list[str] = []
    k = 0
    while k < len(argv):
        if argv[k] in NUMERIC_OPTIONS and k + 1 < len(argv) and _NUMBER.match(argv[k + 1]):
            out.append(f"{argv[k]}={argv[k + 1]}")
            k += 2
        else:
            out.append(argv[k])
            k += 1
    return out


def check_target_file(target: str | None) -> None:
    """A target naming an existing file that is neither Python nor a notebook gets its own message."""
    if not target or ".py:" in target or ".ipynb:" in target or target.endswith((".py", ".ipynb")):
        return  # Python files and notebooks are what gradviz reads
    path_text = target.rpartition(":")[0] if ":" in target else target
    if path_text and Path(path_text).is_file():
        raise GradvizError(f"{path_text} is not a Python file: gradviz check reads path/to/file.py:NAME "
                           f"(or an expression like \"tanh(w*x + b)\")")


def check_output_folder(folder: str, option: str) -> None:
    """An output folder that cannot be made (a file is in the way) is refused before any work is done."""
    path = Path(folder)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            what = "is a file" if part == path else f"is inside {part}, which is a file"
            raise GradvizError(f"{option} {folder}: {what}; give a folder path (it is created if missing)")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the option and where the help is, not the usage block."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def guarded(run: Callable[[], int]) -> int:
    """run() with a closed pipe kept silent and Ctrl-C told in one line."""
    try:
        code = run()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return BROKEN_PIPE
    except KeyboardInterrupt:
        print("\ngradviz: interrupted", file=sys.stderr)
        return INTERRUPTED
    except SystemExit as exc:
        at = _user_line(exc)
        if not at:
            raise  # gradviz's own exit (argparse, --help): its code stands
        print(f"gradviz: your code called sys.exit({exc.code!r}) at {at}, so there is no verdict: "
              "remove the call (or put script code under `if __name__ == \"__main__\":`)", file=sys.stderr)
        return USER_CODE_FAILED


def _user_line(exc: BaseException) -> str:
    """file:line of the user's frame that raised, or '' when the exit came from gradviz or a library."""
    from .checking.adapters.reading import where

    return where(exc)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
