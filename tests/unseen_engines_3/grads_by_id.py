"""Reverse mode where gradients live in a dict keyed by id(node): backward() returns the dict and also
copies each entry to node.grad for convenience."""
import math


class Node:
    def __init__(self, value, inputs=(), local=()):
        self.value = value
        self.inputs = inputs          # the operands
        self.local = local            # d self / d input, one number per input
        self.grad = 0.0

    def __add__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        return Node(self.value + other.value, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        return Node(self.value * other.value, (self, other), (other.value, self.value))

    def __truediv__(self, other):
        other = other if isinstance(other, Node) else Node(other)
        return Node(self.value / other.value, (self, other),
                    (1.0 / other.value, -self.value / other.value ** 2))

    def __neg__(self):
        return Node(-self.value, (self,), (-1.0,))

    def __sub__(self, other):
        return self + (-(other if isinstance(other, Node) else Node(other)))

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.value))
        return Node(s, (self,), (s * (1.0 - s),))

    def backward(self):
        order, seen = [], set()
        stack = [(self, iter(self.inputs))]
        seen.add(id(self))
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                order.append(node)
            elif id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append((nxt, iter(nxt.inputs)))
        grads = {id(self): 1.0}
        for node in reversed(order):
            g = grads.get(id(node), 0.0)
            for inp, d in zip(node.inputs, node.local):
                grads[id(inp)] = grads.get(id(inp), 0.0) + d * g
        for node in order:
            node.grad = grads.get(id(node), 0.0)
        return grads
