"""Timing helpers shared by the benchmarks: medians of repeated runs, ratio tables, JSON."""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_seconds(fn: Callable[[], object], repeat: int = 5, warmup: int = 1, min_sample: float = 0.05) -> float:
    """Median seconds per call of fn.

    Fast functions are called several times per sample (so each sample lasts at
    least `min_sample` seconds) and the sample divided by the count, so a
    single collector pass or page fault cannot dominate a millisecond call.
    The cycle collector stays on: its cost is part of what some cases measure.
    """
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    number = max(1, int(min_sample / max(once, 1e-9)))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def interleaved_seconds(fns: dict[str, Callable[[], object]], rounds: int = 7, warmup: int = 1,
                        min_sample: float = 0.05, clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Seconds per call of each function, measured in turns: round r times every function once.

    Taking turns means every contender sees the same machine load (on a shared
    machine, load changes within seconds), so their ratio is what the machine
    did rather than when each one happened to run. Each turn lasts at least
    `min_sample` seconds (fast functions are called several times per turn).
    The result is each contender's fastest turn: other processes only ever add
    time, so the fastest turn is the one they disturbed least (medians of turns
    moved by 30% between runs on a loaded two-core machine; minimums by a few %).
    With clock=time.process_time, single-threaded contenders are timed in CPU
    seconds, which leave out the time spent waiting for a core. Before every
    turn, untimed, the cycle collector clears what the previous contender left:
    a turn never pays for another's garbage (micrograd's closures leave cycles
    that the next contender's first full collection would otherwise walk).
    """
    numbers = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        start = clock()
        fn()
        numbers[name] = max(1, int(min_sample / max(clock() - start, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            number = numbers[name]
            gc.collect()
            start = clock()
            for _ in range(number):
                fn()
            samples[name].append((clock() - start) / number)
    return {name: min(times) for name, times in samples.items()}


@dataclass
class Row:
    case: str
    gradviz_s: float | None
    reference: str
    reference_s: float | None
    target: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def speedup(self) -> float | None:
        if self.gradviz_s and self.reference_s:
            return self.reference_s / self.gradviz_s
        return None


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def print_table(rows: list[Row]) -> None:
    print(f"{'case':<44} {'gradviz':>11} {'reference':>22} {'ref/gv':>8}  target / notes")
    for r in rows:
        ratio = f"{r.speedup:.2f}x" if r.speedup else "n/a"
        ref = f"{r.reference} {_fmt(r.reference_s)}"
        print(f"{r.case:<44} {_fmt(r.gradviz_s):>11} {ref:>22} {ratio:>8}  {r.target} {r.notes}".rstrip())


def write_json(rows: list[Row], path: str) -> None:
    data = [dict(asdict(r), speedup=r.speedup) for r in rows]
    Path(path).write_text(json.dumps(data, indent=2))


ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def in_child(module: str, function: str, *args: object) -> object:
    """benchmarks/<module>.py's function(*args), run in a fresh process on one thread; its JSON result.

    For the array engine against numpy and PyTorch: numpy's BLAS and torch both
    on one thread (a threaded BLAS on a shared two-core machine measured the
    other users, not the code), and torch imported where it cannot slow down the
    garbage collections of the scalar benchmarks in this process.
    """
    import os
    import subprocess

    code = f"import json, {module}; print(json.dumps({module}.{function}(*{args!r})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=str(Path(__file__).resolve().parent), env={**os.environ, **ONE_THREAD})
    return json.loads(done.stdout.strip().splitlines()[-1])


def have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
