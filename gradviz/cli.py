"""The `gradviz` command line: `check` and `render`.

Exit codes: 0 every gradient agrees, 1 a mismatch was found, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__, progress
from .checking.text import format_report, paint, shorten, terminal_width, use_color
from .errors import GradvizError

EXAMPLES = """examples:
  gradviz check                                   self-test every op, layer, loss and optimizer
  gradviz check "tanh(w*x + b)" --at w=0.5,x=2,b=-1
  gradviz check my_layer.py:Conv2D --input-shape 2,3,8,8 --args '{"pad": 1}'
  gradviz check layers.py:affine_forward,affine_backward --input x=4,5 --input w=5,3 --input b=3
  gradviz check losses.py:softmax_loss --input x=5,10 --input "y=randint(10, size=5)"
  gradviz render "tanh(w*x + b)" --at w=0.5,x=2,b=-1 -o graph.svg
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help keeps the examples' layout and states each option's default where it has a real one.

    argparse.ArgumentDefaultsHelpFormatter would also print "(default: None)"
    and "(default: False)" for every flag; this prints only defaults that say something.
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        meaningless = action.default is None or action.default is False or action.default == [] \
            or action.default is argparse.SUPPRESS
        if action.option_strings and not meaningless and "%(default)" not in text and "default:" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradviz", formatter_class=HelpFormatter, epilog=EXAMPLES,
        description="Draw computation graphs and verify gradients against SymPy and finite differences.")
    parser.add_argument("--version", action="version", version=f"gradviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check gradients (no target: self-test every built-in)",
                           formatter_class=HelpFormatter, epilog=EXAMPLES)
    check.add_argument("target", nargs="?", help='an expression like "tanh(w*x + b)", or path/file.py:NAME')
    _common(check)
    check.add_argument("--args", dest="args_json", metavar="JSON",
                       help="settings: a class's constructor arguments, or a function's keyword settings, "
                            "e.g. '{\"pad\": 1}' (each function of a pair gets the ones it accepts)")
    _convention_flags(check)
    check.add_argument("--input-shape", metavar="SHAPE", help="input shape for a layer or loss class, e.g. 2,3,8,8")
    output = check.add_mutually_exclusive_group()  # one output format: --json --markdown is a usage error
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    check.add_argument("--render", metavar="FILE", help="draw the checked graph with the verdict on it")
    _tolerance_flags(check)
    _optimizer_flags(check)
    check.add_argument("--mode", choices=("auto", "full", "directional"), default="auto",
                       help="finite differences per element (full), along random directions, or auto by size")
    output.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    output.add_argument("-v", "--verbose", action="store_true", help="print every report in full")

    render = sub.add_parser("render", help="draw the graph of an expression or a function",
                            formatter_class=HelpFormatter)
    render.add_argument("target", help='an expression like "tanh(w*x + b)", or path/file.py:NAME')
    _common(render)
    render.add_argument("-o", "--output", required=True, metavar="FILE", help="graph.svg | .png | .pdf | .dot")
    render.add_argument("--rankdir", default="auto", choices=("auto", "LR", "TB", "RL", "BT"),
                        help="layout direction; auto picks the narrower of LR and TB")
    render.add_argument("--collapse", type=int, metavar="LEVEL", help="fold scopes deeper than LEVEL")
    render.add_argument("--show-order", action="store_true", help="number the ops in backward order")
    render.add_argument("--formulas", action="store_true", help="write each edge's local derivative")
    render.add_argument("--animate", metavar="HTML", help="also write a step-through page of backward()")
    from .grade.cli import add_command as add_grade_command

    add_grade_command(sub)
    from .cli_causes import add_command as add_causes_command

    add_causes_command(sub)
    return parser


def _convention_flags(check: argparse.ArgumentParser) -> None:
    """Flags for checking hand-written code as it is written (see docs/cli.md)."""
    check.add_argument("--init", action="append", default=[], metavar="NAME=SPEC",
                       help="a constructor argument of a class, e.g. --init W=4,3 (repeatable; SPEC as for --input)")
    check.add_argument("--forward", metavar="METHOD", help="the forward method of a class (default: detected)")
    check.add_argument("--backward", metavar="METHOD", help="the backward method of a class (default: detected)")
    check.add_argument("--wrt", metavar="NAME", help="the argument a gradient belongs to (default: guessed, and said)")
    check.add_argument("--batch-axis", type=int, default=None, metavar="AXIS",
                       help="the examples axis of the input: 1 for (features, examples) code")
    check.add_argument("--params", metavar="NAMES",
                       help="the layer's parameters, e.g. W,b (default: every float array the output depends on; "
                            "an empty value checks only the input)")
    check.add_argument("--per-example-dout", action="store_true",
                       help="dout holds per-example gradients: expect 1/m in the parameter gradients only "
                            "(the deeplearning.ai convention)")


def _names(text: str | None) -> list[str] | None:
    """--params W,b -> ["W", "b"]; --params "" -> [] (only the input); absent -> None (detected)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not n.replace("[", "").replace("]", "").replace("'", "").replace(".", "_").isidentifier()]
    if bad:
        raise GradvizError(f"--params takes attribute names separated by commas, e.g. --params W,b; got {bad[0]!r}")
    return names


def _assignments(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise GradvizError(f"{flag} takes NAME=SPEC, e.g. {flag} x=4,5 or {flag} \"y=randint(10, size=4)\"; "
                               f"got {item!r}")
        out[name.strip()] = value
    return out


def _tolerance_flags(p: argparse.ArgumentParser) -> None:
    """--eps/--atol/--rtol, validated at parse time: `--eps 0` is a usage error (exit 2), not a traceback."""
    p.add_argument("--eps", type=_number(positive=True), default=1e-6, help="finite-difference step (> 0)")
    p.add_argument("--atol", type=_number(positive=False), default=1e-5, help="absolute tolerance (>= 0)")
    p.add_argument("--rtol", type=_number(positive=False), default=1e-3, help="relative tolerance (>= 0)")
    p.add_argument("--strict", action="store_true",
                   help="also fail what exceeds 10x the measured finite-difference error (catches 1e-5 relative bugs)")


def _number(positive: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {'> 0, e.g. 1e-6' if positive else '>= 0'}")
        return value

    return parse


def _optimizer_flags(p: argparse.ArgumentParser) -> None:
    """--optimizer [KIND]: check a hand-written optimizer (gv.check_optimizer); --args then gives hyperparameters."""
    from .checking.optimizers import KINDS

    p.add_argument("--optimizer", nargs="?", const="auto", choices=("auto",) + KINDS, metavar="KIND",
                   help=f"the target is an optimizer: compare it with the {', '.join(KINDS)} rule (no KIND: auto)")
    p.add_argument("--steps", type=int, default=5, help="optimizer steps compared (with --optimizer)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--at", metavar="NAME=VALUE,...", help="values of an expression's names (default: seeded random)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=SPEC",
                   help="an argument of a file function or method: 2.5, a shape 4,5, randn(4,5), rand(3), "
                        "randint(10, size=5), zeros/ones/eye, [1, 0, 2], or relu/tanh/sigmoid/identity (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs, cotangents and directions")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def main(argv: list[str] | None = None) -> int:
    if os.getcwd() not in sys.path and "" not in sys.path:  # the script sees the working directory, like -m
        sys.path.insert(0, os.getcwd())
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if getattr(args, "handler", None):  # subcommands registered by their own package
            return args.handler(args)
        return _check(args) if args.command == "check" else _render(args)
    except GradvizError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"gradviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130


def _inputs(args) -> dict[str, str]:
    return _assignments(args.input, "--input")


def _check(args) -> int:
    with progress.shown(sys.stderr):  # a bar on the terminal when a check runs past a second
        return _run_check(args)


def _run_check(args) -> int:
    from . import targets

    options = {"eps": args.eps, "atol": args.atol, "rtol": args.rtol, "mode": args.mode, "seed": args.seed}
    if args.strict:
        options["strict"] = True
    if args.target is None:
        return _self_test(args)
    if targets.is_file_target(args.target) or args.optimizer:  # --optimizer: a file target, or its error
        report = file_target_report(args)
    else:
        build, values = targets.expression_function(args.target, targets.parse_at(args.at), args.seed)
        from .checking.core import check

        report = check(build, *values, **options)
    if args.render:
        if report.root is None:
            raise GradvizError("--render needs a recorded graph; a hand-written layer is checked as a black box")
        from .rendering import render

        render(report.root, args.render, report=report)
    if args.json:
        print(json.dumps(_json_document(args.target, [report]), indent=2))
    elif args.markdown:
        print(report.to_markdown())
    elif args.quiet:
        print(report.verdict)
    else:
        print(format_report(report, color=use_color(sys.stdout)))
    return 0 if report.ok else 1


def file_target_report(args):
    """The Report of `gradviz check path/file.py:NAME ...`; `gradviz grade` runs each target through it."""
    from . import targets

    from . import engine_target

    engine = None if getattr(args, "optimizer", None) else engine_target.engine_class(args.target)
    if engine is not None:  # a student's own autograd class (gv.check_engine)
        return engine_target.check_target(engine, args)
    if getattr(args, "optimizer", None):
        return targets.check_optimizer_target(args.target, args.optimizer, args_json=args.args_json,
                                              steps=args.steps, seed=args.seed)
    options = {"eps": args.eps, "atol": args.atol, "rtol": args.rtol, "mode": args.mode, "seed": args.seed}
    if args.strict:
        options["strict"] = True
    return targets.check_file_target(args.target, args_json=args.args_json, input_shape=args.input_shape,
                                     inputs=_inputs(args), options=options, **_convention_options(args))


def _convention_options(args) -> dict:
    """The hand-written-code flags; a namespace without them (grading's) gets their defaults."""
    return {"init": _assignments(getattr(args, "init", None) or [], "--init"),
            "forward": getattr(args, "forward", None), "backward": getattr(args, "backward", None),
            "wrt": getattr(args, "wrt", None), "batch_axis": getattr(args, "batch_axis", None),
            "params": _names(getattr(args, "params", None)),
            "per_example_dout": getattr(args, "per_example_dout", False)}


def _json_document(target, reports) -> dict:
    """The --json schema (stable): version, target, ok, passed/failed counts, and one report per check."""
    data = [r.to_dict() for r in reports]
    return {"gradviz": __version__, "schema": 1, "target": target, "ok": all(r.ok for r in reports),
            "passed": sum(r.ok for r in reports), "failed": sum(not r.ok for r in reports), "reports": data}


def _self_test(args) -> int:
    from . import selftest

    items = selftest.items(args.seed, args.strict)
    table = None if (args.json or args.markdown or args.quiet) else _SelfTestTable(items, terminal_width(),
                                                                                  use_color(sys.stdout))
    rows = []
    if table:
        print(table.header(), flush=True)
    with progress.task(len(items), "self-test") as step:
        for item, outcome in selftest.run(args.seed, args.strict):  # each row printed as soon as its check finishes
            ok = selftest.passed(item, outcome)
            rows.append((item, outcome, ok))
            if table:
                progress.clear()
                print(table.row(item, outcome, ok), flush=True)
                if args.verbose and outcome.report is not None:
                    print(format_report(outcome.report, color=table.color), end="\n\n", flush=True)
            step()
    failed = sum(not ok for _, _, ok in rows)
    if args.json:
        doc = {"gradviz": __version__, "schema": 1, "target": None, "ok": failed == 0,
               "passed": len(rows) - failed, "failed": failed,
               "items": [{"name": i.name, "shapes": i.shapes, "status": o.status, "expected": i.expect,
                          "ok": ok, "abs_err": o.abs_err, "rel_err": o.rel_err, "message": o.message}
                         for i, o, ok in rows]}
        print(json.dumps(doc, indent=2))
    elif args.markdown:
        print("| name | shapes | finite abs err | symbolic abs err | status |\n|---|---|---|---|---|")
        for i, o, ok in rows:
            print(f"| {i.name} | {i.shapes} | {_err(o.abs_err.get('finite'))} | {_err(o.abs_err.get('symbolic'))} | "
                  f"{o.status if ok else 'FAIL'} |")
        print(f"\n{len(rows) - failed} passed, {failed} failed")
    else:
        print(f"{len(rows) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


class _SelfTestTable:
    """The self-test's rows, laid out before any check runs (so each row can be printed when it is done)."""

    ERR = len("1.0e-10/1.0e-10")

    def __init__(self, items, width: int, color: bool):
        self.width, self.color = width, color
        self.name = max(len("name"), *(len(i.name) for i in items))
        self.shapes = max(len("shapes"), *(len(i.shapes) for i in items))
        spare = width - (2 * self.ERR + 4 * 2 + len("NONDIFF"))  # what the name and shapes columns may take
        if self.name + self.shapes > spare:  # shapes give way first, then names (both shortened in the middle)
            self.shapes = max(8, min(self.shapes, spare - self.name))
            self.name = max(10, spare - self.shapes)

    def _cells(self, name: str, shapes: str, fin: str, sym: str) -> str:
        return (f"{shorten(name, self.name):<{self.name}}  {shorten(shapes, self.shapes):<{self.shapes}}  "
                f"{fin:>{self.ERR}}  {sym:>{self.ERR}}  ")

    def header(self) -> str:
        return self._cells("name", "shapes", "finite abs/rel", "symbolic abs/rel") + "status"

    def row(self, item, outcome, ok: bool) -> str:
        fin = f"{_err(outcome.abs_err.get('finite'))}/{_err(outcome.rel_err.get('finite'))}"
        sym = f"{_err(outcome.abs_err.get('symbolic'))}/{_err(outcome.rel_err.get('symbolic'))}"
        line = self._cells(item.name, item.shapes, fin, sym) + paint(outcome.status if ok else "FAIL", self.color)
        message = outcome.message if not ok else ""
        return f"{line}\n    {message}" if message else line


def _err(x) -> str:
    return "-" if x is None else f"{x:.1e}"


def _render(args) -> int:
    from . import targets
    from .rendering import animate_backward, render

    from . import engine_target

    engine, report = engine_target.engine_class(args.target), None
    if engine is not None:  # a student's engine: its own small graph, with the check's verdict on it
        root, report = engine_target.render_root(engine, args)
    else:
        root = targets.graph_of(args.target, targets.parse_at(args.at), _inputs(args), args.seed)
    path = render(root, args.output, rankdir=args.rankdir, collapse=args.collapse, show_order=args.show_order,
                  show_formulas=args.formulas, report=report)
    print(f"wrote {path}")
    if args.animate:
        print(f"wrote {animate_backward(root, args.animate, rankdir=args.rankdir, show_order=args.show_order, show_formulas=args.formulas)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
