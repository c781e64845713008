"""`gradviz check`: a target (expression or file) checked and printed, or the self-test of every built-in."""

from __future__ import annotations

import json
import sys

from .. import __version__, progress, usage
from ..checking.text import format_report, paint, shorten, terminal_width, use_color
from ..errors import GradvizError
from .reading_flags import reading_options
from .flags import assignments, optimizer_roles


def inputs_of(args) -> dict[str, str]:
    return assignments(args.input, "--input")


def run_check(args) -> int:
    with progress.shown(sys.stderr):  # a bar on the terminal when a check runs past a second
        return _run_check(args)


def _run_check(args) -> int:
    from .. import targets

    options = {"eps": args.eps, "atol": args.atol, "rtol": args.rtol, "mode": args.mode, "seed": args.seed}
    if args.strict:
        options["strict"] = True
    if args.target is None:
        return _self_test(args)
    usage.check_target_file(args.target)
    if targets.is_file_target(args.target) or args.optimizer:  # --optimizer: a file target, or its error
        report = file_target_report(args)
    else:
        from ..targets.engine import parents_unused

        parents_unused(args)
        build, values = targets.expression_function(args.target, targets.parse_at(args.at), args.seed)
        from ..checking.core import check

        report = check(build, *values, **options)
    if args.render:
        if report.root is None:
            raise GradvizError("--render needs a recorded graph; a hand-written layer is checked as a black box")
        from ..rendering import render

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
    from .. import targets
    from ..targets import engine as engine_target

    engine = None if getattr(args, "optimizer", None) else engine_target.engine_class(args.target)
    if engine is not None:  # a student's own autograd class (gv.check_engine)
        return engine_target.check_target(engine, args)
    engine_target.parents_unused(args)
    if getattr(args, "optimizer", None):
        return targets.check_optimizer_target(args.target, args.optimizer, args_json=args.args_json,
                                              steps=args.steps, seed=args.seed,
                                              roles=optimizer_roles(getattr(args, "role", None) or []))
    options = {"eps": args.eps, "atol": args.atol, "rtol": args.rtol, "mode": args.mode, "seed": args.seed}
    if args.strict:
        options["strict"] = True
    return targets.check_file_target(args.target, args_json=args.args_json, input_shape=args.input_shape,
                                     inputs=inputs_of(args), options=options, **_convention_options(args))


def _convention_options(args) -> dict:
    """The hand-written-code flags; a namespace without them (grading's) gets their defaults."""
    return {"init": assignments(getattr(args, "init", None) or [], "--init"),
            "forward": getattr(args, "forward", None), "backward": getattr(args, "backward", None),
            "wrt": getattr(args, "wrt", None), "batch_axis": getattr(args, "batch_axis", None),
            "params": _names(getattr(args, "params", None)),
            "per_example_dout": getattr(args, "per_example_dout", False), "reading": reading_options(args)}


def _names(text: str | None) -> list[str] | None:
    """--params W,b -> ["W", "b"]; --params "" -> [] (only the input); absent -> None (detected)."""
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not n.replace("[", "").replace("]", "").replace("'", "").replace(".", "_").isidentifier()]
    if bad:
        raise GradvizError(f"--params takes attribute names separated by commas, e.g. --params W,b; got {bad[0]!r}")
    return names


def _json_document(target, reports) -> dict:
    """The --json schema (stable): version, target, ok, passed/failed counts, and one report per check."""
    data = [r.to_dict() for r in reports]
    return {"gradviz": __version__, "schema": 1, "target": target, "ok": all(r.ok for r in reports),
            "passed": sum(r.ok for r in reports), "failed": sum(not r.ok for r in reports), "reports": data}


def _self_test(args) -> int:
    from .. import selftest

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
