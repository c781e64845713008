"""A Value with dropout: its forward draws a new mask each call, so finite differences of it mean nothing."""
import random
class Value:
    def __init__(self, data, _children=()):
        self.data = data; self.grad = 0.0; self._prev = set(_children); self._backward = lambda: None
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad; other.grad += out.grad
        out._backward = _backward
        return out
    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad; other.grad += self.data * out.grad
        out._backward = _backward
        return out
    def dropout(self, p=0.5):
        keep = random.random() > p
        out = Value(self.data * keep / (1 - p), (self,))
        def _backward():
            self.grad += keep / (1 - p) * out.grad
        out._backward = _backward
        return out
    def backward(self):
        topo, seen, stack = [], set(), [(self, False)]
        while stack:
            n, done = stack.pop()
            if done: topo.append(n)
            elif n not in seen:
                seen.add(n); stack.append((n, True)); stack.extend((c, False) for c in n._prev)
        self.grad = 1.0
        for n in reversed(topo): n._backward()
