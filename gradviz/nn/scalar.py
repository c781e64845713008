"""The course's from-scratch network on Values: Neuron, Layer, MLP (micrograd-style).

A neuron records its weighted sum b + w0*x0 + ... as one `affine` node (the
same numbers as the 2n mul and add nodes of sum(w * x, b), at a fraction of
the cost), then its activation.

Weights and biases are drawn uniformly from [-1, 1] with a seedable generator.
Every node a neuron records carries the scope mlp.layerK.neuronJ, so a drawn
MLP shows its layers and neurons as clusters.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..graph import _scope_stack
from ..value import Value, affine
from .module import Module, _renames, make_rng

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


_ACTIVATE = {"tanh": Value.tanh, "relu": Value.relu, "sigmoid": Value.sigmoid, "linear": None}


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
        w = self.w
        if len(x) != len(w):
            raise ValueError(f"{self.name} expects {len(w)} inputs, got {len(x)}")
        total = affine(self.b, w, x)  # sum(w * x, b) as one node
        act = _ACTIVATE[self.act]
        return total if act is None else act(total)


class Layer(Module):
    """nout neurons reading the same inputs."""

    name = "layer"

    def __init__(self, nin: int, nout: int, act: str = "tanh", *, seed: int | None = None,
                 rng: np.random.Generator | None = None, name: str | None = None):
        self.name = name or self.name
        rng = make_rng(seed, rng)
        self.neurons = [Neuron(nin, act, rng=rng, name=f"neuron{j}") for j in range(nout)]

    def forward(self, x: Sequence) -> list[Value] | Value:
        # Each neuron records in its own scope, exactly as calling it would do
        # (Module.__call__), but without a call or a lookup per neuron: a neuron
        # of a course network is a dozen nodes, and those were a tenth of their
        # cost. A neuron replaced by a subclass with its own forward is still called.
        stack = _scope_stack
        neurons = self.neurons
        key = (stack[-1], _renames[0], len(neurons))
        cache = self._neuron_paths
        if cache[0] != key:
            cache = self._neuron_paths = (key, _scope_paths(neurons, key[0]))
        out = []
        for n, path in zip(neurons, cache[1]):
            stack.append(path)
            try:
                if type(n) is Neuron:  # Neuron.forward, inline
                    w = n.w
                    if len(x) != len(w):
                        raise ValueError(f"{n.name} expects {len(w)} inputs, got {len(x)}")
                    total = affine(n.b, w, x)
                    act = _ACTIVATE[n.act]
                    out.append(total if act is None else act(total))
                else:
                    out.append(n.forward(x))
            finally:
                stack.pop()
        return out[0] if len(out) == 1 else out

    _neuron_paths: tuple = ((), ())  # (when, the neurons' scope paths then), see forward


def _scope_paths(modules: list, outer: str) -> list[str]:
    """Each module's scope path when called inside scope `outer` (what calling it would record)."""
    paths = []
    for m in modules:
        try:
            paths.append(m._call_scopes[outer])
        except (AttributeError, KeyError):
            paths.append(m._remember_scope(outer))
    return paths


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
        # Each Layer records in its own scope as calling it would, without Module.__call__ (see Layer.forward).
        stack = _scope_stack
        layers = self.layers
        key = (stack[-1], _renames[0], len(layers))
        cache = self._layer_paths
        if cache[0] != key:
            cache = self._layer_paths = (key, _scope_paths(layers, key[0]))
        for layer, path in zip(layers, cache[1]):
            if type(layer) is Layer:
                stack.append(path)
                try:
                    x = layer.forward(x)
                finally:
                    stack.pop()
            else:
                x = layer(x)
            x = x if isinstance(x, list) else [x]
        return x[0] if len(x) == 1 else x

    _layer_paths: tuple = ((), ())  # (when, the layers' scope paths then), see forward
