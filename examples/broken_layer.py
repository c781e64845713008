"""A student's dense layer with three classic backward bugs, and what gradviz says about each.

    python examples/broken_layer.py
"""

from __future__ import annotations

import numpy as np

import gradviz as gv


class Dense:
    """forward(A) = A @ W + b; backward(dZ, A) -> (dA, [dW, db]), with an optional bug."""

    def __init__(self, n_in: int, n_out: int, bug: str | None = None, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.bug = bug

    def forward(self, A):
        return A @ self.W + self.b

    def backward(self, dZ, A):
        dW, db, dA = A.T @ dZ, dZ.sum(axis=0), dZ @ self.W.T
        if self.bug == "batch":
            dW = dW / A.shape[0]           # an extra 1/batch
        elif self.bug == "transpose":
            dW = dW.T                      # dZ.T @ A instead of A.T @ dZ
        elif self.bug == "sign":
            dA = -dA                       # a sign lost on the way back
        return dA, [dW, db]


def main() -> dict:
    x = np.random.default_rng(1).normal(size=(5, 4))
    reports = {}
    for bug in (None, "batch", "transpose", "sign"):
        layer = Dense(4, 4, bug=bug)
        report = gv.check_layer(layer, x)
        reports[bug] = report
        print(f"--- bug: {bug}")
        print(report.verdict)
    return reports


if __name__ == "__main__":
    main()
