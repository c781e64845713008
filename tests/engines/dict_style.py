"""Backward functions kept in a dict by op name; each returns one local gradient per input."""
import math


def _add(a, b, out):
    return 1.0, 1.0


def _mul(a, b, out):
    return b, a


def _div(a, b, out):
    return 1.0 / b, -a / (b * b)


def _pow(a, k, out):
    return (k * a ** (k - 1),)


def _relu(a, out):
    return (1.0 if a > 0 else 0.0,)


def _tanh(a, out):
    return (1.0 - out * out,)


BACKWARD = {"+": _add, "*": _mul, "/": _div, "**": _pow, "relu": _relu, "tanh": _tanh}


class Scalar:
    def __init__(self, data, inputs=(), op=""):
        self.data = data
        self.grad = 0.0
        self.inputs = inputs
        self.op = op
        self.args = ()

    def _make(self, data, inputs, op, args=()):
        out = Scalar(data, inputs, op)
        out.args = args
        return out

    def __add__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return self._make(self.data + other.data, (self, other), "+")

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return self._make(self.data * other.data, (self, other), "*")

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = other if isinstance(other, Scalar) else Scalar(other)
        return self._make(self.data / other.data, (self, other), "/")

    def __rtruediv__(self, other):
        return Scalar(other) / self

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Scalar) else Scalar(-other))

    def __rsub__(self, other):
        return Scalar(other) + (-self)

    def __pow__(self, k):
        return self._make(self.data ** k, (self,), "**", (k,))

    def relu(self):
        return self._make(max(self.data, 0.0), (self,), "relu")

    def tanh(self):
        return self._make(math.tanh(self.data), (self,), "tanh")

    def backward(self):
        order, seen, stack = [], set(), [self]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            stack.extend(node.inputs)
        order = _topological(self)
        self.grad = 1.0
        for node in order:
            if not node.op:
                continue
            values = [x.data for x in node.inputs] + list(node.args)
            locals_ = BACKWARD[node.op](*values, node.data)
            for x, local in zip(node.inputs, locals_):
                x.grad += local * node.grad


def _topological(root):
    """Output first: a node comes after every node that uses it (Kahn's algorithm, no recursion)."""
    users, nodes, stack = {}, {}, [root]
    while stack:
        node = stack.pop()
        if id(node) in nodes:
            continue
        nodes[id(node)] = node
        for x in node.inputs:
            users[id(x)] = users.get(id(x), 0) + 1
            stack.append(x)
    ready, order = [root], []
    while ready:
        node = ready.pop()
        order.append(node)
        for x in node.inputs:
            users[id(x)] -= 1
            if users[id(x)] == 0:
                ready.append(x)
    return order
