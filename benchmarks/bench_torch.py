"""The PyTorch bridge side by side with torch itself.

    python benchmarks/bench_torch.py [--quick]

Issue 18's targets: gv.torch.check of an MLP built from custom
torch.autograd.Functions within 2x of torch.autograd.gradcheck's full mode
(which only says True/False, where the check also localizes and runs SymPy where
it can), and gv.torch.record adding less than 3x to the plain forward pass.
Needs torch (pip install torch); prints nothing to compare without it.
"""

from __future__ import annotations

import argparse

from common import Row, have, median_seconds, print_table


def _mlp():
    import torch

    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight, bias):
            ctx.save_for_backward(x, weight)
            return x @ weight.t() + bias

        @staticmethod
        def backward(ctx, grad):
            x, weight = ctx.saved_tensors
            return grad @ weight, grad.t() @ x, grad.sum(0)

    class Tanh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = torch.tanh(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * (1 - y * y)

    def mlp(x, w1, b1, w2, b2):
        return Linear.apply(Tanh.apply(Linear.apply(x, w1, b1)), w2, b2).sum()

    torch.manual_seed(0)
    shapes = [(8, 6), (8, 6), (8,), (1, 8), (1,)]
    return mlp, [torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in shapes]


def check_row(rows: list[Row], repeat: int) -> None:
    import torch

    import gradviz as gv

    mlp, inputs = _mlp()
    gv_s = median_seconds(lambda: gv.torch.check(mlp, *inputs), repeat=repeat)
    ref_s = median_seconds(lambda: torch.autograd.gradcheck(mlp, inputs), repeat=repeat)
    elements = sum(t.numel() for t in inputs)
    rows.append(Row(f"gv.torch.check: custom-Function MLP ({elements} el.)", gv_s, "gradcheck full", ref_s,
                    "ref/gv >= 0.5 (within 2x)"))


def _models():
    import torch
    from torch import nn

    torch.manual_seed(0)
    lenet = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 10))
    wide = nn.Sequential(nn.Linear(32, 512), nn.Tanh(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    tiny = nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    return [("LeNet-5 CNN, batch 32 of 1x28x28", lenet, torch.randn(32, 1, 28, 28), "ref/gv > 0.33 (adds < 3x)"),
            ("MLP 32-512-512-10, batch 128", wide, torch.randn(128, 32), "ref/gv > 0.33 (adds < 3x)"),
            ("MLP 32-64-64-10, batch 16", tiny, torch.randn(16, 32), "per-op overhead floor; no target")]


def record_rows(rows: list[Row], repeat: int) -> None:
    """gv.torch.record against the same forward pass as a user runs it (autograd on: a graph is being built)."""
    import gradviz as gv

    for title, model, x, target in _models():
        gv_s = median_seconds(lambda: gv.torch.record(model, x), repeat=repeat)
        ref_s = median_seconds(lambda: model(x), repeat=repeat)
        rows.append(Row(f"gv.torch.record: {title}", gv_s, "torch forward", ref_s, target))


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    if not have("torch"):
        print("torch is not installed: pip install torch to run this benchmark")
        return rows
    import torch

    # One thread: these are small problems, and on a shared 2-core machine a second thread only waits.
    torch.set_num_threads(1)
    repeat = 3 if args.quick else 7
    check_row(rows, repeat)
    record_rows(rows, repeat)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
