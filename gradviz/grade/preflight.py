"""Before any submission runs: every target that names a reference passes its own check on the teacher's code.

A setting that cannot work (an input the functions do not take, `input-shape` on a pair of functions)
would otherwise give every student, the correct ones too, the same ERROR; a reference that fails its own
check would grade correct work down. Both are the spec's mistakes: said once, before grading, naming the
target and the variant (exit 2). The reference is the teacher's code: it runs here, in the grader.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from ..cli.check_command import file_target_report
from ..errors import GradvizError
from .spec import Spec, parse_check_args


def check_packages(spec: Spec) -> None:
    """The packages the spec says submissions import must be here, or every submission importing one gets 0."""
    from importlib import metadata

    for requirement in spec.packages:
        name = re.split(r"[\[<>=!~]", requirement, maxsplit=1)[0]
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise GradvizError(f"{spec.path.name}: assignment.packages lists {requirement}, which this Python "
                               f"({sys.executable}) does not have, so every submission importing it would fail: "
                               f"pip install {shlex.quote(requirement)}") from None


def check_references(spec: Spec) -> None:
    """Raise GradvizError for the first target check the teacher's reference does not pass."""
    for target in spec.targets:
        if target.reference is None:
            continue
        name = target.name.removesuffix(" forward")
        short = Path(target.reference).name
        for check in target.checks:
            where = f"{spec.path.name}: target {name!r}" + ("" if check.label == "visible" else f", {check.label}")
            try:
                report = file_target_report(parse_check_args(where, [target.reference, *check.argv[1:]]))
            except GradvizError as exc:
                raise GradvizError(f"{where}: the teacher's reference {short} cannot be checked with these "
                                   f"settings, so no submission could be: {exc}") from None
            if not report.ok:
                verdict = report.verdict.splitlines()[0] if report.verdict else report.status
                raise GradvizError(f"{where}: the teacher's reference {short} does not pass its own check with "
                                   f"these settings ({verdict}); fix the reference or the target's settings")
