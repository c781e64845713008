"""The autograd engines side by side with their floors, micrograd and PyTorch.

    python benchmarks/bench_engine.py [--quick]

Every comparison takes turns in one run (see common.interleaved_seconds) and
prints the ratio. Issue 27's targets, for the scalar engine on the course MLP
4->[4,2,1] and on [16,64,64,1]: within 3x and 10x of the plain-Python floor
(the same forward and backward with floats and lists, floors.py), >= 5x faster
than micrograd on both, and the documented path (gv.nn.MLP + gv.optim.SGD, whose
neurons record one affine node each) within 5% of raw Values (its own ratios to the
floor and micrograd are printed beside); a 1,000,000-node chain builds and backprops in < 3 s
with < 0.5 GB peak. For the Tensor engine: a training step of the MLP
784-256-128-10 (batch 64) within 1.2x of the hand-written numpy floor, with
PyTorch on one thread for reference. Tensor per-op overhead on tiny arrays is
kept within 3x of bare numpy (issue 2).

micrograd comes from the `bench` extra (pip install micrograd==0.1.0); torch is
used when installed. The scalar cases run before anything imports torch: its
millions of objects would slow every later garbage collection in this process.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import floors
from common import Row, have, in_child, interleaved_seconds, median_seconds, print_table

import gradviz as gv

COURSE_X = [[-1, 2, 5, 4], [4, 2, 6, 3], [2, 3, 4, 7], [7, 2, 4, 1]]
COURSE_Y = [1, -1, -1, 1]


# --- one tiny MLP written against any micrograd-style Value class -----------------
def make_mlp(Value, nin, sizes, tanh, seed=0):
    rnd = random.Random(seed)
    dims = [nin] + sizes
    layers = []
    for a, b in zip(dims, dims[1:]):
        layers.append([([Value(rnd.uniform(-1, 1)) for _ in range(a)], Value(rnd.uniform(-1, 1))) for _ in range(b)])

    def forward(x):
        for layer in layers:
            x = [tanh(sum((wi * xi for wi, xi in zip(w, x)), b)) for w, b in layer]
        return x[0]

    params = [p for layer in layers for w, b in layer for p in w + [b]]
    return forward, params


def train(Value, tanh, nin, sizes, X, Y, epochs, lr):
    forward, params = make_mlp(Value, nin, sizes, tanh)
    for _ in range(epochs):
        for x, y in zip(X, Y):
            loss = (forward(x) - y) ** 2 * (1 / len(X))
            for p in params:
                p.grad = 0.0
            loss.backward()
            for p in params:
                p.data -= lr * p.grad
    return loss.data


def micrograd_value():
    from micrograd.engine import Value

    def tanh(self):
        # the tanh a course adds to micrograd, in micrograd's own closure style
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t**2) * out.grad

        out._backward = _backward
        return out

    return Value, tanh


def train_nn(nin, sizes, X, Y, epochs, lr):
    """train() on the documented path: gv.nn.MLP and gv.optim.SGD."""
    model = gv.nn.MLP(nin, sizes, seed=0)
    opt = gv.optim.SGD(model.parameters(), lr=lr)
    scale = 1 / len(X)
    for _ in range(epochs):
        for x, y in zip(X, Y):
            loss = (model(x) - y) ** 2 * scale
            opt.zero_grad()
            loss.backward()
            opt.step()
    return loss.data


def scalar_mlp(rows, title, nin, sizes, X, Y, epochs, lr, rounds, floor_target, micrograd_target=5.0):
    """The scalar engine, raw and through gv.nn, against the floor and micrograd, taking turns."""
    contenders = {
        "floor": lambda: floors.scalar_train(nin, sizes, X, Y, epochs, lr),
        "gradviz": lambda: train(gv.Value, gv.Value.tanh, nin, sizes, X, Y, epochs, lr),
        "gv.nn": lambda: train_nn(nin, sizes, X, Y, epochs, lr),
        "least engine": lambda: train(*floors.least_engine(), nin, sizes, X, Y, epochs, lr),
    }
    if have("micrograd"):
        MV, mtanh = micrograd_value()
        contenders["micrograd"] = lambda: train(MV, mtanh, nin, sizes, X, Y, epochs, lr)
    # the same math: the floor and the engine end on the same loss
    assert math.isclose(contenders["floor"](), contenders["gradviz"](), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(contenders["floor"](), contenders["least engine"](), rel_tol=1e-9, abs_tol=1e-12)
    # CPU seconds: every contender is single-threaded Python, and on a shared machine
    # wall time also counts the time spent waiting for a core.
    t = interleaved_seconds(contenders, rounds=rounds, warmup=0, min_sample=0.0, clock=time.process_time)
    gv_s = t["gradviz"]
    rows.append(Row(title, gv_s, "plain-Python floor", t["floor"], f"within {floor_target:g}x",
                    f"gradviz/floor = {gv_s / t['floor']:.2f}"))
    # the language's share of that ratio: a six-slot engine with nothing but reverse mode (floors.least_engine)
    rows.append(Row(title, gv_s, "least engine", t["least engine"], "(info)",
                    f"least/floor = {t['least engine'] / t['floor']:.2f}, gradviz/least = "
                    f"{gv_s / t['least engine']:.2f}"))
    if "micrograd" in t:
        rows.append(Row(title, gv_s, "micrograd", t["micrograd"], f">= {micrograd_target:g}x"))
    nn_s = t["gv.nn"]
    nn_vs = f", gv.nn/floor = {nn_s / t['floor']:.2f}" + \
        (f", micrograd/gv.nn = {t['micrograd'] / nn_s:.2f}" if "micrograd" in t else "")
    rows.append(Row(f"{title}, gv.nn.MLP + gv.optim.SGD", nn_s, "raw Values", gv_s, "within 5%",
                    f"gv.nn/raw = {nn_s / gv_s:.3f}{nn_vs}"))
    return gv_s


def course_mlp(rows, quick):
    gv_s = scalar_mlp(rows, "course MLP 4->[4,2,1], 200 epochs", 4, [4, 2, 1], COURSE_X, COURSE_Y, 200, 0.2,
                      rounds=5 if quick else 11, floor_target=3)
    if have("torch"):
        # In a subprocess: importing torch adds a very large number of Python objects
        # that every later garbage collection in this process would have to walk,
        # slowing down whichever engine is measured after it.
        code = "import bench_engine as b; print(b.torch_course())"
        seconds = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                       cwd=str(Path(__file__).resolve().parent)).stdout.split()[-1])
        rows.append(Row("course MLP [4,2,1], 200 epochs", gv_s, "torch scalars", seconds, "(info)"))


def torch_course():
    import torch

    torch.set_num_threads(2)

    def run():
        torch.manual_seed(0)
        dims = [4, 4, 2, 1]
        params = []
        layers = []
        for a, b in zip(dims, dims[1:]):
            layer = [([torch.tensor(random.uniform(-1, 1), dtype=torch.float64, requires_grad=True) for _ in range(a)],
                      torch.tensor(random.uniform(-1, 1), dtype=torch.float64, requires_grad=True)) for _ in range(b)]
            layers.append(layer)
            params += [p for w, bb in layer for p in w + [bb]]
        for _ in range(200):
            for x, y in zip(COURSE_X, COURSE_Y):
                h = x
                for layer in layers:
                    h = [torch.tanh(sum((wi * xi for wi, xi in zip(w, h)), bb)) for w, bb in layer]
                loss = (h[0] - y) ** 2 / 4
                for p in params:
                    p.grad = None
                loss.backward()
                with torch.no_grad():
                    for p in params:
                        p -= 0.2 * p.grad

    return median_seconds(run, repeat=3)


def big_mlp(rows, quick):
    rnd = np.random.default_rng(0)
    n = 16 if quick else 64
    X = rnd.normal(size=(n, 16)).tolist()
    Y = rnd.choice([-1.0, 1.0], size=n).tolist()
    scalar_mlp(rows, f"scalar MLP 16->[64,64,1], {n} samples", 16, [64, 64, 1], X, Y, 1, 0.05,
               rounds=3 if quick else 5, floor_target=10)


CHAIN_CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
import gradviz as gv
n = {n}
clock = time.process_time  # CPU seconds: on a shared machine wall time also counts waiting for a core
start, wall = clock(), time.perf_counter()
x = gv.Value(0.5, label="x")
y = x
for _ in range(n):
    y = y * 1.0000001
built = clock()
y.backward()
done = clock()
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(built - start, done - built, peak_mb, time.perf_counter() - wall, x.grad)
"""


def chain(rows, quick):
    n = 100_000 if quick else 1_000_000
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", CHAIN_CHILD.format(root=root, n=n)], capture_output=True,
                         text=True, check=True).stdout.split()
    build_s, backward_s, peak_mb, wall_s = float(out[0]), float(out[1]), float(out[2]), float(out[3])
    rows.append(Row(f"chain of {n:,} products ({2 * n + 1:,} nodes)", build_s + backward_s, "limit", 3.0,
                    "< 3 s, < 0.5 GB", f"CPU s: build {build_s:.2f}, backward {backward_s:.2f} (wall {wall_s:.2f}); "
                    f"peak {peak_mb:.0f} MB"))
    if have("micrograd"):
        rows.append(Row("micrograd chain: depth that fails", None, "micrograd", None, "",
                        f"RecursionError at depth {micrograd_failure_depth()}"))


def micrograd_failure_depth() -> int:
    from micrograd.engine import Value

    for depth in (250, 500, 750, 1000, 1500, 2000, 5000):
        y = Value(0.5)
        for _ in range(depth):
            y = y * 1.0
        try:
            y.backward()
        except RecursionError:
            return depth
    return -1


def tensor_overhead(rows, quick):
    a = np.random.default_rng(0).normal(size=(4, 4))
    b = np.random.default_rng(1).normal(size=(4, 4))

    def bare():
        # The same arithmetic the engine does: forward, then each op's
        # vector-Jacobian product by hand, in reverse order.
        z1 = a @ b
        z2 = z1 + a
        h = np.tanh(z2)
        p = h * h
        s = p.sum()
        gp = np.empty(p.shape)
        gp.fill(1.0)
        gh = gp * h + gp * h
        gz2 = gh * (1.0 - h * h)
        ga = gz2 @ b.T + gz2
        gb = a.T @ gz2
        return s, ga, gb

    ta, tb = gv.Tensor(a), gv.Tensor(b)

    def engine():
        h = (ta @ tb + ta).tanh()
        s = (h * h).sum()
        s.backward()
        return s

    def loop(fn, n=2000):
        def run():
            for _ in range(n):
                fn()
        return run

    # Interleave the two so both see the same machine load; take medians.
    gv_times, np_times = [], []
    for _ in range(5 if quick else 11):
        gv_times.append(median_seconds(loop(engine), repeat=1) / 2000)
        np_times.append(median_seconds(loop(bare), repeat=1) / 2000)
    gv_s, np_s = float(np.median(gv_times)), float(np.median(np_times))
    rows.append(Row("Tensor ops on 4x4 arrays (fwd+bwd, per run)", gv_s, "bare numpy", np_s, "within 3x",
                    f"gradviz/numpy = {gv_s / np_s:.2f}"))


TENSOR_DIMS = [784, 256, 128, 10]


def tensor_mlp(rows, quick):
    """One SGD step of the MLP 784-256-128-10 on a batch of 64: gv.nn + gv.optim, numpy by hand, torch."""
    t = in_child("bench_engine", "tensor_mlp_seconds", quick)
    title = "Tensor MLP 784-256-128-10, batch 64, SGD step"
    rows.append(Row(title, t["gradviz"], "numpy floor, 1 thread", t["numpy"], "within 1.2x",
                    f"gradviz/numpy = {t['gradviz'] / t['numpy']:.2f} (CPU s)"))
    if "torch" in t:
        rows.append(Row(title, t["gradviz"], "torch, 1 thread", t["torch"], "(info)",
                        f"gradviz/torch = {t['gradviz'] / t['torch']:.2f} (CPU s)"))


def tensor_mlp_seconds(quick: bool) -> dict[str, float]:
    """CPU seconds per training step, taking turns (run in a child process on one thread: see in_child)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, TENSOR_DIMS[0]))
    y = rng.integers(0, TENSOR_DIMS[-1], size=64)
    lr = 0.01

    layers = []
    for a, b in zip(TENSOR_DIMS, TENSOR_DIMS[1:]):
        layers += [gv.nn.Linear(a, b, seed=len(layers)), gv.nn.ReLU()]
    model = gv.nn.Sequential(*layers[:-1])
    opt = gv.optim.SGD(model.parameters(), lr=lr)
    tx = gv.Tensor(x, label="x", requires_grad=False)

    def gradviz_step():
        loss = gv.F.cross_entropy(model(tx), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    params = floors.array_mlp_params(TENSOR_DIMS)
    # the same math: from the same weights, one step gives the same loss
    check = floors.array_mlp_params(TENSOR_DIMS)
    for (w, b), layer in zip(check, model.modules[::2]):
        layer.W.data[...], layer.b.data[...] = w, b
    assert math.isclose(gradviz_step().item(), floors.array_step(check, x, y, lr), rel_tol=1e-12)
    contenders = {"numpy": lambda: floors.array_step(params, x, y, lr), "gradviz": gradviz_step}
    if have("torch"):
        contenders["torch"] = torch_mlp_step(x, y, lr)
    return interleaved_seconds(contenders, rounds=7 if quick else 21, clock=time.process_time)


def torch_mlp_step(x, y, lr):
    """The same step in PyTorch, float64 like gradviz, on one thread."""
    import torch

    torch.set_num_threads(1)
    dims = TENSOR_DIMS
    modules = []
    for a, b in zip(dims, dims[1:]):
        modules += [torch.nn.Linear(a, b, dtype=torch.float64), torch.nn.ReLU()]
    model = torch.nn.Sequential(*modules[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for case in (course_mlp, big_mlp, chain, tensor_overhead, tensor_mlp):  # scalar cases first: see above
        gc.collect()
        case(rows, args.quick)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
