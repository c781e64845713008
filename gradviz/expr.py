"""A safe parser for the expressions `gradviz check "tanh(w*x + b)"` accepts.

Grammar (nothing else is accepted; no eval, no sympify of user text):

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := '-' unary | '+' unary | power
    power  := atom ('**' unary)?             (right-associative, binds tighter than unary minus on its left)
    atom   := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'

FUNC is an elementwise op of the op table that the scalar engine runs, called
by the name graphs draw it with: exp log sqrt tanh sigmoid relu abs sin cos
(one argument), max min (two: maximum, minimum), clip(x, lo, hi) (number
bounds), and any op added to the table later. Arithmetic ops are the
operators. An op the scalar engine cannot run (matmul, conv2d...) has no place
in a scalar expression. NAME `pi` and `e` are the constants. Errors say what
is wrong and point at it with a caret.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Union

from .errors import GradvizError
from .ops import builtin_ops
from .ops.kinds import attribute_names
from .ops.registry import OpDef

MAX_LENGTH = 2000
MAX_DEPTH = 60
# Table ops an expression writes with an operator rather than by name: op name -> an expression recording it.
OPERATOR_OPS = {"add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y", "pow": "x ** y",
                "powc": "x ** 2", "neg": "-x"}


def _call_name(op: OpDef) -> str:
    """What an expression calls an op: the name its graph node shows (max for maximum), else its table name."""
    return op.symbol if op.symbol and op.symbol.isidentifier() else op.name


# Scalar ops of the table an expression does not call by name, with the reason.
NOT_IN_EXPRESSIONS = {"affine": "a neuron's weighted sum of any length; an expression writes it w0*x0 + w1*x1 + b"}

# name -> op: every elementwise op the scalar engine runs, except those written as operators
FUNCTION_OPS: dict[str, OpDef] = {_call_name(op): op for op in builtin_ops()
                                  if op.scalar and op.elementwise and op.name not in OPERATOR_OPS}
FUNCTIONS = tuple(FUNCTION_OPS)
UNARY = tuple(name for name, op in FUNCTION_OPS.items() if op.arity == 1 and not attribute_names(op))
BINARY = tuple(name for name, op in FUNCTION_OPS.items() if op.arity == 2 and not attribute_names(op))
CONSTANTS = {"pi": math.pi, "e": math.e}  # names that are numbers, not variables


class ExpressionError(GradvizError, ValueError):
    """A malformed expression: the message shows where, with a caret."""

    def __init__(self, text: str, position: int, problem: str):
        self.position = position
        pointer = f"\n  {text}\n  {' ' * position}^"
        super().__init__(f"{problem} at position {position + 1}:{pointer}")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Neg:
    operand: "Node"


Node = Union[Num, Name, Call, BinOp, Neg]

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z_0-9]*)|(\*\*|[-+*/(),]))")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            start = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise ExpressionError(text, start, f"unexpected character {text[start]!r}")
        number, name, symbol = match.groups()
        start = match.start(1 if number else 2 if name else 3)
        kind = "num" if number else "name" if name else "sym"
        out.append((kind, number or name or symbol, start))
        pos = match.end()
    out.append(("end", "", len(text)))
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.i]

    def take(self, value: str | None = None):
        token = self.tokens[self.i]
        if value is not None and token[1] != value:
            found = "the end" if token[0] == "end" else repr(token[1])
            raise ExpressionError(self.text, token[2], f"expected {value!r} but found {found}")
        self.i += 1
        return token

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(self.text, self.peek()[2], f"the expression nests deeper than {MAX_DEPTH} levels")

    def parse(self) -> Node:
        node = self.expr()
        kind, value, pos = self.peek()
        if kind != "end":
            raise ExpressionError(self.text, pos, f"unexpected {value!r} (an operator missing?)")
        return node

    def expr(self) -> Node:
        node = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "sym":
            op = self.take()[1]
            node = BinOp(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "sym":
            op = self.take()[1]
            node = BinOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        self.nested()
        try:
            if self.peek()[1] == "-" and self.peek()[0] == "sym":
                self.take()
                return Neg(self.unary())
            if self.peek()[1] == "+" and self.peek()[0] == "sym":
                self.take()
                return self.unary()
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> Node:
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            return BinOp("**", base, self.unary())
        return base

    def atom(self) -> Node:
        kind, value, pos = self.take()
        if kind == "num":
            number = float(value)
            if not math.isfinite(number):
                raise ExpressionError(self.text, pos, f"the number {value} is too large for float64")
            return Num(number)
        if kind == "name":
            if self.peek()[1] == "(":
                return self.call(value, pos)
            if value in FUNCTIONS:
                raise ExpressionError(self.text, pos, f"{value} is a function: write {value}(...)")
            if value in CONSTANTS:
                return Num(CONSTANTS[value])
            return Name(value, pos)
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        found = "the end of the expression" if kind == "end" else repr(value)
        raise ExpressionError(self.text, pos, f"expected a number, a name or '(' but found {found}")

    def call(self, func: str, pos: int) -> Node:
        if func in CONSTANTS:
            raise ExpressionError(self.text, pos, f"{func} is the constant {CONSTANTS[func]:.6g}, not a function; "
                                                  f"write {func}*(...) to multiply")
        if func not in FUNCTIONS:
            raise ExpressionError(self.text, pos, f"unknown function {func!r}; the functions are "
                                                  f"{', '.join(FUNCTIONS)}")
        self.take("(")
        args = [self.expr()]
        while self.peek()[1] == ",":
            self.take()
            args.append(self.expr())
        self.take(")")
        op = FUNCTION_OPS[func]
        attributes = attribute_names(op)
        wanted = op.arity + len(attributes)
        if len(args) != wanted:
            raise ExpressionError(self.text, pos, f"{func} takes {wanted} argument{'s' if wanted > 1 else ''}, "
                                                  f"got {len(args)}")
        if attributes and not all(_constant(a) is not None for a in args[op.arity:]):
            raise ExpressionError(self.text, pos, f"{func}'s {', '.join(attributes)} must be numbers, "
                                                  f"e.g. {func}(x, {', '.join(['-1', '1'][:len(attributes)])})")
        return Call(func, tuple(args))


def parse(text: str) -> Node:
    """Parse an expression into a small tree, or raise ExpressionError."""
    if not isinstance(text, str) or not text.strip():
        raise GradvizError("the expression is empty; write something like 'tanh(w*x + b)'")
    if len(text) > MAX_LENGTH:
        raise GradvizError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    return _Parser(text).parse()


def names(node: Node) -> list[str]:
    """The variable names of an expression, in order of first appearance."""
    out: list[str] = []

    def visit(n):
        if isinstance(n, Name) and n.name not in out:
            out.append(n.name)
        elif isinstance(n, Call):
            for a in n.args:
                visit(a)
        elif isinstance(n, BinOp):
            visit(n.left)
            visit(n.right)
        elif isinstance(n, Neg):
            visit(n.operand)

    visit(node)
    return out


def evaluate(node: Node, env: dict):
    """Build the gradviz graph of the expression with the given Values (iterative, no recursion limit)."""
    stack: list = [(node, False)]
    results: list = []
    while stack:
        n, ready = stack.pop()
        if isinstance(n, Num):
            results.append(n.value)
        elif isinstance(n, Name):
            if n.name not in env:
                raise GradvizError(f"no value for {n.name!r}: give it with --at {n.name}=...")
            results.append(env[n.name])
        elif not ready:
            stack.append((n, True))
            children = n.args if isinstance(n, Call) else (n.left, n.right) if isinstance(n, BinOp) else (n.operand,)
            for child in reversed(children):
                stack.append((child, False))
        elif isinstance(n, Neg):
            results.append(-_as_value(results.pop()))
        elif isinstance(n, BinOp):
            right, left = results.pop(), results.pop()
            results.append(_binary(n.op, _as_value(left), right))
        else:
            args = [results.pop() for _ in n.args][::-1]
            results.append(_call(FUNCTION_OPS[n.func], args))
    return _as_value(results[0])  # "3" alone is a graph too: one constant node


def _constant(node: Node) -> float | None:
    """The number a node spells (2, -0.5), or None when it holds a name."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Neg):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None


def _call(op: OpDef, args: list):
    """Record `op` on its inputs, numbers becoming constants; the rest of the arguments are its attributes."""
    from . import functional

    inputs = [_as_value(a) for a in args[:op.arity]]
    return getattr(functional, op.name)(*inputs, *[float(a) for a in args[op.arity:]])


def _as_value(x):
    from .value import Value

    return x if isinstance(x, Value) else Value(float(x), requires_grad=False)


def _binary(op: str, left, right):
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    return left ** right
