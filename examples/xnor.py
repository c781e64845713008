"""XNOR with a 2-3-1 network: ReLU hidden layer, sigmoid output, binary cross-entropy.

    python examples/xnor.py

Trains with Adam until all four predictions are right (each within 0.3 of its target).
"""

from __future__ import annotations

import numpy as np

import gradviz as gv

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[1.0], [0.0], [0.0], [1.0]])  # XNOR: 1 when the inputs agree
MARGIN = 0.3  # a prediction counts as right when it is within 0.3 of its target


def train(seed: int, max_steps: int) -> tuple[bool, int, float, np.ndarray]:
    model = gv.nn.Sequential(gv.nn.Linear(2, 3, seed=seed), gv.nn.ReLU(), gv.nn.Linear(3, 1, seed=seed + 100),
                             gv.nn.Sigmoid())
    optimizer = gv.optim.Adam(model.parameters(), lr=0.05)
    x = gv.Tensor(X, label="x", requires_grad=False)
    for step in range(1, max_steps + 1):
        loss = gv.F.binary_cross_entropy(model(x), Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        probabilities = model(x).data
        if np.all(np.abs(probabilities - Y) < MARGIN):  # right, and clearly so
            return True, step, loss.item(), probabilities
    return False, max_steps, loss.item(), probabilities


def main(first_seed: int = 0, attempts: int = 10, max_steps: int = 1500) -> dict:
    """Three ReLUs can all die (output 0 for every input) and then nothing learns:
    a real property of such a small network. The example restarts with a new seed."""
    for attempt, seed in enumerate(range(first_seed, first_seed + attempts), 1):
        solved, steps, loss, probabilities = train(seed, max_steps)
        if solved:
            break
        print(f"seed {seed}: stuck at loss {loss:.3f} after {steps} steps (dead ReLUs); restarting")
    print(f"all four XNOR cases right after {steps} steps (seed {seed}), loss {loss:.4f}")
    print("probabilities:", probabilities.ravel().round(3))
    return {"solved": solved, "steps": steps, "loss": loss, "probabilities": probabilities, "attempts": attempt}


if __name__ == "__main__":
    main()
