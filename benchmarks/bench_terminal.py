"""What the terminal and ecosystem features cost: the progress bar, the 80-column layout, the GraphML export.

    python benchmarks/bench_terminal.py [--quick]

Each case runs side by side with the same work without the feature (the
reference), so the ratio is the feature's overhead: 1.00x means free.
"""

from __future__ import annotations

import argparse
import io

import numpy as np

from common import Row, median_seconds, print_table

import gradviz as gv
from gradviz import progress
from gradviz.checking import text


class Dense:
    def __init__(self, n_in: int, n_out: int):
        self.W = np.random.default_rng(0).normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return dout @ self.W.T


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    args = parser.parse_args(argv)
    n = 20 if args.quick else 60
    layer, x = Dense(n, n), np.random.default_rng(1).normal(size=(8, n))
    elements = x.size + layer.W.size + layer.b.size

    def with_bar():
        with progress.shown(_Terminal(), delay=0.0):
            gv.check_layer(layer, x)

    rows = [Row(f"check_layer, {elements} elements, bar drawn", median_seconds(with_bar, repeat=3),
                "no bar", median_seconds(lambda: gv.check_layer(layer, x), repeat=3))]

    mlp = gv.nn.MLP(3, [16, 16, 1], seed=0)
    xs = [gv.Value(v) for v in (0.1, 0.2, -0.3)]
    report = gv.check(lambda *v: mlp(list(v)), *xs, params=mlp.parameters(), mode="directional",
                      methods=("finite",))
    rows.append(Row(f"format_report at 80 columns, {len(report.results)} inputs",
                    median_seconds(lambda: text.format_report(report, width=80)),
                    "repr() only", median_seconds(lambda: repr(report))))

    import networkx as nx

    y = gv.Value(0.3)
    for _ in range(2000):
        y = (y * 0.99 + 0.01).tanh()
    graph = gv.to_networkx(y)
    rows.append(Row(f"to_networkx + write_graphml, {graph.number_of_nodes()} nodes",
                    median_seconds(lambda: nx.write_graphml(gv.to_networkx(y), io.BytesIO()), repeat=3),
                    "to_networkx only", median_seconds(lambda: gv.to_networkx(y), repeat=3),
                    notes="(the ratio is the share of the time spent exporting)"))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
