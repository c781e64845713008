"""Ops are plain module functions over a Scalar that only holds data; no operator overloading at all."""
import math


class Scalar:
    def __init__(self, value, parents=(), grad_fn=None):
        self.value = value
        self.parents = parents
        self.grad_fn = grad_fn   # g -> tuple of gradients, one per parent
        self.grad = 0.0

    def backward(self):
        order, seen = [], set()
        todo = [(self, 0)]
        while todo:
            node, state = todo.pop()
            if state:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            todo.append((node, 1))
            for p in node.parents:
                todo.append((p, 0))
        self.grad = 1.0
        for node in reversed(order):
            if node.grad_fn is not None:
                for p, g in zip(node.parents, node.grad_fn(node.grad)):
                    p.grad += g


def const(x):
    return x if isinstance(x, Scalar) else Scalar(float(x))


def add(a, b):
    a, b = const(a), const(b)
    return Scalar(a.value + b.value, (a, b), lambda g: (g, g))


def mul(a, b):
    a, b = const(a), const(b)
    return Scalar(a.value * b.value, (a, b), lambda g: (g * b.value, g * a.value))


def sub(a, b):
    a, b = const(a), const(b)
    return Scalar(a.value - b.value, (a, b), lambda g: (g, -g))


def div(a, b):
    a, b = const(a), const(b)
    return Scalar(a.value / b.value, (a, b), lambda g: (g / b.value, -g * a.value / b.value ** 2))


def exp(a):
    e = math.exp(a.value)
    return Scalar(e, (a,), lambda g: (g * e,))


def log(a):
    return Scalar(math.log(a.value), (a,), lambda g: (g / a.value,))


def sigmoid(a):
    s = 1.0 / (1.0 + math.exp(-a.value))
    return Scalar(s, (a,), lambda g: (g * s * (1.0 - s),))


def tanh(a):
    t = math.tanh(a.value)
    return Scalar(t, (a,), lambda g: (g * (1.0 - t * t),))
