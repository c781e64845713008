"""Operations as classes, the way PyTorch's autograd.Function looks: a result keeps its `creator`, an op object
whose `parents` list holds the operands; backward() asks each creator for its operands' gradients."""
import math


class Function:
    def __init__(self, *parents):
        self.parents = list(parents)
        self.memo = ()

    def apply(self):
        result = Tensor(self.forward(*[p.value for p in self.parents]))
        result.creator = self
        return result


class Add(Function):
    def forward(self, x, y):
        return x + y

    def backward(self, up):
        return up, up


class Mul(Function):
    def forward(self, x, y):
        self.memo = (x, y)
        return x * y

    def backward(self, up):
        x, y = self.memo
        return up * y, up * x


class Div(Function):
    def forward(self, x, y):
        self.memo = (x, y)
        return x / y

    def backward(self, up):
        x, y = self.memo
        return up / y, -up * x / (y * y)


class Power(Function):
    def __init__(self, x, k):
        super().__init__(x)
        self.k = k

    def forward(self, x):
        self.memo = (x,)
        return x ** self.k

    def backward(self, up):
        (x,) = self.memo
        return (up * self.k * x ** (self.k - 1),)


class Tanh(Function):
    def forward(self, x):
        self.memo = (math.tanh(x),)
        return self.memo[0]

    def backward(self, up):
        (t,) = self.memo
        return (up * (1 - t * t),)


class Exp(Function):
    def forward(self, x):
        self.memo = (math.exp(x),)
        return self.memo[0]

    def backward(self, up):
        return (up * self.memo[0],)


def lift(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Tensor:
    def __init__(self, value):
        self.value = float(value)
        self.grad = 0.0
        self.creator = None

    def __add__(self, other): return Add(self, lift(other)).apply()
    def __radd__(self, other): return Add(lift(other), self).apply()
    def __mul__(self, other): return Mul(self, lift(other)).apply()
    def __rmul__(self, other): return Mul(lift(other), self).apply()
    def __truediv__(self, other): return Div(self, lift(other)).apply()
    def __rtruediv__(self, other): return Div(lift(other), self).apply()
    def __neg__(self): return self * -1.0
    def __sub__(self, other): return self + (-lift(other))
    def __rsub__(self, other): return lift(other) + (-self)
    def __pow__(self, k): return Power(self, k).apply()
    def tanh(self): return Tanh(self).apply()
    def exp(self): return Exp(self).apply()

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                if node.creator is not None:
                    stack.extend((p, False) for p in node.creator.parents)
        self.grad = 1.0
        for node in reversed(order):
            if node.creator is not None:
                for parent, g in zip(node.creator.parents, node.creator.backward(node.grad)):
                    parent.grad += g
