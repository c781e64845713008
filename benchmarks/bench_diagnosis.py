"""What naming the cause costs: a failing check (diagnosed) against the same check of the correct layer.

    python benchmarks/bench_diagnosis.py [--quick]

The diagnosis runs only on a FAIL, after the finite differences; each row
times check_layer on a layer with a planted bug (every hypothesis tried, the
cause named) against check_layer on the correct version of the same layer
(no diagnosis), so ref/gv is the share of a check that is left when the
diagnosis is added: 1.0 means free, 0.5 means the diagnosis doubles the time.
The last row is the worst case for the library alone: no hypothesis fits, so
all of them run to the end, on a 64 x 64 gradient with every context field set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from common import Row, median_seconds, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import gradviz as gv  # noqa: E402
from diagnosis_layers import Conv, Dense, MaxPool2x2, Tanh  # noqa: E402  (the test suite's course layers)
from gradviz.checking.diagnosis import Context, diagnose  # noqa: E402


def layer_rows(rows, repeat):
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    cases = [
        ("tanh 16x32, 1 - y", lambda bug: Tanh(bug), "one_minus_y", rng.normal(size=(16, 32)), None),
        ("dense 8x6->4, first sample only", lambda bug: Dense(6, 4, bug=bug), "first_sample_only",
         rng.normal(size=(8, 6)), None),
        ("max pool 2x2 on 2x3x8x8, top-left", lambda bug: MaxPool2x2(bug), "pool_wrong_element",
         rng.normal(size=(2, 3, 8, 8)), None),
        ("naive conv 2x2x6x6, s2 p1, flipped", lambda bug: Conv(w.copy(), b.copy(), 2, 1, bug), "flipped_kernel",
         rng.normal(size=(2, 2, 6, 6)), ["w", "b"]),
    ]
    for title, make, bug, x, params in cases:
        report = gv.check_layer(make(bug), x, params=params)
        named = {d.cause for r in report.results for d in r.diagnosis}
        buggy = median_seconds(lambda: gv.check_layer(make(bug), x, params=params), repeat=repeat)
        correct = median_seconds(lambda: gv.check_layer(make(None), x, params=params), repeat=repeat)
        rows.append(Row(f"check_layer {title}", buggy, "correct layer", correct,
                        notes=f"named: {', '.join(sorted(named))}"))


def worst_case_row(rows, repeat):
    rng = np.random.default_rng(1)
    true, x = rng.normal(size=(64, 64)), rng.normal(size=(64, 64))
    yours = true + rng.normal(size=true.shape)  # nothing fits
    context = Context(name="x", wrt=x, inputs={"x": x}, output=np.tanh(x) * 1.5, cotangent=rng.normal(size=(64, 64)),
                      batch=64, attrs={"kernel_size": 2})
    [finding] = diagnose(yours, true, context)
    seconds = median_seconds(lambda: diagnose(yours, true, context), repeat=repeat)
    full = median_seconds(lambda: gv.check_grad_fn(lambda v: float(np.sum(np.tanh(v))),
                                                   lambda v: 1 - np.tanh(v) ** 2, x), repeat=repeat)
    rows.append(Row("diagnose 64x64, no cause fits (all run)", seconds, "check_grad_fn 64x64", full,
                    notes=f"-> {finding.cause}"))


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    repeat = 3 if args.quick else 5
    layer_rows(rows, repeat)
    worst_case_row(rows, repeat)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
