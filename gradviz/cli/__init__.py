"""The `gradviz` command line (the `gradviz` script and `python -m gradviz`).

One module per job: flags (the options of check and render, which
`gradviz grade` reads its spec's settings with), check_command (a target's
check, and the self-test), causes (`gradviz causes`) and commands (the parser and
the dispatch to each command).
"""

from .check_command import file_target_report
from .commands import build_parser, main

__all__ = ["build_parser", "file_target_report", "main"]
