"""conv2d and max-pool forward+backward: gradviz vs naive course loops vs PyTorch CPU.

    python benchmarks/bench_conv.py [--quick]

Issue 5's targets: conv2d >= 500x faster than the naive loops. Issue 27's, against
PyTorch with both on one thread (numpy's BLAS too), taking turns in a child
process and timed in CPU seconds (see common.in_child): conv2d within 1x,
max-pool 2x2 within 1.2x. Float64 everywhere.
"""

from __future__ import annotations

import argparse

import numpy as np

import time

from common import Row, have, in_child, interleaved_seconds, median_seconds, print_table

import gradviz as gv
from gradviz import F

N, C, H, W, O, K = 8, 3, 32, 32, 16, 3


def naive_conv_fwd_bwd(x, w, b, dout):
    """Four nested loops over batch, filters and pixels, forward and backward (course style)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, c, h, wd = x.shape
    o = w.shape[0]
    out = np.zeros((n, o, h, wd))
    for i in range(n):
        for f in range(o):
            for r in range(h):
                for s in range(wd):
                    out[i, f, r, s] = np.sum(xp[i, :, r:r + K, s:s + K] * w[f]) + b[f]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(n):
        for f in range(o):
            for r in range(h):
                for s in range(wd):
                    dxp[i, :, r:r + K, s:s + K] += w[f] * dout[i, f, r, s]
                    dw[f] += xp[i, :, r:r + K, s:s + K] * dout[i, f, r, s]
    return out, dxp[:, :, 1:-1, 1:-1], dw, dout.sum(axis=(0, 2, 3))


def naive_pool_fwd_bwd(x, dout):
    n, c, h, w = x.shape
    out = np.zeros((n, c, h // 2, w // 2))
    dx = np.zeros_like(x)
    for i in range(n):
        for ch in range(c):
            for r in range(h // 2):
                for s in range(w // 2):
                    win = x[i, ch, 2 * r:2 * r + 2, 2 * s:2 * s + 2]
                    out[i, ch, r, s] = win.max()
                    k = np.argmax(win)
                    dx[i, ch, 2 * r + k // 2, 2 * s + k % 2] += dout[i, ch, r, s]
    return out, dx


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, K, K)), rng.normal(size=O)
    dout = rng.normal(size=(N, O, H, W))
    tx, tw, tb = gv.Tensor(x), gv.Tensor(w), gv.Tensor(b)

    def gv_conv():
        F.conv2d(tx, tw, tb, padding=1).backward(dout)

    conv_x = rng.normal(size=(N, O, H, W))
    pool_dout = rng.normal(size=(N, O, H // 2, W // 2))
    tp = gv.Tensor(conv_x)

    def gv_pool():
        F.max_pool2d(tp, 2).backward(pool_dout)

    repeat = 7 if args.quick else 21
    rows = []
    gv_conv_s = median_seconds(gv_conv, repeat=repeat)
    gv_pool_s = median_seconds(gv_pool, repeat=repeat)
    naive_conv_s = median_seconds(lambda: naive_conv_fwd_bwd(x, w, b, dout), repeat=1, warmup=0)
    naive_pool_s = median_seconds(lambda: naive_pool_fwd_bwd(conv_x, pool_dout), repeat=1, warmup=0)
    rows.append(Row("conv2d 8x3x32x32, 16 filters 3x3, pad 1", gv_conv_s, "naive loops", naive_conv_s, ">= 500x"))
    rows.append(Row("max_pool2d 2x2 on 8x16x32x32", gv_pool_s, "naive loops", naive_pool_s, "(info)"))
    if have("torch"):
        t = in_child("bench_conv", "against_torch_seconds", args.quick)
        for case, op, target in (("conv2d 8x3x32x32, 16 filters 3x3, pad 1", "conv", 1.0),
                                 ("max_pool2d 2x2 on 8x16x32x32", "pool", 1.2)):
            ratio = t[f"gradviz {op}"] / t[f"torch {op}"]
            rows.append(Row(case, t[f"gradviz {op}"], "torch, 1 thread", t[f"torch {op}"], f"within {target:g}x",
                            f"gradviz/torch = {ratio:.2f} (CPU s)"))
    print_table(rows)
    return rows


def against_torch_seconds(quick: bool) -> dict[str, float]:
    """CPU seconds of conv2d and max-pool forward+backward, gradviz and torch taking turns (one thread each)."""
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(O, C, K, K)), rng.normal(size=O)
    dout = rng.normal(size=(N, O, H, W))
    conv_x = rng.normal(size=(N, O, H, W))
    pool_dout = rng.normal(size=(N, O, H // 2, W // 2))
    tx, tw, tb, tp = gv.Tensor(x), gv.Tensor(w), gv.Tensor(b), gv.Tensor(conv_x)
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    pp, pd, ppd = torch.tensor(conv_x, requires_grad=True), torch.tensor(dout), torch.tensor(pool_dout)
    contenders = {
        "gradviz conv": lambda: F.conv2d(tx, tw, tb, padding=1).backward(dout),
        "torch conv": lambda: torch.nn.functional.conv2d(px, pw, pb, padding=1).backward(pd),
        "gradviz pool": lambda: F.max_pool2d(tp, 2).backward(pool_dout),
        "torch pool": lambda: torch.nn.functional.max_pool2d(pp, 2).backward(ppd),
    }
    return interleaved_seconds(contenders, rounds=7 if quick else 21, clock=time.process_time)


if __name__ == "__main__":
    main()
