"""The cost of checking hand-written layers, as multiples of one forward+backward of the layer.

    python benchmarks/bench_handwritten.py [--quick]

Issue 28's target: checking a hand-written layer costs a bounded number of
forward+backward passes in auto mode (<= 300 for a 784x256 Dense, correct or
buggy), not one pair per element as before, when every hand-written check ran
in full mode. Each row counts the calls the checker made to the user's code
and times the check against one forward+backward of the same layer; the
"before" column is the full-mode cost the old checker paid (2 calls per
element plus the probe, forward and backward: exact, not timed, since the
784x256 case alone took 195 s).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench_conventions import conv_backward, conv_forward
import common  # noqa: F401 - puts the checkout on sys.path

import gradviz as gv


class Dense:
    """A course Dense layer that counts the calls the checker makes."""

    def __init__(self, n_in, n_out, bug=False):
        r = np.random.default_rng(0)
        self.W, self.b = r.normal(size=(n_in, n_out)) * 0.05, r.normal(size=n_out)
        self.bug, self.calls = bug, 0

    def forward(self, x):
        self.calls += 1
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.calls += 1
        self.dW = self.x.T @ dout
        self.db = dout.mean(axis=0) if self.bug else dout.sum(axis=0)
        return dout @ self.W.T


class LoopConv:
    """A loop-style conv layer (pad 1) as courses write it, counting calls."""

    def __init__(self, c_in, c_out, bug=False):
        r = np.random.default_rng(1)
        self.w, self.b = r.normal(size=(c_out, c_in, 3, 3)) * 0.2, r.normal(size=c_out)
        self.bug, self.calls = bug, 0

    def forward(self, x):
        self.calls += 1
        out, self.cache = conv_forward(x, self.w, self.b, {"pad": 1})
        return out

    def backward(self, dout):
        self.calls += 1
        dx, dw, db = conv_backward(dout, self.cache)
        return dx, [dw * (2.0 if self.bug else 1.0), db]


def one_pass_seconds(layer, x) -> float:
    """The median time of one forward+backward of the layer itself."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        out = layer.forward(x)
        layer.backward(np.ones_like(out))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(name: str, make, x) -> dict:
    layer = make(False)
    unit = one_pass_seconds(layer, x)
    rows = {}
    for bug in (False, True):
        layer = make(bug)
        start = time.perf_counter()
        report = gv.check_layer(layer, x)
        seconds = time.perf_counter() - start
        assert report.ok != bug, (name, bug, report.verdict)
        rows[bug] = (layer.calls, seconds / unit, report.settings["mode"])
    elements = x.size + sum(a.size for a in vars(make(False)).values() if isinstance(a, np.ndarray))
    before = 2 * elements + 3
    return {"case": name, "elements": elements, "before (full mode) calls": before,
            "correct: calls": rows[False][0], "correct: x one pass": round(rows[False][1], 1),
            "buggy: calls": rows[True][0], "buggy: x one pass": round(rows[True][1], 1), "mode": rows[False][2]}


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    batch = 8 if args.quick else 64
    cases = [
        ("Dense 784x256", lambda bug: Dense(784, 256, bug), rng.normal(size=(batch, 784))),
        ("loop conv 2x3x16x16, w 4x3x3x3", lambda bug: LoopConv(3, 4, bug), rng.normal(size=(2, 3, 16, 16))),
        ("Dense 3x2 on 100,000 rows", lambda bug: Dense(3, 2, bug), rng.normal(size=(100_000, 3))),
    ]
    results = [measure(*case) for case in cases]
    header = list(results[0])
    print("  ".join(header))
    for r in results:
        print("  ".join(str(r[h]) for h in header))
    print("target: <= 300 calls for the 784x256 Dense, correct or buggy")
    return []


if __name__ == "__main__":
    main()
