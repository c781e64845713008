"""Every benchmark side by side with its reference, in one command.

    python benchmarks/run.py [--quick] [--json FILE] [--only engine,conv,check]

Prints one table of medians and ratios (reference time / gradviz time, so
higher is better for gradviz) and, with --json, writes the same rows as JSON.
Each benchmark also runs alone: python benchmarks/bench_engine.py, etc.
micrograd comes from the `bench` extra; PyTorch is used when installed and
never required.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import print_table, write_json  # noqa: E402

SUITES = ("engine", "conv", "check", "render", "torch", "optim", "grade", "diagnosis", "conventions",
          "terminal", "handwritten", "engines", "reading")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--only", default=",".join(SUITES), help=f"comma-separated subset of {SUITES}")
    args = parser.parse_args(argv)
    rows = []
    flags = ["--quick"] if args.quick else []
    for name in args.only.split(","):
        if name not in SUITES:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(SUITES)}")
        module = __import__(f"bench_{name}")
        print(f"\n== {name} ==", flush=True)
        rows += module.main(flags)
    print("\n== all ==")
    print_table(rows)
    if args.json:
        write_json(rows, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
