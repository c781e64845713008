"""What naming the cause costs: a failing check with its diagnosis against the same failing check without it.

    python benchmarks/bench_diagnosis.py [--quick]

The diagnosis runs only on a FAIL, after the finite differences. Each row times one check of a
layer, pair, function or gv.Function with a planted bug twice, turn about: as shipped (every
hypothesis tried, the cause named, the user's backward called again with dout doubled, the probe's
outputs kept for the per-sample split, a local reference for a wrong op without a twin) and with
the diagnosis switched off (every `diagnose` call returns nothing, no outputs kept). The overhead
is the median over the paired runs of (with / without) - 1, in CPU seconds of this process; the
target is at most +20%, and the notes say per row whether it is met, with the middle half of the
paired ratios as the spread. The line under the table says whether every row meets it. The last
row is the library alone in its worst case: no hypothesis fits, so all of them run to the end.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from common import Row, interleaved_seconds, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import gradviz as gv  # noqa: E402
import diagnosis_ops as ops  # noqa: E402  (the test suite's course-style ops)
from diagnosis_layers import Conv, Dense, MaxPool2x2, Tanh  # noqa: E402
from gradviz.checking.diagnosis import Context, diagnose  # noqa: E402

TARGET = 1.20  # the diagnosis may add at most 20% to a failing check
MAX_PAIRS = 200  # paired runs (diagnosis on, off) per case at most


@contextmanager
def diagnosis_off():
    """Every place that calls `diagnose` gets one that finds nothing (and the local reference is skipped);
    the full probe keeps no outputs for the per-sample split (that is diagnosis work too)."""
    names = ["gradviz.checking.verdict", "gradviz.checking.pipeline", "gradviz.checking.local",
             "gradviz.checking.diagnosis"]
    modules = [sys.modules[n] for n in names]
    saved = [m.diagnose for m in modules]
    local = sys.modules["gradviz.checking.local"]
    contexts = sys.modules["gradviz.checking.contexts"]
    saved_local, saved_recorder = local._diagnose_without_twin, contexts.recorder_for
    try:
        for m in modules:
            m.diagnose = lambda *a, **k: []
        local._diagnose_without_twin = lambda *a, **k: []
        contexts.recorder_for = lambda *a, **k: None
        yield
    finally:
        for m, fn in zip(modules, saved):
            m.diagnose = fn
        local._diagnose_without_twin = saved_local
        contexts.recorder_for = saved_recorder


def cases():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    P = functools.partial
    x = rng.normal(size=(16, 32))
    idx = rng.integers(0, 20, size=(8, 10))
    emb = rng.normal(size=(20, 16))
    images = rng.normal(size=(2, 3, 8, 8))

    class Tanh1(ops.tanh_function()):  # a model op without a twin: the 1 - y slip
        @staticmethod
        def backward(grad, x, out):
            return (grad * (1 - out),)

    w1, w2 = rng.normal(size=(32, 24)), rng.normal(size=(24, 8))
    small, noise = rng.normal(size=(8, 6)), rng.normal(size=(8, 6))
    return [
        ("check_layer tanh 16x32, 1 - y", lambda: gv.check_layer(Tanh("one_minus_y"), x)),
        ("check_layer tanh 16x32, dout ignored", lambda: gv.check_layer(ops.TanhLayer("chain_rule_forgotten"), x)),
        ("check_layer dense 8x6->4, first sample only", lambda: gv.check_layer(Dense(6, 4, bug="first_sample_only"),
                                                                             rng.normal(size=(8, 6)))),
        ("check_layer max pool 2x3x8x8, top-left", lambda: gv.check_layer(MaxPool2x2("pool_wrong_element"), images)),
        ("check_layer naive conv 2x2x6x6 s2 p1, flipped",
         lambda: gv.check_layer(Conv(w.copy(), b.copy(), 2, 1, "flipped_kernel"), rng.normal(size=(2, 2, 6, 6)),
                                params=["w", "b"])),
        ("check_pair embedding 8x10 into 20x16, dW[x] += dout",
         lambda: gv.check_pair(ops.word_embedding_forward, P(ops.word_embedding_backward, bug="repeated_indices_lost"),
                               idx, emb)),
        ("check_grad_fn tanh 8x6, noise: no cause fits",  # every hypothesis runs, then the error is described
         lambda: gv.check_grad_fn(lambda v: float(np.sum(np.tanh(v))), lambda v: 1 - np.tanh(v) ** 2 + noise, small)),
        ("gv.check 3-layer model, tanh op without twin, 1 - y",
         lambda: gv.check(lambda a, p, q: Tanh1.apply(Tanh1.apply(a @ p) @ q).sum(), gv.Tensor(x, label="x"),
                          gv.Tensor(w1, label="W1"), gv.Tensor(w2, label="W2"))),
    ]


def _interleaved(run, repeat: int) -> dict:
    """CPU seconds of this process with and without the diagnosis, the two timed turn about.

    On a shared machine the wall clock drifts with the other processes' load by more than the
    diagnosis costs; the process's own CPU time (time.process_time) does not count their time.
    Each turn's pair gives one ratio (on / off, measured seconds apart, under the same load);
    the overhead is the median of those ratios, and their middle half is printed as its spread.
    """
    on, off, wall_on, wall_off = [], [], [], []
    for _ in range(repeat):
        for times, walls, switch in ((on, wall_on, _nothing), (off, wall_off, diagnosis_off)):
            with switch():
                wall, cpu = time.perf_counter(), time.process_time()
                run()
                times.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
    ratios = sorted(a / b for a, b in zip(on, off))
    quarter = len(ratios) // 4
    return {"on": statistics.median(on), "off": statistics.median(off), "ratio": statistics.median(ratios),
            "spread": (ratios[quarter], ratios[-1 - quarter]),
            "wall": statistics.median(wall_on) / statistics.median(wall_off)}


@contextmanager
def _nothing():
    yield


def layer_rows(rows, repeat, budget):
    """One row per failing check; a fast check gets more pairs (`budget` CPU seconds), at least `repeat`."""
    for title, run in cases():
        named = sorted({d.cause for r in run().results for d in r.diagnosis})
        with diagnosis_off():
            start = time.process_time()
            assert not any(r.diagnosis for r in run().results)
            once = time.process_time() - start
        pairs = min(MAX_PAIRS, max(repeat, int(budget / (2 * max(once, 1e-6)))))
        m = _interleaved(run, pairs)
        low, high = m["spread"]
        met = "met" if m["ratio"] <= TARGET else "NOT MET"
        rows.append(Row(title, m["on"], "same check, diagnosis off (CPU s)", m["off"], target=f"<= {TARGET:.2f}x",
                        notes=f"{met}: adds {m['ratio'] - 1:+.0%} (middle half of {pairs} paired runs "
                              f"{low - 1:+.0%}..{high - 1:+.0%}; wall clock {m['wall'] - 1:+.0%}); named: "
                              f"{', '.join(named)}", extra={"overhead": m["ratio"] - 1, "met": met == "met"}))


def summary(rows) -> str:
    """One line: whether the diagnosis stays within the target on every failing check."""
    judged = [r for r in rows if "overhead" in r.extra]
    missed = [r for r in judged if not r.extra["met"]]
    worst = max(judged, key=lambda r: r.extra["overhead"])
    if missed:
        return (f"target (diagnosis adds <= {TARGET - 1:.0%}): NOT MET on {len(missed)} of {len(judged)} cases: "
                + "; ".join(f"{r.case} {r.extra['overhead']:+.0%}" for r in missed))
    return (f"target (diagnosis adds <= {TARGET - 1:.0%}): met on all {len(judged)} failing checks "
            f"(largest median overhead {worst.extra['overhead']:+.0%}: {worst.case})")


def worst_case_row(rows, repeat):
    rng = np.random.default_rng(1)
    true, x = rng.normal(size=(64, 64)), rng.normal(size=(64, 64))
    yours = true + rng.normal(size=true.shape)  # nothing fits
    context = Context(name="x", wrt=x, inputs={"x": x}, output=np.tanh(x) * 1.5, cotangent=rng.normal(size=(64, 64)),
                      batch=64, attrs={"kernel_size": 2})
    [finding] = diagnose(yours, true, context)
    timed = interleaved_seconds({  # CPU seconds, turn about, the least disturbed turn of each
        "diagnose": lambda: diagnose(yours, true, replace(context, memo={})),  # no memo: every hypothesis runs
        "check": lambda: gv.check_grad_fn(lambda v: float(np.sum(np.tanh(v))), lambda v: 1 - np.tanh(v) ** 2, x)},
        rounds=repeat, clock=time.process_time)
    rows.append(Row("diagnose 64x64, no cause fits (all run)", timed["diagnose"], "check_grad_fn 64x64 (CPU s)",
                    timed["check"], notes=f"-> {finding.cause} (the library alone; a passing check for scale)"))


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    repeat = 3 if args.quick else 5
    layer_rows(rows, 3 * repeat, budget=0.6 if args.quick else 2.0)
    worst_case_row(rows, repeat)
    print_table(rows)
    print(summary(rows))
    return rows


if __name__ == "__main__":
    main()
