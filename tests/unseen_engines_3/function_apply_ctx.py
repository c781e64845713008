"""A tinygrad-flavoured scalar engine: every op is a Function subclass; Function.apply(ctx, ...) builds the result
and keeps the context (with the saved tensors and the parents) in `_ctx`."""
import math


class Function:
    def __init__(self, *parents):
        self.parents = parents
        self.saved_tensors = ()

    def save_for_backward(self, *xs):
        self.saved_tensors = xs

    @classmethod
    def apply(cls, *args):
        ctx = cls(*args)
        out = Scalar(cls.forward(ctx, *[a.data for a in args]))
        out._ctx = ctx
        return out


class Add(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return y * g, x * g


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        r = math.exp(x)
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, g):
        (r,) = ctx.saved_tensors
        return (r * g,)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return math.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / x,)


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return max(x, 0.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * (x > 0),)


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


def _s(x):
    return x if isinstance(x, Scalar) else Scalar(x)


class Scalar:
    def __init__(self, data):
        self.data = float(data)
        self.grad = 0.0
        self._ctx = None

    def __add__(self, o): return Add.apply(self, _s(o))
    def __radd__(self, o): return Add.apply(_s(o), self)
    def __mul__(self, o): return Mul.apply(self, _s(o))
    def __rmul__(self, o): return Mul.apply(_s(o), self)
    def __neg__(self): return Neg.apply(self)
    def __sub__(self, o): return self + (-_s(o))
    def exp(self): return Exp.apply(self)
    def log(self): return Log.apply(self)
    def relu(self): return ReLU.apply(self)

    def deepwalk(self):
        order, seen = [], set()

        def visit(n):
            seen.add(n)
            if n._ctx:
                for p in n._ctx.parents:
                    if p not in seen:
                        visit(p)
                order.append(n)
        visit(self)
        return order

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.deepwalk()):
            grads = node._ctx.backward(node._ctx, node.grad)
            for p, g in zip(node._ctx.parents, grads):
                p.grad += g
