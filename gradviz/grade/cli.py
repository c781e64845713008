"""The `gradviz grade` subcommand (registered by gradviz.cli.commands with add_command)."""

from __future__ import annotations

import argparse
import sys
import time

EXAMPLES = """examples:
  gradviz grade submissions/ --spec grading.toml --out results/
  gradviz grade submissions/ --spec grading.toml --out results/ --resume       continue an interrupted run
  gradviz grade submissions/ --spec grading.toml --out shard-2 --shard 2/4     one job of a CI matrix
  gradviz grade merge shard-1 shard-2 shard-3 shard-4 --out results/
  gradviz grade autograder grading.toml -o autograder.zip                      Gradescope's autograder zip
  gradviz grade --gradescope /autograder/submission --spec grading.toml --out /autograder/results

Each student's files are in a folder of their own: submissions/alice/layers.py, ...
Writes gradebook.csv, gradviz-results.json, junit.xml, feedback/STUDENT.md and summary.html into --out.
Exit code 0 when every submission was graded (whatever the grades), 2 for bad usage or a bad spec.
"""


def add_command(sub) -> None:
    """Add `grade` to the gradviz command line's subparsers."""
    p = sub.add_parser("grade", help="grade a folder of student submissions against a TOML spec",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
                       description="Grade every submission folder in SUBMISSIONS safely and in parallel, "
                                   "or `merge` the results folders of shards.")
    p.add_argument("folders", nargs="+", metavar="SUBMISSIONS", help="the folder of submissions "
                   "(or: merge FOLDER...)")
    p.add_argument("--spec", metavar="TOML", help="the grading spec (targets, inputs, points, hidden variants)")
    p.add_argument("--out", metavar="DIR", default="grading-results", help="results folder (default %(default)s)")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="submissions graded at once (default: every core)")
    p.add_argument("--timeout", type=float, metavar="S", help="wall-clock seconds per submission (default: the spec's)")
    p.add_argument("--memory", type=float, metavar="MB", help="memory per submission (default: the spec's)")
    p.add_argument("--output-limit", type=float, metavar="MB", help="printed output per submission (default: the spec's)")
    p.add_argument("--shard", metavar="I/N", help="grade only every N-th submission, starting at the I-th")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--no-sandbox", action="store_true", help="run submissions without bubblewrap isolation "
                   "(only for code you trust; every row says so)")
    p.add_argument("--gradescope", action="store_true", help="grade one submission folder and write Gradescope's "
                   "results.json into --out")
    p.add_argument("-o", "--output", metavar="ZIP", help="with `autograder SPEC`: the zip to write")
    p.add_argument("--wheel", metavar="WHL", help="with `autograder SPEC`: gradviz's wheel to bundle "
                   "(default: built from this gradviz's source tree)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..errors import GradvizError
    from .. import usage
    from . import grade, merge
    from .progress import ProgressBar

    start = time.perf_counter()
    usage.check_output_folder(args.out, "--out")
    if args.jobs is not None and args.jobs < 1:
        raise GradvizError(f"-j takes a number of parallel jobs >= 1, got {args.jobs}")
    if args.folders[0] == "autograder":
        return _autograder(args)
    if args.folders[0] == "merge":
        results = merge(args.folders[1:], args.out)
        verb = "merged"
    else:
        if len(args.folders) > 1:
            raise GradvizError(f"give one folder of submissions, got {len(args.folders)}: {' '.join(args.folders)}")
        if not args.spec:
            raise GradvizError("which spec? add --spec grading.toml (see `gradviz grade --help`)")
        results = grade(args.folders[0], args.spec, args.out, jobs=args.jobs, timeout=args.timeout,
                        memory_mb=args.memory, output_mb=args.output_limit, shard=args.shard, resume=args.resume,
                        progress=ProgressBar(sys.stderr), no_sandbox=args.no_sandbox, gradescope=args.gradescope)
        verb = "graded"
    full = sum(r.score == r.max_score for r in results)
    print(f"{verb} {len(results)} submissions in {time.perf_counter() - start:.1f} s: {full} with full marks, "
          f"{len(results) - full} not")
    print(f"wrote {args.out}/gradebook.csv, gradviz-results.json, junit.xml, feedback/, summary.html")
    return 0


def _autograder(args) -> int:
    from ..errors import GradvizError
    from .gradescope import build_autograder

    if len(args.folders) != 2 or not args.output:
        raise GradvizError("write it as: gradviz grade autograder grading.toml -o autograder.zip")
    path = build_autograder(args.folders[1], args.output, wheel=args.wheel, no_sandbox=args.no_sandbox)
    print(f"wrote {path}: upload it as the assignment's autograder on Gradescope (setup.sh, run_autograder, "
          "the spec and gradviz's wheel)")
    return 0
