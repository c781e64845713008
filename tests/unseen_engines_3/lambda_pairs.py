"""Scalar with __slots__; each result keeps (parent, grad-function) pairs; backward walks nodes
sorted by a global creation counter (newest first) instead of a topological sort."""
import itertools
import math

_counter = itertools.count()


class Scalar:
    __slots__ = ("data", "grad", "deps", "uid")

    def __init__(self, data, deps=()):
        self.data = float(data)
        self.grad = 0.0
        self.deps = list(deps)        # [(parent, fn(g) -> contribution)]
        self.uid = next(_counter)

    @staticmethod
    def lift(x):
        return x if isinstance(x, Scalar) else Scalar(x)

    def __add__(self, o):
        o = Scalar.lift(o)
        return Scalar(self.data + o.data, [(self, lambda g: g), (o, lambda g: g)])

    def __mul__(self, o):
        o = Scalar.lift(o)
        return Scalar(self.data * o.data, [(self, lambda g: g * o.data), (o, lambda g: g * self.data)])

    def __radd__(self, o):
        return Scalar.lift(o) + self

    def __rmul__(self, o):
        return Scalar.lift(o) * self

    def __neg__(self):
        return Scalar(-self.data, [(self, lambda g: -g)])

    def __sub__(self, o):
        return self + (-Scalar.lift(o))

    def __rsub__(self, o):
        return Scalar.lift(o) + (-self)

    def __pow__(self, p):
        return Scalar(self.data ** p, [(self, lambda g: g * p * self.data ** (p - 1))])

    def tanh(self):
        t = math.tanh(self.data)
        return Scalar(t, [(self, lambda g: g * (1 - t * t))])

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data))
        return Scalar(s, [(self, lambda g: g * s * (1 - s))])

    def backward(self):
        nodes, stack, seen = [], [self], set()
        while stack:
            n = stack.pop()
            if id(n) in seen:
                continue
            seen.add(id(n))
            nodes.append(n)
            stack.extend(p for p, _ in n.deps)
        nodes.sort(key=lambda n: n.uid, reverse=True)
        self.grad = 1.0
        for n in nodes:
            for parent, fn in n.deps:
                parent.grad += fn(n.grad)
