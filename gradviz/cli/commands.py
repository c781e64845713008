"""The `gradviz` command line: check, render, grade and causes.

Exit codes: 0 every gradient agrees, 1 a mismatch was found, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__, usage
from ..errors import GradvizError
from .check_command import inputs_of, run_check
from .flags import EXAMPLES, HelpFormatter, add_check_arguments, add_render_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = usage.OneLineParser(
        prog="gradviz", formatter_class=HelpFormatter, epilog=EXAMPLES,
        description="Draw computation graphs and verify gradients against SymPy and finite differences.")
    parser.add_argument("--version", action="version", version=f"gradviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_check_arguments(sub.add_parser("check", help="check gradients (no target: self-test every built-in)",
                                       formatter_class=HelpFormatter, epilog=EXAMPLES))
    add_render_arguments(sub.add_parser("render", help="draw the graph of an expression or a function",
                                        formatter_class=HelpFormatter))
    from ..grade.cli import add_command as add_grade_command  # grading is loaded only when the parser is built

    add_grade_command(sub)
    from .causes import add_command as add_causes_command

    add_causes_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return usage.guarded(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    if os.getcwd() not in sys.path and "" not in sys.path:  # the script sees the working directory, like -m
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    args = parser.parse_args(usage.join_negative_numbers(list(sys.argv[1:] if argv is None else argv)))
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if getattr(args, "handler", None):  # subcommands registered by their own package
            return args.handler(args)
        return run_check(args) if args.command == "check" else _render(args)
    except GradvizError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return 2


def _render(args) -> int:
    from .. import targets
    from ..targets import engine as engine_target
    from ..rendering import animate_backward, render

    engine, report = engine_target.engine_class(args.target), None
    if engine is not None:  # a student's engine: its own small graph, with the check's verdict on it
        root, report = engine_target.render_root(engine, args)
    else:
        engine_target.parents_unused(args)
        usage.check_target_file(args.target)
        root = targets.graph_of(args.target, targets.parse_at(args.at), inputs_of(args), args.seed)
    path = render(root, args.output, rankdir=args.rankdir, collapse=args.collapse, show_order=args.show_order,
                  show_formulas=args.formulas, report=report, dpi=args.dpi, scale=args.scale,
                  landscape=args.landscape)
    print(f"wrote {path}")
    if args.dpi is not None and path.suffix.lower() not in (".png", ".jpeg", ".jpg"):
        print(f"note: --dpi sets the resolution of .png and .jpeg pictures; {path.suffix or 'this format'} "
              "keeps its size (--scale F changes it)", file=sys.stderr)
    if args.animate:
        print(f"wrote {animate_backward(root, args.animate, rankdir=args.rankdir, show_order=args.show_order, show_formulas=args.formulas)}")
    return 0
