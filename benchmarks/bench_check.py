"""Gradient checking side by side with torch.autograd.gradcheck, and SymPy's two strategies.

    python benchmarks/bench_check.py [--quick]

Issue 3's targets: full finite differences >= 2x faster than gradcheck's full
mode on tanh(x @ W + b), conv2d and max_pool2d; directional mode within 2x of
gradcheck's fast mode; a directional check of a 100,000-parameter model in
< 5 s; the per-node symbolic check of a 10,000-node scalar graph in < 5 s; and
whole-expression SymPy differentiation against per-op derivatives on growing MLPs.

Issue 13's targets: the 148-element network of user ops with symbolic twins
(custom_op_net.py) in < 5 s in full and in directional mode, each from a fresh
process so SymPy's one-off compilation is counted; single user ops with twins
(softmax, log-softmax, layer norm) within 5x of gradcheck's full mode once each
op class is compiled; and the `gradviz check` self-test in < 8 s. Fresh-process
cases report CPU seconds too: on a shared machine wall time includes waiting.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import Row, have, median_seconds, print_table

import gradviz as gv
from gradviz import F
from gradviz.checking.local import check_nodes


def cases(rng):
    dense = ([rng.normal(size=(8, 16)), rng.normal(size=(16, 16)) * 0.3, rng.normal(size=16)],
             lambda x, W, b: (x @ W + b).tanh(), "torch.tanh(x @ W + b)")
    conv = ([rng.normal(size=(2, 3, 8, 8)), rng.normal(size=(4, 3, 3, 3))],
            lambda x, w: F.conv2d(x, w), "conv2d")
    pool = ([rng.normal(size=(2, 3, 8, 8))], lambda x: F.max_pool2d(x, 2), "max_pool2d")
    return {"tanh(x @ W + b), x 8x16, W 16x16": dense, "conv2d 2x3x8x8, w 4x3x3x3": conv,
            "max_pool2d 2x2 on 2x3x8x8": pool}


def torch_fn(name):
    import torch

    return {"torch.tanh(x @ W + b)": lambda x, W, b: torch.tanh(x @ W + b),
            "conv2d": lambda x, w: torch.nn.functional.conv2d(x, w),
            "max_pool2d": lambda x: torch.nn.functional.max_pool2d(x, 2)}[name]


def gradcheck_rows(rows, repeat):
    rng = np.random.default_rng(0)
    for title, (arrays, fn, torch_name) in cases(rng).items():
        tensors = [gv.Tensor(a, label=f"x{i}") for i, a in enumerate(arrays)]
        full_s = median_seconds(lambda: gv.check(fn, *tensors, methods=("finite",), mode="full"), repeat=repeat)
        dir_s = median_seconds(lambda: gv.check(fn, *tensors, methods=("finite",), mode="directional"), repeat=repeat)
        ref_full = ref_fast = None
        if have("torch"):
            import torch

            torch.set_num_threads(2)
            inputs = tuple(torch.tensor(a, requires_grad=True) for a in arrays)
            tf = torch_fn(torch_name)
            ref_full = median_seconds(lambda: torch.autograd.gradcheck(tf, inputs), repeat=repeat)
            ref_fast = median_seconds(lambda: torch.autograd.gradcheck(tf, inputs, fast_mode=True), repeat=repeat)
        rows.append(Row(f"full check: {title}", full_s, "gradcheck full", ref_full, ">= 2x"))
        rows.append(Row(f"directional: {title}", dir_s, "gradcheck fast", ref_fast, "within 2x",
                        f"gradviz/torch = {dir_s / ref_fast:.2f}" if ref_fast else ""))


def big_model_row(rows):
    rng = np.random.default_rng(1)
    x = gv.Tensor(rng.normal(size=(32, 300)), label="x")
    W1 = gv.Tensor(rng.normal(size=(300, 300)) * 0.05, label="W1")
    W2 = gv.Tensor(rng.normal(size=(300, 40)) * 0.05, label="W2")
    n = W1.size + W2.size
    start = time.perf_counter()
    report = gv.check(lambda x: ((x @ W1).tanh() @ W2).tanh().sum(), x, params=[W1, W2],
                      methods=("finite",), mode="directional")
    elapsed = time.perf_counter() - start
    rows.append(Row(f"directional check, {n:,}-parameter MLP", elapsed, "limit", 5.0, "< 5 s",
                    f"verdict {report.status}"))


def chain_graph(n_nodes):
    a = gv.Value(0.3, label="a")
    y = a
    while True:
        y = (y * 0.9 + 0.05).tanh() + a * 0.001
        if len(gv.topological_order(y)) >= n_nodes:
            return y


def per_node_row(rows):
    root = chain_graph(10_000)
    root.backward()
    start = time.perf_counter()
    nodes = check_nodes(root, eps=1e-6, atol=1e-5, rtol=1e-3)
    elapsed = time.perf_counter() - start
    bad = sum(n.status == "FAIL" for n in nodes)
    rows.append(Row(f"per-node SymPy check, {len(gv.topological_order(root)):,}-node scalar graph", elapsed,
                    "limit", 5.0, "< 5 s", f"{len(nodes)} nodes checked, {bad} FAIL"))


def _mlp_graph(hidden, rng):
    xs = [gv.Value(v, label=f"x{i}") for i, v in enumerate(rng.normal(size=4))]
    out = gv.Value(0.0)
    for h in range(hidden):
        pre = sum((gv.Value(rng.normal(), label=f"w{h}_{i}") * x for i, x in enumerate(xs)), gv.Value(0.1))
        out = out + pre.tanh() * rng.normal()
    return out, xs


def _whole_expression_seconds(hidden, queue):
    import sympy

    rng = np.random.default_rng(0)
    out, xs = _mlp_graph(hidden, rng)
    start = time.perf_counter()
    expr = gv.symbolic(out)
    symbols = sorted(expr.free_symbols, key=str)
    derivs = [sympy.diff(expr, s) for s in symbols]
    sympy.lambdify(symbols, derivs)
    queue.put(time.perf_counter() - start)


def sympy_rows(rows, quick):
    limit = 10.0
    for hidden in ((4, 8, 16) if quick else (4, 8, 16, 32, 64, 128, 256)):
        queue = mp.Queue()
        proc = mp.Process(target=_whole_expression_seconds, args=(hidden, queue))
        proc.start()
        proc.join(limit)
        if proc.is_alive():
            proc.terminate()
            whole = None
            note = f"whole-expression: > {limit:g} s (stopped)"
        else:
            whole = queue.get()
            note = f"whole-expression {whole:.2f} s"
        rng = np.random.default_rng(0)
        out, xs = _mlp_graph(hidden, rng)
        out.backward()
        start = time.perf_counter()
        nodes = check_nodes(out, eps=1e-6, atol=1e-5, rtol=1e-3)
        per_op = time.perf_counter() - start
        rows.append(Row(f"SymPy on a tanh MLP, 4 inputs, {hidden} hidden", per_op, "whole-expression", whole,
                        "per-op stays in seconds", f"{note}; per-op {per_op:.2f} s over {len(nodes)} nodes"))


def _fresh_process_seconds(code: str) -> tuple[float, float]:
    """(wall, CPU) seconds of `python -c code` in a new interpreter, imports included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def custom_op_network_rows(rows):
    for mode, baseline in (("full", 208.0), ("directional", 215.0)):
        code = ("import gradviz as gv, custom_op_net as net; "
                f"r = gv.check(net.network, *net.network_inputs(), mode={mode!r}); assert r.ok, r")
        wall, cpu = _fresh_process_seconds(code)
        rows.append(Row(f"148-element user-op net, {mode} (fresh process)", wall, "issue 13 before", baseline,
                        "< 5 s", f"CPU {cpu:.2f} s"))


def single_op_rows(rows, repeat):
    import custom_op_net as net

    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 8))
    gamma = rng.normal(size=8)
    cot = rng.normal(size=(4, 8))
    cases = {"softmax": (lambda t: (net.Softmax.apply(t) * cot).sum(), [z]),
             "log-softmax": (lambda t: (net.LogSoftmax.apply(t) * cot).sum(), [z]),
             "layer norm": (lambda t, g: (net.LayerNorm.apply(t, g) * cot).sum(), [z, gamma])}
    torch_fns = {}
    if have("torch"):
        import torch

        torch.set_num_threads(2)
        tcot = torch.tensor(cot)
        torch_fns = {
            "softmax": lambda t: (torch.softmax(t, -1) * tcot).sum(),
            "log-softmax": lambda t: (torch.log_softmax(t, -1) * tcot).sum(),
            "layer norm": lambda t, g: (torch.nn.functional.layer_norm(t, (8,), g, None, net.LN_EPS) * tcot).sum(),
        }
    for name, (fn, arrays) in cases.items():
        tensors = [gv.Tensor(a, label=f"x{i}") for i, a in enumerate(arrays)]
        start = time.perf_counter()
        assert gv.check(fn, *tensors, mode="full").ok
        first = time.perf_counter() - start
        seconds = median_seconds(lambda: gv.check(fn, *tensors, mode="full"), repeat=repeat)
        ref = None
        if name in torch_fns:
            import torch

            inputs = tuple(torch.tensor(a, requires_grad=True) for a in arrays)
            ref = median_seconds(lambda: torch.autograd.gradcheck(torch_fns[name], inputs), repeat=repeat)
        rows.append(Row(f"user op with twin: {name} 4x8, full", seconds, "gradcheck full", ref, "within 5x",
                        f"first call (SymPy compiles the op) {first:.2f} s"
                        + (f"; gradviz/torch = {seconds / ref:.2f}" if ref else "")))


def self_test_row(rows):
    wall, cpu = _fresh_process_seconds("import sys; from gradviz.cli import main; sys.exit(main(['check', '-q']))")
    rows.append(Row("gradviz check (self-test, fresh process)", wall, "issue 13 before", 23.0, "< 8 s",
                    f"CPU {cpu:.2f} s"))


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    gradcheck_rows(rows, 3 if args.quick else 7)
    big_model_row(rows)
    per_node_row(rows)
    sympy_rows(rows, args.quick)
    custom_op_network_rows(rows)
    single_op_rows(rows, 3 if args.quick else 7)
    self_test_row(rows)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
