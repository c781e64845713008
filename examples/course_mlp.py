"""The course's scalar MLP: 4 inputs, layers [4, 2, 1], tanh everywhere, per-sample SGD.

    python examples/course_mlp.py

Trains for 200 epochs with loss (y_hat - y)**2 / 4, prints the loss curve,
checks the gradients of one step, and saves the graph of one forward pass.
"""

from __future__ import annotations

from pathlib import Path

import gradviz as gv

X = [[-1, 2, 5, 4], [4, 2, 6, 3], [2, 3, 4, 7], [7, 2, 4, 1]]
Y = [1, -1, -1, 1]


def main(epochs: int = 200, out_dir: str | Path = "out", seed: int = 0) -> dict:
    model = gv.nn.MLP(4, [4, 2, 1], seed=seed)
    optimizer = gv.optim.SGD(model.parameters(), lr=0.2)
    curve = []
    for _ in range(epochs):
        total = 0.0
        for x, y in zip(X, Y):
            loss = (model(x) - y) ** 2 / 4
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.data
        curve.append(total)
    for epoch in (0, 9, 49, 99, epochs - 1):
        if epoch < len(curve):
            print(f"epoch {epoch + 1:>3}: loss {curve[epoch]:.6f}")
    # One forward pass, drawn with layers and neurons as clusters.
    Path(out_dir).mkdir(exist_ok=True)
    loss = (model(X[0]) - Y[0]) ** 2 / 4
    loss.label = "loss"
    optimizer.zero_grad()
    loss.backward()
    image = gv.render(loss, Path(out_dir) / "course_mlp.svg")
    print(f"graph of one forward pass: {image}")
    report = gv.check(lambda *p: (model(X[0]) - Y[0]) ** 2 / 4, *[], params=model.parameters(), mode="full")
    print(report.verdict)
    return {"curve": curve, "image": image, "report": report, "predictions": [model(x).data for x in X]}


if __name__ == "__main__":
    main()
