"""The operations a scalar engine is expected to support, each tied to its entry in gradviz's op table.

A Form is one way of writing an operation (`a * b`, `a * 2.5`, `2.5 * a`,
`a ** 3`, `a.tanh()`, `F.tanh(a)`): the student's method Python calls for
it, the op table entry that defines its math, and which operands are nodes
(the others are plain numbers). The math itself is never written here.
"""

from __future__ import annotations

import inspect
import operator
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from ...ops import registry
from .discovery import Engine, _defined, module_of

CONSTANT = 1.5  # the plain number on the other side of a binary op
BINARY = (("add", "+", operator.add), ("sub", "-", operator.sub), ("mul", "*", operator.mul),
          ("truediv", "/", operator.truediv))
TABLE_NAME = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div"}
EXPONENTS = (2, 3, -1, 0.5)
# named unary ops: op-table name -> the spellings a student gives the method or function
UNARY = {"tanh": ("tanh",), "exp": ("exp",), "log": ("log", "ln"), "relu": ("relu", "ReLU", "Relu"),
         "sigmoid": ("sigmoid", "Sigmoid", "sigm"), "sqrt": ("sqrt",), "sin": ("sin",), "cos": ("cos",),
         "abs": ("abs",)}


@dataclass
class Form:
    """One way of writing an operation, and how to apply it to the student's nodes."""

    key: str  # "a * b", "2.5 * a", "a ** 3", "a.tanh()", "F.tanh(a)"
    method: str  # the student's method or function, qualified: "Value.__rmul__", "F.tanh"
    op: str  # the op table entry: "mul", "powc", "tanh"
    apply: Callable[..., Any]  # apply(*operands) -> node (operands: nodes where `nodes` is True, else numbers)
    nodes: tuple[bool, ...]  # which operands are nodes
    attrs: dict = field(default_factory=dict)  # op attributes (exponent)
    expected: bool = True  # a scalar engine should support it (Value ** Value is not expected)
    defined: bool = True  # the class defines the method Python calls for it
    function: Any = None  # the student's function object (for locating lines)
    symbol: str = ""  # the op's symbol ("*", "tanh"): what the student's graph labels it

    @property
    def table(self):
        return registry.get(self.op)

    @property
    def reflected(self) -> bool:
        return not self.nodes[0]


def binary_forms(engine: Engine) -> list[Form]:
    name, forms = engine.name, []
    for dunder, symbol, fn in BINARY:
        op = TABLE_NAME[dunder]
        plain, reflected = f"__{dunder}__", f"__r{dunder}__"
        forms.append(Form(f"a {symbol} b", f"{name}.{plain}", op, fn, (True, True),
                          defined=_defined(engine.cls, plain), function=_function(engine.cls, plain), symbol=symbol))
        forms.append(Form(f"a {symbol} {CONSTANT}", f"{name}.{plain}", op, fn, (True, False),
                          defined=_defined(engine.cls, plain), function=_function(engine.cls, plain), symbol=symbol))
        forms.append(Form(f"{CONSTANT} {symbol} a", f"{name}.{reflected}", op, fn, (False, True),
                          defined=_defined(engine.cls, reflected), function=_function(engine.cls, reflected),
                          symbol=symbol))
    for n in EXPONENTS:
        forms.append(Form(f"a ** {n}", f"{name}.__pow__", "powc", lambda a, n=n: a ** n, (True,),
                          {"exponent": float(n)}, defined=_defined(engine.cls, "__pow__"),
                          function=_function(engine.cls, "__pow__"), symbol="**"))
    forms.append(Form("a ** b", f"{name}.__pow__", "pow", operator.pow, (True, True), expected=False,
                      defined=_defined(engine.cls, "__pow__"), function=_function(engine.cls, "__pow__"), symbol="**"))
    forms.append(Form("-a", f"{name}.__neg__", "neg", operator.neg, (True,), defined=_defined(engine.cls, "__neg__"),
                      function=_function(engine.cls, "__neg__"), symbol="-"))
    return forms


def unary_forms(engine: Engine, functions: dict[str, Callable] | None) -> list[Form]:
    """Named ops: methods of the class (a.tanh()) and functions of its module or given (F.tanh(a))."""
    forms = []
    for op, spellings in UNARY.items():
        spelled = next((s for s in spellings if _defined(engine.cls, s) and callable(getattr(engine.cls, s))), None)
        if spelled:
            forms.append(Form(f"a.{spelled}()", f"{engine.name}.{spelled}", op,
                              lambda a, s=spelled: getattr(a, s)(), (True,), function=_function(engine.cls, spelled),
                              symbol=spelled))
    for shown, fn in (functions or {}).items():
        op = next((o for o, spellings in UNARY.items() if shown.rsplit(".", 1)[-1] in spellings), None)
        if op is not None:
            forms.append(Form(f"{shown}(a)", shown, op, lambda a, f=fn: f(a), (True,), function=fn,
                              symbol=shown.rsplit(".", 1)[-1]))
    return forms


def module_functions(engine: Engine) -> dict[str, Callable]:
    """Functions named like ops in the class's module, directly (tanh) or in a namespace there (F.tanh)."""
    module = module_of(engine.cls)
    if module is None:
        return {}
    spellings = {s for names in UNARY.values() for s in names}
    found: dict[str, Callable] = {}
    for name, obj in vars(module).items():
        if name in spellings and inspect.isfunction(obj) and obj.__module__ == module.__name__:
            found[name] = obj
        elif _is_namespace(obj, module) and not name.startswith("_") and obj is not engine.cls:
            for inner in spellings:
                if inspect.isclass(obj):  # a class used as a namespace: only its static and class methods
                    held = inspect.getattr_static(obj, inner, None)
                    fn = getattr(obj, inner) if isinstance(held, (staticmethod, classmethod)) else None
                else:
                    fn = getattr(obj, inner, None)
                if callable(fn) and (inspect.isfunction(fn) or inspect.ismethod(fn)):
                    found[f"{name}.{inner}"] = fn
    return found


def _is_namespace(obj: Any, module) -> bool:
    if isinstance(obj, types.ModuleType):
        return getattr(obj, "__file__", None) is not None and obj.__name__.startswith(module.__name__)
    if isinstance(obj, types.SimpleNamespace):
        return True
    return inspect.isclass(obj) and obj.__module__ == module.__name__


def named_functions(functions: Any) -> dict[str, Callable]:
    """check_engine(..., functions=[F.tanh, sigmoid]) or {"F.tanh": F.tanh}: the op functions the user names."""
    if functions is None:
        return {}
    if isinstance(functions, dict):
        return dict(functions)
    out = {}
    for fn in functions:
        qual = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
        out[qual] = fn
    return out


def _function(cls: type, name: str):
    for klass in cls.__mro__:
        if name in vars(klass):
            found = vars(klass)[name]
            return getattr(found, "__func__", found)
    return None
