"""DOT generation and rendering of big graphs, with and without auto-collapse.

    python benchmarks/bench_render.py [--quick]

Issue 4's targets: DOT text for a 10,000-node graph in < 1 s; gv.render of the
course MLP and of a small CNN in < 5 s with the default auto-collapse. Issue
16's: choosing the layout direction (rankdir="auto") costs little next to a
fixed rankdir.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import Row, median_seconds, print_table

import gradviz as gv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))


def chain(n: int):
    x = gv.Value(0.3, label="x")
    y = x
    while len(gv.topological_order(y)) < n:
        y = (y * 0.99 + 0.01).tanh()
    y.backward()
    return y


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for run.py; this suite is already quick")
    parser.parse_args(argv)
    rows = []
    big = chain(10_000)
    dot_s = median_seconds(lambda: gv.draw(big, collapse=False).source, repeat=3)
    rows.append(Row("DOT text, 10,000-node graph, no collapse", dot_s, "limit", 1.0, "< 1 s"))
    # What choosing the layout direction costs: rankdir="auto" (the default) against a fixed "LR".
    fixed_s = median_seconds(lambda: gv.draw(big, collapse=False, rankdir="LR").source, repeat=3)
    rows.append(Row("DOT text, 10,000 nodes, rankdir auto vs LR", dot_s, "rankdir=LR", fixed_s, "ratio ~1"))
    import course_mlp
    import small_cnn

    mlp = gv.nn.MLP(4, [4, 2, 1], seed=0)
    loss = (mlp(course_mlp.X[0]) - 1) ** 2 / 4
    loss.backward()
    cnn = small_cnn.build(0)
    images = gv.Tensor(np.random.default_rng(0).normal(size=(4, 1, 8, 8)), label="images")
    cnn_loss = gv.F.cross_entropy(cnn(images), np.array([0, 1, 0, 1]))
    cnn_loss.backward()
    with tempfile.TemporaryDirectory() as tmp:
        for name, root in (("course MLP (scalar)", loss), ("small CNN", cnn_loss)):
            start = time.perf_counter()
            gv.render(root, Path(tmp) / "g.svg")
            auto = time.perf_counter() - start
            rows.append(Row(f"render {name}, auto-collapse", auto, "limit", 5.0, "< 5 s",
                            f"{len(gv.topological_order(root))} nodes"))
        start = time.perf_counter()
        gv.render(loss, Path(tmp) / "full.svg", collapse=False)
        rows.append(Row("render course MLP, collapse=False", time.perf_counter() - start, "(info)", None))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
