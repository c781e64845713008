"""Students who keep backprop outside the class: Value has only data, grad, children and a local rule,
and the module has backward(root) (plus a method that calls it, as the assignment asked)."""
import math


class Value:
    def __init__(self, data, children=(), rule=None):
        self.data = data
        self.grad = 0.0
        self.children = children
        self.rule = rule      # rule(out) pushes out.grad into the children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def rule(out):
            self.grad += out.grad
            other.grad += out.grad
        return Value(self.data + other.data, (self, other), rule)

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)

        def rule(out):
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        return Value(self.data * other.data, (self, other), rule)

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __pow__(self, n):
        def rule(out):
            self.grad += n * self.data ** (n - 1) * out.grad
        return Value(self.data ** n, (self,), rule)

    def sqrt(self):
        r = math.sqrt(self.data)

        def rule(out):
            self.grad += out.grad / (2 * r)
        return Value(r, (self,), rule)

    def log(self):
        def rule(out):
            self.grad += out.grad / self.data
        return Value(math.log(self.data), (self,), rule)

    def backward(self):
        backward(self)


def topological_order(root):
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in v.children)
    return order


def backward(root):
    root.grad = 1.0
    for v in reversed(topological_order(root)):
        if v.rule is not None:
            v.rule(v)
