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


def cs231n_numeric_gradient(f, x, df, h=1e-5):
    """The CS231n assignments' eval_numerical_gradient_array, written out: 2 forwards per element."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def full_mode_against_cs231n(quick: bool) -> None:
    """Per evaluation, gradviz's full mode against the CS231n loop over the same affine layer.

    The marginal cost is measured (two sizes, the difference in time over the difference in
    evaluations), so the check's fixed work (the report, the verdict) does not blur the cost of calling
    the user's code, which is what the target is about.
    """
    rng = np.random.default_rng(3)
    repeat = 3 if quick else 7

    def timed(n_in):
        x, w, b = rng.normal(size=(4, n_in)), rng.normal(size=(n_in, 10)), rng.normal(size=10)
        dout = rng.normal(size=(4, 10))
        loop, ours = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            cs231n_numeric_gradient(lambda v: affine_forward(v, w, b)[0], x, dout)
            cs231n_numeric_gradient(lambda v: affine_forward(x, v, b)[0], w, dout)
            cs231n_numeric_gradient(lambda v: affine_forward(x, w, v)[0], b, dout)
            loop.append(time.perf_counter() - start)
            start = time.perf_counter()
            report = gv.check_pair(affine_forward, affine_backward, x, w, b, check_mode="full")
            ours.append(time.perf_counter() - start)
            assert report.ok
        return 2 * (x.size + w.size + b.size), float(np.median(loop)), float(np.median(ours))

    small, big = timed(10), timed(40)
    evaluations = big[0] - small[0]
    per_loop, per_ours = (big[1] - small[1]) / evaluations, (big[2] - small[2]) / evaluations
    print(f"full mode, affine (4, n) -> 10, n = 10 and 40: marginal cost per evaluation: CS231n loop "
          f"{per_loop * 1e6:.1f} us, gradviz check_pair {per_ours * 1e6:.1f} us, ratio {per_ours / per_loop:.2f}x "
          "(target <= 1x)")


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
    full_mode_against_cs231n(args.quick)
    return []


if __name__ == "__main__":
    main()
