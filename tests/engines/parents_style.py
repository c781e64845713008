"""Nodes with parents and op, a sigmoid, and backward(grad) taking the upstream gradient."""
import math


class Node:
    def __init__(self, val, parents=(), op=None):
        self.val = float(val)
        self.parents = tuple(parents)
        self.op = op
        self.grad = 0.0
        self.backward_fn = None

    @staticmethod
    def lift(x):
        return x if isinstance(x, Node) else Node(x)

    def __add__(self, other):
        other = Node.lift(other)
        out = Node(self.val + other.val, (self, other), "add")

        def backward_fn(g):
            self.grad += g
            other.grad += g
        out.backward_fn = backward_fn
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = Node.lift(other)
        out = Node(self.val * other.val, (self, other), "mul")

        def backward_fn(g):
            self.grad += other.val * g
            other.grad += self.val * g
        out.backward_fn = backward_fn
        return out

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-Node.lift(other))

    def __rsub__(self, other):
        return Node.lift(other) + (-self)

    def __truediv__(self, other):
        other = Node.lift(other)
        out = Node(self.val / other.val, (self, other), "div")

        def backward_fn(g):
            self.grad += g / other.val
            other.grad += -self.val / other.val ** 2 * g
        out.backward_fn = backward_fn
        return out

    def __rtruediv__(self, other):
        return Node.lift(other) / self

    def __pow__(self, k):
        out = Node(self.val ** k, (self,), "pow")

        def backward_fn(g):
            self.grad += k * self.val ** (k - 1) * g
        out.backward_fn = backward_fn
        return out

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.val)) if self.val >= 0 else math.exp(self.val) / (1 + math.exp(self.val))
        out = Node(s, (self,), "sigmoid")

        def backward_fn(g):
            self.grad += s * (1 - s) * g
        out.backward_fn = backward_fn
        return out

    def log(self):
        out = Node(math.log(self.val), (self,), "log")

        def backward_fn(g):
            self.grad += g / self.val
        out.backward_fn = backward_fn
        return out

    def backward(self, grad):
        order, visited, stack = [], set(), [(self, iter(self.parents))]
        visited.add(id(self))
        while stack:
            node, parents = stack[-1]
            nxt = next(parents, None)
            if nxt is None:
                order.append(node)
                stack.pop()
            elif id(nxt) not in visited:
                visited.add(id(nxt))
                stack.append((nxt, iter(nxt.parents)))
        self.grad = grad
        for node in reversed(order):
            if node.backward_fn is not None:
                node.backward_fn(node.grad)
