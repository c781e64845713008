"""The floors the engines are measured against: the same math with no graph at all.

A floor is what a careful person writes by hand for one network: plain Python
floats and lists for the scalar MLP, numpy arrays for the array MLP, forward
and backward written out, no nodes, no recording. An engine can only approach
it; the benchmarks print how close (engine time / floor time).

Each floor computes exactly what the engine computes for the same network, so
the benchmarks can also compare their losses.
"""

from __future__ import annotations

import math
import random

import numpy as np


# --- the scalar MLP (tanh everywhere, squared error) ---------------------------------------
def scalar_mlp_params(nin: int, sizes: list[int], seed: int = 0) -> list:
    """[[(weights, [bias]) per neuron] per layer], drawn like bench_engine.make_mlp draws them."""
    rnd = random.Random(seed)
    dims = [nin] + sizes
    return [[([rnd.uniform(-1, 1) for _ in range(a)], [rnd.uniform(-1, 1)]) for _ in range(b)]
            for a, b in zip(dims, dims[1:])]


def scalar_train(nin: int, sizes: list[int], X, Y, epochs: int, lr: float) -> float:
    """SGD on one sample at a time, loss (out - y)**2 / len(X): forward, backward, update, with floats."""
    layers = scalar_mlp_params(nin, sizes)
    tanh = math.tanh
    scale = 1 / len(X)
    loss = 0.0
    for _ in range(epochs):
        for x, y in zip(X, Y):
            acts = [x]
            h = x
            for layer in layers:
                h = [tanh(sum((wi * xi for wi, xi in zip(w, h)), b[0])) for w, b in layer]
                acts.append(h)
            out = h[0]
            loss = (out - y) ** 2 * scale
            # backward: the gradient of every weight and bias, then the update
            grads = []
            g = [2.0 * (out - y) * scale]
            for k in range(len(layers) - 1, -1, -1):
                inputs, outputs = acts[k], acts[k + 1]
                g_in = [0.0] * len(inputs)
                layer_grads = []
                for (w, _), g_out, o in zip(layers[k], g, outputs):
                    gz = g_out * (1.0 - o * o)
                    layer_grads.append(([gz * xi for xi in inputs], gz))
                    for i, wi in enumerate(w):
                        g_in[i] += gz * wi
                grads.append(layer_grads)
                g = g_in
            grads.reverse()
            for layer, layer_grads in zip(layers, grads):
                for (w, b), (gw, gb) in zip(layer, layer_grads):
                    for i, gi in enumerate(gw):
                        w[i] -= lr * gi
                    b[0] -= lr * gb
    return loss


# --- the least engine: what any Python operator-overloading engine must pay ----------------
def least_engine() -> tuple[type, object]:
    """A scalar engine with nothing but what reverse mode needs: (Value class, its tanh).

    Six slots (value, gradient, two parents, the op's backward, a creation
    number), each op one small function, a backward in creation order (a set
    of visited nodes, a sort, no recursion). No labels, scopes, constants as
    nodes, error messages or IEEE handling. It shows what the language costs:
    its ratio to the floor is what any engine written this way pays, and
    gradviz's ratio to it is what gradviz's own features cost on top.
    """
    from itertools import count

    new, ids = object.__new__, count().__next__

    def mul(g, a, b, out):
        return g * b, g * a

    def add(g, a, b, out):
        return g, g

    def sub(g, a, b, out):
        return g, -g

    def tanh_grad(g, a, out):
        return g * (1.0 - out * out)

    class Least:
        __slots__ = ("data", "grad", "a", "b", "op", "id")

        def __init__(self, data):
            self.data, self.grad, self.a, self.b, self.op, self.id = float(data), 0.0, None, None, None, ids()

        def _binary(self, other, data, op):
            out = new(Least)
            out.data, out.grad, out.a, out.b, out.op, out.id = data, 0.0, self, other, op, ids()
            return out

        def __add__(self, other):
            other = other if type(other) is Least else Least(other)
            return self._binary(other, self.data + other.data, add)

        __radd__ = __add__

        def __mul__(self, other):
            other = other if type(other) is Least else Least(other)
            return self._binary(other, self.data * other.data, mul)

        __rmul__ = __mul__

        def __sub__(self, other):
            other = other if type(other) is Least else Least(other)
            return self._binary(other, self.data - other.data, sub)

        def __pow__(self, k):
            if k != 2:
                raise NotImplementedError("the least engine only squares (the benchmark's loss)")
            return self._binary(self, self.data * self.data, mul)  # x * x: both parents are x

        def tanh(self):
            out = new(Least)
            out.data, out.grad, out.a, out.b, out.op, out.id = math.tanh(self.data), 0.0, self, None, tanh_grad, ids()
            return out

        def backward(self):
            order, seen, stack = [], set(), [self]
            while stack:
                node = stack.pop()
                if node.op is None or node.id in seen:
                    continue
                seen.add(node.id)
                order.append(node)
                stack.append(node.a)
                if node.b is not None:
                    stack.append(node.b)
            order.sort(key=lambda n: n.id, reverse=True)
            for node in order:
                node.grad = 0.0
            self.grad = 1.0
            for node in order:
                a, b = node.a, node.b
                if b is None:
                    a.grad += node.op(node.grad, a.data, node.data)
                else:
                    ga, gb = node.op(node.grad, a.data, b.data, node.data)
                    a.grad += ga
                    b.grad += gb

    return Least, Least.tanh


# --- the array MLP (relu hidden layers, softmax cross-entropy) ------------------------------
def array_mlp_params(dims: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (in, out), b (out,)) per layer, He-initialized, as gv.nn.Linear(init='he') draws them."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(a, b)) * math.sqrt(2.0 / a), np.zeros(b)) for a, b in zip(dims, dims[1:])]


def array_step(params: list, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One SGD step of the MLP by hand in numpy: forward, softmax cross-entropy, backward, in-place update.

    Like a careful hand-written version, it never computes the gradient of the
    data batch and updates the weights in place.
    """
    acts = [x]
    pre = []
    h = x
    for k, (w, b) in enumerate(params):
        z = h @ w
        z += b
        pre.append(z)
        h = np.maximum(z, 0.0) if k < len(params) - 1 else z
        acts.append(h)
    logits = acts[-1]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    n = len(y)
    rows = np.arange(n)
    loss = float(-(shifted[rows, y] - np.log(total[:, 0])).mean())
    g = exp / total
    g[rows, y] -= 1.0
    g /= n
    for k in range(len(params) - 1, -1, -1):
        w, b = params[k]
        gw = acts[k].T @ g
        gb = g.sum(axis=0)
        if k:
            g = g @ w.T
            g *= pre[k - 1] > 0
        w -= lr * gw
        b -= lr * gb
    return loss
