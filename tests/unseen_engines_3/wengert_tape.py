"""A Wengert list: every op appends (output, inputs, local derivatives) to a global tape; backward() walks
the tape backwards from the output's entry. Variables also remember their inputs for printing."""
import math

TAPE = []


class Var:
    def __init__(self, v, inputs=()):
        self.v = v
        self.inputs = inputs
        self.grad = 0.0

    def _record(self, value, inputs, locals_):
        out = Var(value, inputs)
        TAPE.append((out, inputs, locals_))
        return out

    def __add__(self, o):
        o = o if isinstance(o, Var) else Var(o)
        return self._record(self.v + o.v, (self, o), (1.0, 1.0))

    def __radd__(self, o):
        return self + o

    def __mul__(self, o):
        o = o if isinstance(o, Var) else Var(o)
        return self._record(self.v * o.v, (self, o), (o.v, self.v))

    def __rmul__(self, o):
        return self * o

    def __sub__(self, o):
        o = o if isinstance(o, Var) else Var(o)
        return self._record(self.v - o.v, (self, o), (1.0, -1.0))

    def __neg__(self):
        return self._record(-self.v, (self,), (-1.0,))

    def exp(self):
        e = math.exp(self.v)
        return self._record(e, (self,), (e,))

    def log(self):
        return self._record(math.log(self.v), (self,), (1.0 / self.v,))

    def backward(self):
        self.grad = 1.0
        mine, stack = set(), [self]          # only this output's part of the tape
        while stack:
            n = stack.pop()
            if id(n) not in mine:
                mine.add(id(n))
                stack.extend(n.inputs)
        for out, inputs, locals_ in reversed(TAPE):
            if id(out) not in mine:
                continue
            for x, d in zip(inputs, locals_):
                x.grad += d * out.grad
