"""Node with `.val`, children in a set, no reflected operators, explicit-stack topo sort,
and gradients that must be cleared with zero_grad() between two backward calls."""
import math


class Node:
    def __init__(self, val, children=(), op=None):
        self.val = val
        self.grad = 0
        self.children = set(children)
        self.op = op
        self.backward_fn = None

    def zero_grad(self):
        for n in self._topo():
            n.grad = 0

    def __add__(self, other):
        if not isinstance(other, Node):
            other = Node(other)
        out = Node(self.val + other.val, {self, other}, "+")

        def fn():
            self.grad += out.grad
            other.grad += out.grad
        out.backward_fn = fn
        return out

    def __sub__(self, other):
        if not isinstance(other, Node):
            other = Node(other)
        out = Node(self.val - other.val, {self, other}, "-")

        def fn():
            self.grad += out.grad
            other.grad -= out.grad
        out.backward_fn = fn
        return out

    def __mul__(self, other):
        if not isinstance(other, Node):
            other = Node(other)
        out = Node(self.val * other.val, {self, other}, "*")

        def fn():
            self.grad += other.val * out.grad
            other.grad += self.val * out.grad
        out.backward_fn = fn
        return out

    def __neg__(self):
        out = Node(-self.val, {self}, "neg")

        def fn():
            self.grad -= out.grad
        out.backward_fn = fn
        return out

    def __pow__(self, k):
        out = Node(self.val ** k, {self}, "pow")

        def fn():
            self.grad += k * self.val ** (k - 1) * out.grad
        out.backward_fn = fn
        return out

    def exp(self):
        e = math.exp(self.val)
        out = Node(e, {self}, "exp")

        def fn():
            self.grad += e * out.grad
        out.backward_fn = fn
        return out

    def _topo(self):
        order, visited = [], set()
        stack = [self]
        while stack:
            n = stack[-1]
            if n in visited:
                stack.pop()
                continue
            pending = [c for c in n.children if c not in visited]
            if pending:
                stack.extend(pending)
            else:
                visited.add(n)
                order.append(n)
                stack.pop()
        return order

    def backward(self):
        order = self._topo()
        self.grad = 1
        for n in reversed(order):
            if n.backward_fn:
                n.backward_fn()
