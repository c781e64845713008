"""__slots__, the number behind a property, grad None until used, rules as lambdas returning one gradient per parent."""
import math

class Scalar:
    __slots__ = ("_value", "grad", "parents", "rule")

    def __init__(self, value, parents=(), rule=None):
        self._value = float(value)
        self.grad = None
        self.parents = list(parents)
        self.rule = rule

    @property
    def value(self):
        return self._value

    def _acc(self, g):
        self.grad = g if self.grad is None else self.grad + g

    def __add__(self, o):
        o = o if isinstance(o, Scalar) else Scalar(o)
        return Scalar(self.value + o.value, (self, o), lambda g: (g, g))

    def __radd__(self, o):
        return self + o

    def __mul__(self, o):
        o = o if isinstance(o, Scalar) else Scalar(o)
        return Scalar(self.value * o.value, (self, o), lambda g: (g * o.value, g * self.value))

    def __rmul__(self, o):
        return self * o

    def __sub__(self, o):
        return self + (-1.0) * o

    def __rsub__(self, o):
        return (-1.0) * self + o

    def __truediv__(self, o):
        o = o if isinstance(o, Scalar) else Scalar(o)
        return Scalar(self.value / o.value, (self, o), lambda g: (g / o.value, -g * self.value / o.value ** 2))

    def __rtruediv__(self, o):
        return Scalar(o) / self

    def __pow__(self, k):
        return Scalar(self.value ** k, (self,), lambda g: (g * k * self.value ** (k - 1),))

    def __neg__(self):
        return self * -1.0

    def sigmoid(self):
        s = 0.5 * (1 + math.tanh(0.5 * self.value))
        return Scalar(s, (self,), lambda g: (g * s * (1 - s),))

    def relu(self):
        return Scalar(max(0.0, self.value), (self,), lambda g: (g * (self.value > 0),))

    def backward(self):
        order, seen, stack = [], set(), [(self, 0)]
        while stack:
            node, state = stack.pop()
            if state:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, 1))
            for p in node.parents:
                stack.append((p, 0))
        self.grad = 1.0
        for node in reversed(order):
            if node.rule is not None:
                for p, g in zip(node.parents, node.rule(node.grad)):
                    p._acc(g)
