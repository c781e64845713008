"""tinygrad-like numpy Tensor: Function subclasses with forward(ctx, ...) / backward(ctx, grad_output),
ctx.save_for_backward, Tensor._ctx, and a deepwalk with a stack."""
import numpy as np


class Context:
    def __init__(self, fn, *tensors):
        self.fn = fn
        self.parents = tensors
        self.saved = []

    def save_for_backward(self, *x):
        self.saved.extend(x)


class Function:
    @classmethod
    def apply(cls, *tensors):
        ctx = Context(cls, *tensors)
        out = Tensor(cls.forward(ctx, *[t.data for t in tensors]))
        out._ctx = ctx
        return out


class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x.shape, y.shape)
        return x + y

    @staticmethod
    def backward(ctx, g):
        sx, sy = ctx.saved
        return _reduce(g, sx), _reduce(g, sy)


class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        return _reduce(y * g, x.shape), _reduce(x * g, y.shape)


class Dot(Function):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        return g @ w.T, x.T @ g


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved
        return (g * (x > 0),)


class Sum(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x.shape)
        return np.array(x.sum())

    @staticmethod
    def backward(ctx, g):
        (shape,) = ctx.saved
        return (np.broadcast_to(g, shape).copy(),)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved
        return (g * s * (1 - s),)


def _reduce(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


class Tensor:
    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None
        self._ctx = None

    def __add__(self, o): return Add.apply(self, o if isinstance(o, Tensor) else Tensor(o))
    def __mul__(self, o): return Mul.apply(self, o if isinstance(o, Tensor) else Tensor(o))
    def __radd__(self, o): return Add.apply(Tensor(o), self)
    def __rmul__(self, o): return Mul.apply(Tensor(o), self)
    def dot(self, w): return Dot.apply(self, w)
    __matmul__ = dot
    def relu(self): return ReLU.apply(self)
    def sum(self): return Sum.apply(self)
    def sigmoid(self): return Sigmoid.apply(self)

    def deepwalk(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            t, done = stack.pop()
            if done:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            if t._ctx is not None:
                stack.extend((p, False) for p in t._ctx.parents)
        return order

    def backward(self):
        self.grad = np.ones_like(self.data)
        for t in reversed(self.deepwalk()):
            if t._ctx is None:
                continue
            grads = t._ctx.fn.backward(t._ctx, t.grad)
            for p, g in zip(t._ctx.parents, grads):
                p.grad = g if p.grad is None else p.grad + g
