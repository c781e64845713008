"""The first answer: fresh-process times side by side with `python -c "import numpy"`.

    python benchmarks/bench_startup.py [--quick]

Every case is a new Python process (median of several), as a user meets gradviz: importing it,
`gradviz --help`, `gradviz check` of a small hand-written layer, and the first check of a custom op
with a SymPy twin, with the compiled-derivative cache cold (turned off) and warm on disk (filled
by an earlier process), against the same op checked a second time in one process (warm in memory).
Ratios are gradviz time / reference time (lower is better) with the issue's targets: import within
1.5x of numpy, the hand-written check within 4x, a disk-cached first check within 3x of a warm one.
A process's first check also loads the checker itself (its modules, numpy's first calls), whatever
the op: the last rows take that out, by checking an op without a twin first, to show what the
cache is for (SymPy's differentiation and compilation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYER = textwrap.dedent('''
    import numpy as np


    class Dense:
        def __init__(self):
            self.W = np.random.default_rng(0).normal(size=(3, 2))
            self.b = np.zeros(2)

        def forward(self, x):
            self.x = x
            return x @ self.W + self.b

        def backward(self, dout):
            self.dW = self.x.T @ dout
            self.db = dout.sum(axis=0)
            return dout @ self.W.T
''')

CUSTOM_OP = textwrap.dedent('''
    import sys, time
    import numpy as np
    import gradviz as gv


    class Softplus(gv.Function):
        elementwise = True

        @staticmethod
        def forward(x):
            return np.log1p(np.exp(x))

        @staticmethod
        def backward(grad, x, out):
            return (grad / (1 + np.exp(-x)),)

        @staticmethod
        def symbolic(x):
            import sympy
            return sympy.log(1 + sympy.exp(x))


    class Cube(gv.Function):  # no twin: checking it loads the checker, and no SymPy
        elementwise = True

        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def backward(grad, x, out):
            return (3 * x ** 2 * grad,)


    def first_check(op):
        x = gv.Tensor(np.array([0.3, -1.2, 2.0]), label="x")
        return gv.check(lambda x: op.apply(x).sum(), x, methods=("finite", "symbolic"))


    start = time.perf_counter()
    if sys.argv[1:] == ["machinery"]:
        first_check(Cube)  # the checker's own imports and first run, paid once per process whatever the op
    machinery = time.perf_counter() - start
    start = time.perf_counter()
    assert first_check(Softplus).ok
    first = time.perf_counter() - start
    start = time.perf_counter()
    assert first_check(Softplus).ok
    print(first, time.perf_counter() - start, machinery)
''')


def wall(command: list[str], env: dict, cwd: Path, repeat: int) -> float:
    """Median wall-clock seconds of a fresh process running `command`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "layers.py").write_text(LAYER)
        (work / "custom_op.py").write_text(CUSTOM_OP)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(work / "cache")}
        env.pop("GRADVIZ_CACHE_DIR", None)
        numpy_s = wall([python, "-c", "import numpy"], env, work, repeat)
        rows = [("import gradviz", wall([python, "-c", "import gradviz"], env, work, repeat), numpy_s, 1.5),
                ("gradviz --help", wall([python, "-m", "gradviz", "--help"], env, work, repeat), numpy_s, None),
                ("gradviz check layers.py:Dense (hand-written)",
                 wall([python, "-m", "gradviz", "check", "layers.py:Dense", "--input-shape", "4,3"], env, work,
                      repeat), numpy_s, 4.0)]
        no_cache = {**env, "GRADVIZ_CACHE_DIR": ""}

        def first_checks(environment: dict, *flags: str) -> list[list[float]]:
            return [[float(v) for v in subprocess.run([python, "custom_op.py", *flags], env=environment, cwd=work,
                                                      check=True, capture_output=True, text=True).stdout.split()]
                    for _ in range(repeat)]

        cold, cold_after = first_checks(no_cache), first_checks(no_cache, "machinery")
        subprocess.run([python, "custom_op.py"], env=env, cwd=work, check=True, capture_output=True)  # fills it
        cached, cached_after = first_checks(env), first_checks(env, "machinery")
        warm = statistics.median(r[1] for r in cold + cached)
        machinery = statistics.median(r[2] for r in cold_after + cached_after)
        first = lambda runs: statistics.median(r[0] for r in runs)  # noqa: E731
        rows += [("custom op 1st check, no cache", first(cold), warm, None),
                 ("custom op 1st check, disk cache", first(cached), warm, None),
                 ("  the same, checker already loaded, no cache", first(cold_after), warm, None),
                 ("  the same, checker already loaded, disk cache", first(cached_after), warm, 3.0)]
    print(f"{'case':48} {'gradviz':>10} {'reference':>10} {'ratio':>7}  target")
    reference_case = 'python -c "import numpy" (reference)'
    print(f"{reference_case:48} {numpy_s:>9.3f}s")
    for case, seconds, reference, target in rows:
        ratio = seconds / reference
        against = "numpy" if reference is numpy_s else "warm check"
        verdict = "" if target is None else (f"<= {target:g}x of {against}: " + ("met" if ratio <= target else "MISSED"))
        print(f"{case:48} {seconds:>9.3f}s {reference:>9.3f}s {ratio:>6.2f}x  {verdict}")
    print(f"(warm check: the same custom op checked again in one process, {warm * 1e3:.0f} ms; loading the checker "
          f"itself, paid by a process's first check of anything, {machinery:.2f} s)")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
