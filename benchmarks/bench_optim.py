"""Checking a hand-written optimizer, side by side with checking it by hand.

    python benchmarks/bench_optim.py [--quick]

The reference is what a student would otherwise write: run their optimizer and
a textbook loop (numpy, or torch.optim when PyTorch is installed) on the same
gradients and compare with np.allclose; it answers only yes or no. gradviz's
check also finds the convention, reads the hyperparameters, compares every
step and element, and (with kind="auto", or on a failure) tries every rule and
cause. Target: a whole check in well under a second (interactive).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from common import Row, have, median_seconds, print_table

import gradviz as gv
from gradviz.checking.optimizers.problem import fixed_gradients

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "student_optimizers"))
import cs231n_optim as students  # noqa: E402

STEPS = 5


def by_hand_numpy(rule) -> bool:
    """The student's optimizer and a textbook Adam on the same gradients, compared at the end."""
    problem = fixed_gradients(0, STEPS)
    ok = True
    for name, w0 in problem.start.items():
        w, config = w0.copy(), None
        p, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
        for t in range(1, STEPS + 1):
            g = problem.fixed[t - 1][name]
            w, config = rule(w, g.copy(), config)
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
            p = p - 1e-3 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        ok = ok and np.allclose(w, p)
    return ok


def by_hand_torch(rule) -> bool:
    import torch

    problem = fixed_gradients(0, STEPS)
    params = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in problem.start.items()}
    opt = torch.optim.Adam(params.values(), lr=1e-3)
    mine = {k: (v.copy(), None) for k, v in problem.start.items()}
    for t in range(STEPS):
        for k, p in params.items():
            p.grad = torch.tensor(problem.fixed[t][k])
            mine[k] = rule(mine[k][0], problem.fixed[t][k].copy(), mine[k][1])
        opt.step()
    return all(np.allclose(mine[k][0], p.detach().numpy()) for k, p in params.items())


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    rows: list[Row] = []
    cases = [("correct Adam, kind='adam'", students.adam, "adam"),
             ("correct Adam, kind='auto' (6 rules)", students.adam, "auto"),
             ("Adam without bias correction, auto + causes", students.adam_no_bias_correction_bug, "auto")]
    for title, rule, kind in cases:
        gv_s = median_seconds(lambda: gv.check_optimizer(rule, kind=kind), repeat=repeat)
        rows.append(Row(f"{title}, {STEPS} steps", gv_s, "numpy by hand", median_seconds(
            lambda: by_hand_numpy(rule), repeat=repeat), target="< 1 s", notes="by hand: yes/no only"))
        if have("torch"):
            rows.append(Row(f"{title}, {STEPS} steps", gv_s, "torch.optim by hand", median_seconds(
                lambda: by_hand_torch(rule), repeat=repeat), target="< 1 s"))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
