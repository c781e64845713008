"""What the spec gives a check, confirmed on the grader's side before any number from the worker is judged.

The worker describes the arrays its reading of the student's code holds. The arrays the spec
itself supplies (`--input NAME=SPEC`, `--input-shape`) are computed here again from the same
seed, and must be among them with the same values: a worker cannot choose easier inputs.
"""

from __future__ import annotations

import numpy as np

from ..cli.check_command import inputs_of
from ..checking.subject import Subject
from ..targets import Given, parse_shape
from . import wire


def expected_arrays(args) -> tuple[dict[str, np.ndarray], tuple[int, ...] | None]:
    """The float arrays the flags give by name, and the --input-shape (None without it)."""
    given = Given.from_flags(args.args_json, inputs_of(args), {}, args.seed)
    arrays = {n: np.asarray(v, dtype=np.float64) for n, v in given.inputs.items()
              if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim > 0}
    shape = parse_shape(args.input_shape, "--input-shape") if args.input_shape else None
    return arrays, shape


def confirm_given(subject: Subject, args) -> None:
    arrays, shape = expected_arrays(args)
    held = [i.data for i in subject.inputs]
    for name, expected in arrays.items():
        mine = next((i.data for i in subject.inputs if i.name == name), None)
        candidates = [mine] if mine is not None else held
        if not any(c.shape == expected.shape and np.array_equal(c, expected) for c in candidates):
            raise wire.WireError(f"the worker did not check the spec's input {name}: it described other values")
    if shape is not None and not any(a.shape == shape for a in held):
        raise wire.WireError(f"the worker did not check an input of the spec's shape {shape}")
