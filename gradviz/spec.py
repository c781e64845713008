"""The SPEC of `--input NAME=SPEC` and `--init NAME=SPEC`, read by a safe parser (never evaluated).

    2.5                 a number (a float; an integer with a point: 3.0)
    4,5   3             a shape: a seeded standard-normal array of that shape (a bare integer is a vector)
    randn(4,5)  rand(3)  randint(10, size=5)  randint(2, 5, size=(3, 2))
    zeros(3)  ones(2, 2)  eye(3)
    [1, 0, 2]  [[1.0, 2.0]]   a list literal (integers stay integers: class labels)
    "max"  'same'  True  None  a string or constant, passed as is
    identity  relu  tanh  sigmoid  (exp, sin, ...)   an activation passed as a function
    {W1: randn(5,4), b1: zeros(5,1)}  a dict of such values (a parameters dict; keys are names)

The text is parsed with `ast` and only the forms above are accepted; a name
or a call outside this list is an error naming the input and the forms.

The activations are the op table's elementwise functions of one input (tanh,
sigmoid, relu, exp, ...), each its table forward on numpy arrays, plus
`identity`: an op added to the table is an activation here too, unless
NOT_ACTIVATIONS says why not.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from .errors import GradvizError
from .ops import builtin_ops
from .ops.kinds import is_unary_function
from .ops.registry import OpDef

MAX_LENGTH = 500
MAX_DICT_LENGTH = 2000  # a parameters dict of an LSTM cell names ten arrays
MAX_ELEMENTS = 10_000_000
# Elementwise functions of the table that are not activations, and why.
NOT_ACTIVATIONS = {"neg": "negation is arithmetic: a layer is never given it as its activation"}


def identity(z):
    return z


def _activation(op: OpDef) -> Callable:
    """The op's own forward on float64 arrays, as the plain function a user's layer calls: activation(Z)."""

    def activation(z):
        return op.forward(np.asarray(z, dtype=np.float64))

    activation.__name__ = activation.__qualname__ = op.name
    activation.__doc__ = f"{op.name}, elementwise (gradviz's op table forward), for --input NAME={op.name}."
    return activation


ACTIVATIONS: dict[str, Callable] = {"identity": identity, **{
    op.name: _activation(op) for op in builtin_ops() if is_unary_function(op) and op.name not in NOT_ACTIVATIONS}}
relu, tanh, sigmoid = ACTIVATIONS["relu"], ACTIVATIONS["tanh"], ACTIVATIONS["sigmoid"]  # spec.relu etc., as before
CALLS = ("randn", "rand", "randint", "zeros", "ones", "eye")
FORMS = ("a number (2.5), a shape (4,5), randn(4,5), rand(3), randint(10, size=5), zeros(3), ones(2, 2), "
         "eye(3), a list [1, 0, 2], a quoted string, a dict {W1: randn(5,4), b1: zeros(5,1)}, or one of "
         + ", ".join(ACTIVATIONS))


def parse(text: str, what: str, rng: np.random.Generator) -> Any:
    """The value SPEC describes; `what` ("--input x") names it in errors; random draws come from rng."""
    text = text.strip()
    if not text or len(text) > (MAX_DICT_LENGTH if text.startswith("{") else MAX_LENGTH):
        raise GradvizError(f"{what}: give a value: {FORMS}")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise GradvizError(f"{what}={text}: not a value gradviz can read; write {FORMS}") from None
    if isinstance(tree, ast.Dict):  # {W1: randn(5,4), b1: zeros(5,1)}: a dict of values, each a SPEC
        return _dict(tree, what, text, rng)
    return _value(tree, what, text, rng)


def _dict(tree: ast.Dict, what: str, text: str, rng: np.random.Generator) -> dict:
    out: dict[str, Any] = {}
    for key, node in zip(tree.keys, tree.values):
        if isinstance(key, ast.Name):
            name = key.id
        elif isinstance(key, ast.Constant) and isinstance(key.value, str):
            name = key.value
        else:
            raise GradvizError(f"{what}={text}: a dict's keys are names, e.g. {{W1: randn(5,4), b1: zeros(5,1)}}")
        if name in out:
            raise GradvizError(f"{what}={text}: the key {name} is given twice")
        if isinstance(node, ast.Dict):
            raise GradvizError(f"{what}={text}: a dict inside a dict is not read; give one level of NAME: SPEC")
        out[name] = _value(node, f"{what}[{name!r}]", ast.unparse(node), rng)
    return out


def _value(tree: ast.AST, what: str, text: str, rng: np.random.Generator) -> Any:
    if isinstance(tree, ast.Tuple):  # 4,5
        return _random(rng.standard_normal, _shape(tree.elts, what, text), what)
    if isinstance(tree, ast.Constant) and type(tree.value) is int:  # 3: a vector of 3
        return _random(rng.standard_normal, _shape([tree], what, text), what)
    if isinstance(tree, ast.Name):
        if tree.id in ACTIVATIONS:
            return ACTIVATIONS[tree.id]
        if tree.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[tree.id]
        raise GradvizError(f"{what}={text}: {tree.id!r} is not a value gradviz knows; write {FORMS}")
    if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Attribute) and tree.func.attr == "astype":
        return _as_float(tree, what, text, rng)  # randint(0, 2, size=(4, 4)).astype(float): tied values to check
    if isinstance(tree, ast.Call):
        return _call(tree, what, text, rng)
    value = _literal(tree, what, text)
    if isinstance(value, list):
        try:
            array = np.array(value)
        except ValueError:  # rows of different lengths: numpy refuses a ragged list
            raise GradvizError(f"{what}={text}: the rows of this list have different lengths; "
                               "give every row the same number of elements") from None
        if array.dtype == object or array.dtype.kind not in "iufb":
            raise GradvizError(f"{what}={text}: a list must hold numbers of one nesting depth")
        return array.astype(np.float64) if array.dtype.kind == "f" else array
    return value


def _as_float(tree: ast.Call, what: str, text: str, rng: np.random.Generator) -> np.ndarray:
    """SPEC.astype(float): the only conversion read, the one a refusal of integer data asks for."""
    kind = tree.args[0] if len(tree.args) == 1 and not tree.keywords else None
    name = kind.id if isinstance(kind, ast.Name) else kind.value if isinstance(kind, ast.Constant) else None
    if name not in ("float", "float64"):
        raise GradvizError(f"{what}={text}: only .astype(float) is read after a value; write {FORMS}")
    value = _value(tree.func.value, what, text, rng)
    if not isinstance(value, np.ndarray):
        raise GradvizError(f"{what}={text}: .astype(float) follows an array, e.g. randint(3, size=(2, 4)).astype(float)")
    return value.astype(np.float64)


def _literal(node: ast.AST, what: str, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)) or \
            isinstance(node, ast.Constant) and node.value is None:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _literal(node.operand, what, text)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e, what, text) for e in node.elts]
    raise GradvizError(f"{what}={text}: only numbers, lists, strings and the calls {', '.join(CALLS)} are read "
                       f"(nothing is evaluated); write {FORMS}")


def _shape(elements, what: str, text: str) -> tuple[int, ...]:
    shape = []
    for e in elements:
        value = _literal(e, what, text)
        if type(value) is not int or value < 1:
            raise GradvizError(f"{what}={text}: a shape is positive integers like 4,5")
        shape.append(value)
    check_size(shape, what, text)
    return tuple(shape)


def check_size(shape, what: str, text: str) -> None:
    """One limit for every input gradviz makes (--input, --input-shape): refused before any memory is taken."""
    count = int(np.prod(shape, dtype=object))
    if count > MAX_ELEMENTS:
        raise GradvizError(f"{what} {text}: {count:,} elements is too many to check (at most {MAX_ELEMENTS:,}); "
                           "give a smaller shape: gradients are checked the same way on a few elements")


def _random(draw, shape, what):
    return np.asarray(draw(size=shape), dtype=np.float64)


def _call(node: ast.Call, what: str, text: str, rng: np.random.Generator) -> np.ndarray:
    if not isinstance(node.func, ast.Name) or node.func.id not in CALLS:
        name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise GradvizError(f"{what}={text}: {name}() is not one of {', '.join(CALLS)}; write {FORMS}")
    func = node.func.id
    args = [_literal(a, what, text) for a in node.args]
    kwargs = {k.arg: _literal(k.value, what, text) for k in node.keywords}
    allowed = {"randint": {"size", "high", "low"}, "eye": set()}.get(func, {"size", "shape"})
    unknown = set(kwargs) - allowed
    if unknown:
        raise GradvizError(f"{what}={text}: {func}() takes no argument {sorted(unknown)[0]}=")
    if func == "randint":
        if not 1 <= len(args) <= 2 or not all(type(a) is int for a in args):
            raise GradvizError(f"{what}={text}: write randint(HIGH, size=N) or randint(LOW, HIGH, size=(N, M))")
        size = kwargs.get("size", 1)
        size = _shape([ast.Constant(s) for s in (size if isinstance(size, list) else [size])], what, text)
        low, high = (0, args[0]) if len(args) == 1 else args
        if high <= low:
            raise GradvizError(f"{what}={text}: randint needs HIGH > LOW")
        return rng.integers(low, high, size=size)
    if func == "eye":
        if len(args) != 1 or type(args[0]) is not int or args[0] < 1:
            raise GradvizError(f"{what}={text}: write eye(N) with a positive integer N")
        return np.eye(args[0])
    dims = args[0] if len(args) == 1 and isinstance(args[0], list) else args
    if "size" in kwargs or "shape" in kwargs:
        size = kwargs.get("size", kwargs.get("shape"))
        dims = size if isinstance(size, list) else [size]
    shape = _shape([ast.Constant(d) if not isinstance(d, ast.AST) else d for d in dims], what, text) if dims else ()
    if func == "randn":
        return _random(rng.standard_normal, shape, what)
    if func == "rand":
        return _random(rng.random, shape, what)
    return np.zeros(shape) if func == "zeros" else np.ones(shape)


def parse_assignments(items: list[str], flag: str, rng: np.random.Generator) -> dict[str, Any]:
    """["x=4,5", "y=randint(10, size=4)"] -> {"x": array, "y": array}, in order; bad items name the flag."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise GradvizError(f"{flag} takes NAME=SPEC, e.g. {flag} x=4,5 or {flag} \"y=randint(10, size=4)\"; "
                               f"got {item!r}")
        if name in out:
            raise GradvizError(f"{flag} {name} is given twice")
        out[name] = parse(text, f"{flag} {name}", rng)
    return out
