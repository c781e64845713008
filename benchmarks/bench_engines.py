"""Checking a student's own autograd engine (gv.check_engine), side by side with checking it by hand.

    python benchmarks/bench_engines.py [--quick]

The reference is what a student writes otherwise: one expression built with
their class, backward(), and a central difference per input, compared with
np.isclose; it answers yes or no for that one expression. gradviz's check runs
every operation form at several points, small graphs, backward twice and a
2000-node chain, with SymPy and the op table beside the finite differences.
Target: under a second of CPU for a whole check beyond importing the engine,
the first check in a fresh process included (it imports SymPy and lambdifies
each op's derivative once).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

from common import Row, median_seconds, print_table

import gradviz as gv

ENGINES = Path(__file__).resolve().parent.parent / "tests" / "engines"
sys.path.insert(0, str(ENGINES))
import micrograd_style  # noqa: E402
import tensor_style  # noqa: E402

COLD = """
import sys, time
sys.path.insert(0, {engines!r})
import gradviz as gv
from {module} import {cls} as Engine
start = time.process_time()
gv.check_engine(Engine)
print(time.process_time() - start)
"""


def by_hand(cls) -> bool:
    def f(x, y):
        a, b = cls(x), cls(y)
        return (a * b + a).tanh() if hasattr(a, "tanh") else a * b + a, a, b

    out, a, b = f(0.5, -1.2)
    out.backward()
    h = 1e-6
    value = lambda node: float(getattr(node, "data", getattr(node, "value", 0.0)))  # noqa: E731
    da = (value(f(0.5 + h, -1.2)[0]) - value(f(0.5 - h, -1.2)[0])) / (2 * h)
    return bool(np.isclose(a.grad, da))


def cold_cpu_seconds(module: str, cls: str) -> float:
    code = COLD.format(engines=str(ENGINES), module=module, cls=cls)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PATH": "/usr/bin:/bin"})
    return float(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    rows: list[Row] = []
    for title, module, cls in (("micrograd-style Value", "micrograd_style", micrograd_style.Value),
                               ("Tensor with value/children, F.tanh", "tensor_style", tensor_style.Tensor)):
        gv_s = median_seconds(lambda: gv.check_engine(cls), repeat=repeat)
        rows.append(Row(f"check_engine: {title}", gv_s, "one expr by hand", median_seconds(lambda: by_hand(cls),
                        repeat=repeat), target="< 1 s CPU", notes="by hand: yes/no for one expression"))
        cold = cold_cpu_seconds(module, cls.__name__)
        rows.append(Row(f"check_engine: {title}, cold (fresh process)", cold, "-", None,
                        target="< 1 s CPU", notes="CPU seconds of the first check (SymPy import included)"))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
