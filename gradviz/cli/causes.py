"""`gradviz causes`: the table of every cause the diagnosis can name (what a FAIL may say, and its id)."""

from __future__ import annotations

import argparse
import json


def add_command(sub) -> None:
    causes = sub.add_parser("causes", help="list every cause of a wrong gradient gradviz can name")
    causes.add_argument("--json", action="store_true", help="print the table as JSON")
    causes.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..checking.diagnosis.catalogue import CAUSES

    if args.json:
        print(json.dumps({cause: {"family": family, "meaning": meaning}
                          for cause, (family, meaning) in CAUSES.items()}, indent=2))
        return 0
    width = max(map(len, CAUSES))
    family = None
    for cause, (group, meaning) in CAUSES.items():
        if group != family:
            print(("\n" if family else "") + f"{group}:")
            family = group
        print(f"  {cause:<{width}}  {meaning}")
    return 0
