"""A dataclass node; the operations are module functions attached to the class afterwards
(Num.__add__ = add ...), and the generic helper _unary(x, f, df) builds sin, cos, exp and softplus."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable


@dataclass(eq=False)
class Num:
    value: float
    grad: float = 0.0
    src: tuple = ()
    push: Callable | None = field(default=None, repr=False)

    def backward(self) -> None:
        order, mark, stack = [], set(), [self]
        while stack:                       # post-order with an explicit stack
            n = stack[-1]
            nxt = [s for s in n.src if id(s) not in mark]
            if nxt and id(n) not in mark:
                mark.add(id(n))
                stack.extend(nxt)
                continue
            stack.pop()
            if n not in order:
                order.append(n)
        for n in order:
            n.grad = 0.0
        self.grad = 1.0
        for n in reversed(order):
            if n.push:
                n.push(n.grad)


def _num(x):
    return x if isinstance(x, Num) else Num(float(x))


def add(a, b):
    a, b = _num(a), _num(b)

    def push(g):
        a.grad += g
        b.grad += g
    return Num(a.value + b.value, src=(a, b), push=push)


def mul(a, b):
    a, b = _num(a), _num(b)

    def push(g):
        a.grad += g * b.value
        b.grad += g * a.value
    return Num(a.value * b.value, src=(a, b), push=push)


def _unary(x, f, df):
    x = _num(x)

    def push(g):
        x.grad += g * df(x.value)
    return Num(f(x.value), src=(x,), push=push)


def sin(x): return _unary(x, math.sin, math.cos)
def cos(x): return _unary(x, math.cos, lambda v: -math.sin(v))
def exp(x): return _unary(x, math.exp, math.exp)
def softplus(x): return _unary(x, lambda v: math.log1p(math.exp(v)), lambda v: 1 / (1 + math.exp(-v)))


Num.__add__ = add
Num.__radd__ = lambda self, o: add(o, self)
Num.__mul__ = mul
Num.__rmul__ = lambda self, o: mul(o, self)
Num.__neg__ = lambda self: mul(self, -1.0)
Num.__sub__ = lambda self, o: add(self, mul(o, -1.0))
