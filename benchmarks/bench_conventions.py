"""Checking hand-written code as written: a cache-style function pair vs the same layer as a class.

    python benchmarks/bench_conventions.py [--quick]

Issue 12's target: check_pair of a cache-style conv layer (x 2x3x8x8, w
4x3x3x3, pad 1) within 1.5x of check_layer on the same layer written as a
class (ref/gv >= 0.67). Both do the same finite differences; the difference
is the adapter's overhead (the pair recomputes its cache once).
"""

from __future__ import annotations

import argparse

import numpy as np

from common import Row, median_seconds, print_table

import gradviz as gv

PAD = 1


def conv_forward(x, w, b, conv_param):
    pad = conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    ho, wo = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    out = np.empty((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = np.tensordot(xp[:, :, i:i + kh, j:j + kw], w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, i:i + kh, j:j + kw], axes=([0], [0]))
            dxp[:, :, i:i + kh, j:j + kw] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


class Conv:
    """The same layer as a class: forward(x) keeps the cache, backward(dout) returns (dx, [dw, db])."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def forward(self, x):
        out, self.cache = conv_forward(x, self.w, self.b, {"pad": PAD})
        return out

    def backward(self, dout):
        dx, dw, db = conv_backward(dout, self.cache)
        return dx, [dw, db]


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    assert gv.check_pair(conv_forward, conv_backward, x, w, b, {"pad": PAD}).ok
    assert gv.check_layer(Conv(w.copy(), b.copy()), x).ok
    repeat = 3 if args.quick else 7
    pair_s = median_seconds(lambda: gv.check_pair(conv_forward, conv_backward, x, w, b, {"pad": PAD}),
                            repeat=repeat, warmup=0)
    class_s = median_seconds(lambda: gv.check_layer(Conv(w.copy(), b.copy()), x), repeat=repeat, warmup=0)
    rows = [Row("check_pair conv 2x3x8x8, w 4x3x3x3 (cache)", pair_s, "same layer as a class", class_s,
                "ref/gv >= 0.67 (within 1.5x)")]
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
