"""A gallery of pictures: one of each kind gradviz draws, written to out/gallery/.

    python examples/render_gallery.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import gradviz as gv
from gradviz import F


def main(folder: str | Path = "out/gallery") -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    # 1. The classic neuron, with backward order and local derivatives.
    x, w, b = gv.Value(2.0, label="x"), gv.Value(-0.5, label="w"), gv.Value(0.3, label="b")
    out = (x * w + b).tanh()
    out.label = "out"
    out.backward()
    written.append(gv.render(out, folder / "neuron.svg", show_order=True, show_formulas=True))

    # 2. A small tensor graph: values and gradients as tables, edge width by gradient size.
    X = gv.Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), label="X")
    W = gv.Tensor(np.array([[0.1, 0.2, 0.3], [-0.3, 0.2, 0.1]]), label="W")
    loss = (X @ W).relu().mean()
    loss.label = "loss"
    loss.backward()
    written.append(gv.render(loss, folder / "tensors.svg", edge_weights=True))

    # 3. A scalar MLP with layers as clusters, top to bottom.
    mlp = gv.nn.MLP(3, [3, 2, 1], seed=0)
    y = (mlp([1.0, -1.0, 0.5]) - 1.0) ** 2
    y.label = "loss"
    y.backward()
    written.append(gv.render(y, folder / "mlp.svg", collapse=2, rankdir="TB"))

    # 4. A small CNN, folded automatically.
    cnn = gv.nn.Sequential(gv.nn.Conv2d(1, 2, 3, padding=1, seed=0), gv.nn.ReLU(), gv.nn.MaxPool2d(2),
                           gv.nn.Flatten(), gv.nn.Linear(8, 2, seed=1))
    logits = cnn(gv.Tensor(np.random.default_rng(0).normal(size=(1, 1, 4, 4)), label="image"))
    ce = gv.F.cross_entropy(logits, np.array([1]))
    ce.backward()
    written.append(gv.render(ce, folder / "cnn.svg"))

    # 5. A check verdict drawn on the graph.
    report = gv.check(lambda x, w: F.sigmoid(x * w) + (x - w).abs(), gv.Value(0.7, label="x"),
                      gv.Value(-1.2, label="w"))
    written.append(gv.render(report.root, folder / "checked.svg", report=report))

    # 6. The step-through page of backward().
    written.append(gv.animate_backward(out, folder / "backward.html"))
    for path in written:
        print(path)
    return written


if __name__ == "__main__":
    main()
