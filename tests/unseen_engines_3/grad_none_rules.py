"""Value whose grad starts as None and is summed with `if p.grad is None`, parents in `prev` (a tuple),
rules are methods named _grad_<op> looked up by the op name; relu, leaky_relu, abs, exp, tanh."""
import math


class Value:
    def __init__(self, data, prev=(), op="leaf", extra=None):
        self.data = data
        self.grad = None
        self.prev = tuple(prev)
        self.op = op
        self.extra = extra

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), "add")

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), "mul")

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def leaky_relu(self, slope=0.01):
        return Value(self.data if self.data > 0 else slope * self.data, (self,), "leaky_relu", slope)

    def abs(self):
        return Value(abs(self.data), (self,), "abs")

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    # local rules: gradient for each parent, given the upstream g
    def _grad_add(self, g):
        return g, g

    def _grad_mul(self, g):
        a, b = self.prev
        return g * b.data, g * a.data

    def _grad_relu(self, g):
        return (g * (1.0 if self.prev[0].data > 0 else 0.0),)

    def _grad_leaky_relu(self, g):
        return (g * (1.0 if self.prev[0].data > 0 else self.extra),)

    def _grad_abs(self, g):
        x = self.prev[0].data
        return (g * (1.0 if x > 0 else -1.0 if x < 0 else 0.0),)

    def _grad_exp(self, g):
        return (g * self.data,)

    def _grad_tanh(self, g):
        return (g * (1 - self.data ** 2),)

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v.prev)
        self.grad = 1.0
        for v in reversed(order):
            if v.op == "leaf" or v.grad is None:
                continue
            for p, g in zip(v.prev, getattr(v, "_grad_" + v.op)(v.grad)):
                p.grad = g if p.grad is None else p.grad + g
