"""The grading spec: what every submission must provide, read from a TOML file.

    [assignment]
    title = "Backprop by hand"
    timeout = 30            # seconds per submission (wall clock)
    memory = 1024           # MB a submission may allocate
    output = 1              # MB of printed output (and of any file it writes)
    files = ["data.npz"]    # support files copied next to each submission
    packages = ["matplotlib"]  # what submissions import beyond numpy (installed by the Gradescope autograder)

    [[target]]
    name = "Dense"                    # a column of the gradebook
    check = "layers.py:Dense"         # what `gradviz check` takes, relative to a submission
    points = 4
    input-shape = "4,3"               # every other key is a `gradviz check` flag without its dashes
    input = { x = "4,5" }             # a table -> repeated NAME=SPEC flags

    [[target.variant]]                # hidden: the same target with other settings
    input-shape = "7,3"               # (tables such as input and args merge key by key)
    seed = 5

Each target is validated with the `gradviz check` parser itself, so a target
form or flag that `gradviz check` learns is accepted here without a change.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from ..cli.flags import check_parser
from ..errors import GradvizError

TARGET_KEYS = {"name", "check", "points", "variant", "reference", "forward-points"}
OUTPUT_FLAGS = {"json", "markdown", "render", "quiet", "verbose", "debug", "q", "v"}
ASSIGNMENT_KEYS = {"title", "timeout", "memory", "output", "files", "packages"}
# a pip requirement, nothing a shell could read otherwise: name, extras, one version clause
REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?((==|>=|<=|~=|!=|<|>)[A-Za-z0-9.*+!-]+)?")
DEFAULTS = {"timeout": 30.0, "memory": 1024.0, "output": 1.0}


@dataclass(frozen=True)
class Check:
    """One `gradviz check` run: the visible check of a target, or one hidden variant."""

    label: str  # "visible" or the variant's name
    argv: tuple[str, ...]  # arguments after `gradviz check`
    hidden: bool = False


@dataclass(frozen=True)
class Target:
    name: str
    points: float
    checks: tuple[Check, ...]
    reference: str | None = None  # "ABSOLUTE/solution.py:NAME": this target compares forward values with it
    anchor: str | None = None  # the same, for a gradient target: its finite differences use it (anchored.py)

    @property
    def file(self) -> str:
        """The submission file the target names (first part of `check`)."""
        return self.checks[0].argv[0].split(":", 1)[0]


@dataclass(frozen=True)
class Spec:
    path: Path
    title: str
    targets: tuple[Target, ...]
    timeout: float
    memory_mb: float
    output_mb: float
    files: tuple[Path, ...] = ()
    digest: str = field(default="", compare=False)
    packages: tuple[str, ...] = ()  # what submissions may import beyond numpy and gradviz's own (pip requirements)

    @property
    def total_points(self) -> float:
        return sum(t.points for t in self.targets)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a grading spec; every problem is one GradvizError naming the key."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise GradvizError(f"cannot read the grading spec {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GradvizError(f"{path} is not valid TOML: {exc}") from None
    where = path.name
    unknown = set(data) - {"assignment", "target"}
    if unknown:
        raise GradvizError(f"{where}: unknown section {sorted(unknown)[0]!r}; a spec has [assignment] and "
                           "[[target]] sections")
    assignment = data.get("assignment", {})
    if not isinstance(assignment, dict):
        raise GradvizError(f"{where}: [assignment] must be a table")
    bad = set(assignment) - ASSIGNMENT_KEYS
    if bad:
        raise GradvizError(f"{where}: [assignment] has an unknown key {sorted(bad)[0]!r}; "
                           f"it takes {', '.join(sorted(ASSIGNMENT_KEYS))}")
    limits = {k: _positive(where, f"assignment.{k}", assignment.get(k, v)) for k, v in DEFAULTS.items()}
    files = tuple(_support_file(path, f) for f in _string_list(where, "assignment.files", assignment.get("files", [])))
    packages = tuple(_requirement(where, r) for r in _string_list(where, "assignment.packages",
                                                                   assignment.get("packages", []), "pip requirements"))
    raw_targets = data.get("target")
    if not raw_targets or not isinstance(raw_targets, list):
        raise GradvizError(f"{where}: no targets; add at least one [[target]] with name, check and points")
    targets = [t for k, raw in enumerate(raw_targets, 1) for t in _target(path, k, raw)]
    names = [t.name for t in targets]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise GradvizError(f"{where}: two targets are named {duplicate!r}; each target needs its own name")
    return Spec(path=path.resolve(), title=str(assignment.get("title", path.stem)), targets=tuple(targets),
                timeout=limits["timeout"], memory_mb=limits["memory"], output_mb=limits["output"], files=files,
                digest=hashlib.sha256(text).hexdigest()[:16], packages=packages)


def _positive(where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise GradvizError(f"{where}: {key} must be a positive number, got {value!r}")
    return float(value)


def _string_list(where: str, key: str, value: Any, what: str = "file names") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GradvizError(f"{where}: {key} must be a list of {what}, got {value!r}")
    return value


def _requirement(where: str, text: str) -> str:
    if not REQUIREMENT.fullmatch(text.strip()):
        raise GradvizError(f"{where}: assignment.packages: {text!r} is not a pip requirement such as "
                           "\"matplotlib\" or \"scipy>=1.10\"")
    return text.strip()


def _support_file(spec_path: Path, name: str) -> Path:
    file = (spec_path.parent / name).resolve()
    if not file.exists():
        raise GradvizError(f"{spec_path.name}: assignment.files names {name!r}, which does not exist next to the spec")
    return file


def _target(spec_path: Path, number: int, raw: Any) -> list[Target]:
    """A [[target]]: its gradient check, and with `reference` a forward comparison of its own (and points)."""
    where = spec_path.name
    if not isinstance(raw, dict):
        raise GradvizError(f"{where}: target {number} must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GradvizError(f"{where}: target {number} needs a name (the gradebook column), e.g. name = \"Dense\"")
    label = f"{where}: target {name!r}"
    check = raw.get("check")
    if not isinstance(check, str) or (".py" not in check and ".ipynb" not in check):
        raise GradvizError(f"{label}: check must name code in the submission, e.g. check = \"layers.py:Dense\"; "
                           f"got {check!r}")
    if Path(check.split(":", 1)[0]).is_absolute() or ".." in Path(check.split(":", 1)[0]).parts:
        raise GradvizError(f"{label}: check = {check!r} must be a path inside the submission folder")
    points = raw.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise GradvizError(f"{label}: points must be a number >= 0, got {points!r}")
    flags = {k: v for k, v in raw.items() if k not in TARGET_KEYS}
    variants = raw.get("variant", [])
    if not isinstance(variants, list):
        raise GradvizError(f"{label}: variants are written [[target.variant]]")
    checks = [Check("visible", _argv(label, check, flags))]
    for k, variant in enumerate(variants, 1):
        if not isinstance(variant, dict):
            raise GradvizError(f"{label}: variant {k} must be a table")
        variant = dict(variant)
        vname = str(variant.pop("name", f"hidden variant {k}"))
        merged = {**flags, **variant}
        for key in ("input", "init", "args"):  # tables merge key by key: a variant changes only what it names
            if isinstance(flags.get(key), dict) and isinstance(variant.get(key), dict):
                merged[key] = {**flags[key], **variant[key]}
        checks.append(Check(vname, _argv(f"{label}, {vname}", check, merged), hidden=True))
    gradients = Target(name=name.strip(), points=float(points), checks=tuple(checks))
    if "reference" not in raw:
        return [gradients]
    reference = raw["reference"]
    file, _, obj = str(reference).rpartition(":")
    if not isinstance(reference, str) or not file.endswith((".py", ".ipynb")) or not obj:
        raise GradvizError(f"{label}: reference names the teacher's code as FILE.py:NAME, e.g. "
                           f"reference = \"solution.py:Dense\"; got {reference!r}")
    solution = (spec_path.parent / file).resolve()
    if not solution.is_file():
        raise GradvizError(f"{label}: reference = {reference!r}: there is no {file} next to the spec")
    forward_points = raw.get("forward-points", 1)
    if isinstance(forward_points, bool) or not isinstance(forward_points, (int, float)) or forward_points < 0:
        raise GradvizError(f"{label}: forward-points must be a number >= 0, got {forward_points!r}")
    gradients = Target(name=gradients.name, points=gradients.points, checks=gradients.checks,
                       anchor=f"{solution}:{obj}")
    return [gradients, Target(name=f"{name.strip()} forward", points=float(forward_points), checks=tuple(checks),
                              reference=f"{solution}:{obj}")]


def _argv(label: str, check: str, flags: dict) -> tuple[str, ...]:
    """The `gradviz check` arguments for a target: each key a flag, validated by the CLI's own parser."""
    argv = [check]
    if "optimizer" in flags:  # its check compares update rules inside one process: nothing to serve remotely yet
        raise GradvizError(f"{label}: optimizer targets cannot be graded yet (their check would run inside the "
                           "student's process); check them with `gradviz check FILE:NAME --optimizer`")
    for key, value in flags.items():
        if key in OUTPUT_FLAGS:
            raise GradvizError(f"{label}: {key!r} is an output flag of gradviz check; "
                               "gradviz grade writes its own reports")
        flag = f"--{key}"
        if isinstance(value, bool):
            argv += [flag] if value else []
        elif isinstance(value, dict) and key == "args":
            argv += [flag, json.dumps(value)]
        elif isinstance(value, dict):
            for name, item in value.items():
                argv += [flag, f"{name}={_text(item)}"]
        elif isinstance(value, list):
            for item in value:
                argv += [flag, _text(item)]
        else:
            argv += [flag, _text(value)]
    parse_check_args(label, argv)
    return tuple(argv)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def parse_check_args(label: str, argv: list[str] | tuple[str, ...]):
    """Parse arguments exactly as `gradviz check` does; a bad one is a GradvizError naming the target."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return check_parser().parse_args(list(argv))
    except SystemExit:
        message = errors.getvalue().strip().splitlines()
        reason = message[-1].split("error:", 1)[-1].strip() if message else "invalid arguments"
        raise GradvizError(f"{label}: gradviz check does not accept these settings: {reason}") from None
