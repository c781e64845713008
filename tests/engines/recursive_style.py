"""backward(grad) recurses into the parents with the chain rule; local derivatives are stored by the op."""
import math


class Var:
    def __init__(self, v, local_grads=()):
        self.v = v
        self.local_grads = local_grads
        self.grad = 0

    def __add__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.v + other.v, ((self, 1.0), (other, 1.0)))

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.v * other.v, ((self, other.v), (other, self.v)))

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return Var(-self.v, ((self, -1.0),))

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        other = other if isinstance(other, Var) else Var(other)
        return Var(self.v / other.v, ((self, 1 / other.v), (other, -self.v / other.v ** 2)))

    def __rtruediv__(self, other):
        return Var(other) / self

    def __pow__(self, n):
        return Var(self.v ** n, ((self, n * self.v ** (n - 1)),))

    def exp(self):
        e = math.exp(self.v)
        return Var(e, ((self, e),))

    def tanh(self):
        t = math.tanh(self.v)
        return Var(t, ((self, 1 - t * t),))

    def backward(self, grad=1.0):
        self.grad += grad
        for parent, local in self.local_grads:
            parent.backward(grad * local)
