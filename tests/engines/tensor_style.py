"""The course-report style: a Tensor with value, children and operator, and module-level F.tanh(x)."""
import math

import numpy as np


class Tensor:
    def __init__(self, value, children=None, operator=None):
        self.value = np.float64(value)
        self.children = children or []
        self.operator = operator
        self.grad = 0.0

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.value + other.value, [self, other], "add")

    def __radd__(self, other):
        return Tensor(other) + self

    def __sub__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.value - other.value, [self, other], "sub")

    def __rsub__(self, other):
        return Tensor(other) - self

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.value * other.value, [self, other], "mul")

    def __rmul__(self, other):
        return Tensor(other) * self

    def __truediv__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        return Tensor(self.value / other.value, [self, other], "div")

    def __rtruediv__(self, other):
        return Tensor(other) / self

    def __pow__(self, n):
        return Tensor(self.value ** n, [self, Tensor(n)], "pow")

    def __neg__(self):
        return self * -1.0

    def local_gradients(self):
        a = self.children[0].value if self.children else None
        b = self.children[1].value if len(self.children) > 1 else None
        if self.operator == "add":
            return [1.0, 1.0]
        if self.operator == "sub":
            return [1.0, -1.0]
        if self.operator == "mul":
            return [b, a]
        if self.operator == "div":
            return [1.0 / b, -a / b ** 2]
        if self.operator == "pow":
            return [b * a ** (b - 1), 0.0]
        if self.operator == "tanh":
            return [1.0 - self.value ** 2]
        if self.operator == "exp":
            return [self.value]
        return []

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node.children)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node.children, node.local_gradients()):
                child.grad += local * node.grad


class F:
    @staticmethod
    def tanh(x):
        return Tensor(math.tanh(x.value), [x], "tanh")

    @staticmethod
    def exp(x):
        return Tensor(math.exp(x.value), [x], "exp")


def _breadth_first(root):
    """Nodes in breadth-first order from the output (a planted bug uses it as if it were topological)."""
    order, seen, queue = [], {id(root)}, [root]
    while queue:
        node = queue.pop(0)
        order.append(node)
        for child in node.children:
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return list(reversed(order))
