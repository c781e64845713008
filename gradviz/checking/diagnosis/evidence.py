"""What the user's own code shows: signs that a structure a cause depends on is really there.

A constant ratio between yours and the true gradient is only a number, and small numbers
coincide: 4/5 is (N - 1)/N for N = 5 and also a keep probability of 0.8; 2 is a forgotten 1/2
and also sqrt(4). A cause that depends on a structure (an N - 1, a square, a 1/sqrt(d)) is
named only when the user's forward or backward has that structure. The source is read with
ast, never run, once per function, and only when a ratio has matched such a cause.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from typing import Any

from .context import Context

# sign -> what it stands for, in the words of a finding's evidence
SIGNS = {
    "minus_one": "N - 1, variance or ddof",
    "two": "square, 2 or 1/2",
    "sqrt": "square root",
}


def code_signs(ctx: Context) -> frozenset[str] | None:
    """The signs found in the user's code around this gradient; None when no code could be read."""
    found, read = set(), False
    for obj in ctx.code:
        for fn in _functions(obj):
            signs = _signs_of(fn)
            if signs is not None:
                read = True
                found |= signs
    return frozenset(found) if read else None


def has_branches(code: tuple) -> bool:
    """Whether the user's code is piecewise: an ordering comparison, or where/abs/maximum/clip/sign.

    Such code takes other branches at other inputs (a Huber loss beyond -delta), so one draw of
    inputs may never reach the branch that is wrong."""
    return any(_branches_in(fn) for obj in code for fn in _functions(obj))


@functools.lru_cache(maxsize=256)
def _branches_in(fn: Any) -> bool:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) for op in node.ops):
            return True
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in _PIECEWISE:
                return True
    return False


_PIECEWISE = {"where", "abs", "fabs", "absolute", "maximum", "minimum", "clip", "sign", "heaviside", "piecewise",
              "select", "max", "min", "relu"}


def _functions(obj: Any) -> list:
    """The functions holding obj's code: itself, or every method of its class and the user's base classes.

    Methods are read one by one (a function knows its own file and lines, even when it was typed in a
    notebook cell; a class is looked up by name in its module's file, which a cell does not have)."""
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    if isinstance(obj, types.FunctionType):  # (gradviz's own wrappers, a torch bridge's, are not the user's code)
        return [] if _ours(getattr(obj, "__module__", None) or "") else [obj]
    cls = obj if isinstance(obj, type) else type(obj)
    found = []
    for klass in cls.__mro__:
        if klass.__module__ in ("builtins", "abc") or _ours(klass.__module__):
            continue
        for member in vars(klass).values():
            member = getattr(member, "__func__", member)  # staticmethod, classmethod
            if isinstance(member, types.FunctionType):
                found.append(member)
    return found


def _ours(module: str) -> bool:
    return module.split(".")[0] in ("gradviz", "numpy", "torch")


@functools.lru_cache(maxsize=256)
def _signs_of(obj: Any) -> frozenset[str] | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None  # built in, typed at a prompt, or a lambda inside an expression
    return frozenset(_walk(tree))


def _walk(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    ignored = set()  # numbers that are axes or indices (axis=2, x.shape[2]), not factors
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("axis", "axes", "ndmin", "ndim", "size"):
            ignored |= {id(n) for n in ast.walk(node.value)}
        elif isinstance(node, ast.Subscript):
            ignored |= {id(n) for n in ast.walk(node.slice)}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("ddof", "unbiased", "correction"):
            found.add("minus_one")
        elif isinstance(node, (ast.Attribute, ast.Name)):
            name = node.attr if isinstance(node, ast.Attribute) else node.id
            if name in ("var", "std", "variance", "nanvar", "nanstd"):
                found.add("minus_one")
            elif name in ("sqrt", "rsqrt"):
                found.add("sqrt")
            elif name in ("square", "norm"):
                found.add("two")
        elif isinstance(node, ast.BinOp):
            right = _number(node.right)
            if isinstance(node.op, ast.Sub) and right == 1:
                found.add("minus_one")
            elif isinstance(node.op, ast.Pow) and right is not None and abs(right) == 0.5:
                found.add("sqrt")
            elif isinstance(node.op, ast.Mult) and ast.dump(node.left) == ast.dump(node.right):
                found.add("two")  # x * x
        if isinstance(node, ast.Constant) and id(node) not in ignored and _number(node) in (2, 0.5):
            found.add("two")
    return found


def _number(node: ast.AST) -> float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    return None
