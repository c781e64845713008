"""A small CNN (conv - relu - max-pool - linear) learning bars against crosses.

    python examples/small_cnn.py

The example makes its own data: 8x8 images of a vertical or horizontal bar
(class 0) or a cross (class 1), with noise. It trains for a few epochs with
Adam, then prints a gradient check of the conv layer.
"""

from __future__ import annotations

import numpy as np

import gradviz as gv


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    images = rng.normal(scale=0.2, size=(n, 1, 8, 8))
    labels = rng.integers(0, 2, size=n)
    for k in range(n):
        r, c = rng.integers(2, 6, size=2)
        if labels[k] == 0:
            if rng.random() < 0.5:
                images[k, 0, :, c] += 1.0
            else:
                images[k, 0, r, :] += 1.0
        else:
            images[k, 0, :, c] += 1.0
            images[k, 0, r, :] += 1.0
    return images, labels


def build(seed: int) -> gv.nn.Sequential:
    return gv.nn.Sequential(
        gv.nn.Conv2d(1, 4, kernel_size=3, padding=1, seed=seed), gv.nn.ReLU(), gv.nn.MaxPool2d(2),
        gv.nn.Flatten(), gv.nn.Linear(4 * 4 * 4, 2, seed=seed + 1))


def main(epochs: int = 6, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    train_x, train_y = make_images(200, rng)
    test_x, test_y = make_images(100, rng)
    model = build(seed)
    optimizer = gv.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(train_x))
        total = 0.0
        for start in range(0, len(order), 20):
            batch = order[start:start + 20]
            loss = gv.F.cross_entropy(model(gv.Tensor(train_x[batch], requires_grad=False)), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(order))
        print(f"epoch {epoch + 1}: loss {losses[-1]:.4f}")
    accuracy = float(np.mean(model(gv.Tensor(test_x)).data.argmax(axis=1) == test_y))
    print(f"test accuracy {accuracy:.2f} (chance is 0.5)")
    conv = model[0]
    sample = gv.Tensor(test_x[:1], label="image")  # one image: small enough for SymPy to expand the conv
    report = gv.check(lambda image: conv(image).tanh().sum(), sample, params=conv.parameters())
    print(report)
    return {"losses": losses, "accuracy": accuracy, "report": report}


if __name__ == "__main__":
    main()
