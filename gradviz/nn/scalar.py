"""The course's from-scratch network on Values: Neuron, Layer, MLP (micrograd-style).

Weights and biases are drawn uniformly from [-1, 1] with a seedable generator.
Every node a neuron records carries the scope mlp.layerK.neuronJ, so a drawn
MLP shows its layers and neurons as clusters.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..value import Value
from .module import Module, make_rng

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


def _check_act(act: str) -> str:
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}")
    return act


class Neuron(Module):
    """act(sum_i w_i x_i + b) on Values."""

    name = "neuron"

    def __init__(self, nin: int, act: str = "tanh", *, seed: int | None = None,
                 rng: np.random.Generator | None = None, name: str | None = None):
        self.act = _check_act(act)
        self.name = name or self.name
        rng = make_rng(seed, rng)
        self.w = [Value(float(rng.uniform(-1, 1)), label=f"w{i}") for i in range(nin)]
        self.b = Value(float(rng.uniform(-1, 1)), label="b")

    def forward(self, x: Sequence) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"{self.name} expects {len(self.w)} inputs, got {len(x)}")
        total = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return total if self.act == "linear" else getattr(total, self.act)()


class Layer(Module):
    """nout neurons reading the same inputs."""

    name = "layer"

    def __init__(self, nin: int, nout: int, act: str = "tanh", *, seed: int | None = None,
                 rng: np.random.Generator | None = None, name: str | None = None):
        self.name = name or self.name
        rng = make_rng(seed, rng)
        self.neurons = [Neuron(nin, act, rng=rng, name=f"neuron{j}") for j in range(nout)]

    def forward(self, x: Sequence) -> list[Value] | Value:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out


class MLP(Module):
    """MLP(4, [4, 2, 1]): layers of neurons, `act` everywhere (course default: tanh)."""

    name = "mlp"

    def __init__(self, nin: int, sizes: Sequence[int], act: str = "tanh", *, out_act: str | None = None,
                 seed: int | None = None, rng: np.random.Generator | None = None, name: str | None = None):
        self.name = name or self.name
        rng = make_rng(seed, rng)
        dims = [nin] + list(sizes)
        acts = [act] * (len(sizes) - 1) + [out_act or act]
        self.layers = [Layer(dims[k], dims[k + 1], acts[k], rng=rng, name=f"layer{k}")
                       for k in range(len(sizes))]

    def forward(self, x: Sequence) -> list[Value] | Value:
        x = [v if isinstance(v, Value) else float(v) for v in x]
        for layer in self.layers:
            x = layer(x)
            x = x if isinstance(x, list) else [x]
        return x[0] if len(x) == 1 else x
