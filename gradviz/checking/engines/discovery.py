"""Reading a student's scalar autograd class by duck typing: where its number, gradient and parents live.

A micrograd-style engine is recognised by what its objects do, not by their
names: a leaf built from a number carries that number somewhere (`data`,
`value`, `val`, ...), a gradient attribute that starts at 0 or None, and
the result of an operation holds its operands in a container (`_prev`,
`children`, `parents`, ... or pairs `(node, local)`). The class has a
backward() that fills the gradients. What is found is said in the report.
"""

from __future__ import annotations

import inspect
import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...errors import GradvizError

NUMBER_NAMES = ("data", "value", "val", "v", "x", "_data", "_value", "_val", "scalar", "num", "item")
GRAD_NAMES = ("grad", "_grad", "gradient", "_gradient", "g", "adjoint", "partial")
OP_NAMES = ("_op", "op", "operator", "operation", "_operation", "_operator", "kind")
BACKWARD_NAMES = ("backward", "backprop", "backward_pass", "backpropagate")
# constructor parameters that are not the number: what to pass for a leaf
LEAF_DEFAULTS = {"children": (), "_children": (), "parents": (), "_parents": (), "prev": (), "_prev": (),
                 "creators": None, "inputs": (), "op": "", "_op": "", "operator": "", "operation": "",
                 "autograd": True, "requires_grad": True, "label": "", "name": "", "_label": ""}


@dataclass
class Engine:
    """What gradviz found out about the student's class: how to make, read and backpropagate its nodes."""

    cls: type
    number: str  # the attribute holding the node's value
    grad: str  # the attribute holding its gradient
    parents: str = ""  # the attribute holding the nodes it came from ("" until an op made a node)
    op_attr: str = ""  # the attribute naming the op that made it, when there is one
    backward: str = "backward"
    backward_takes_seed: bool = False  # backward(grad) with a required upstream gradient
    make_leaf: Callable[[float], Any] = None  # type: ignore[assignment]
    construction: str = ""  # how a leaf is made, in the student's words: "Value(2.0)"
    node_backward: str = ""  # the per-node closure attribute (micrograd's _backward), when there is one
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cls.__name__

    @property
    def node_types(self) -> tuple:
        """A subclass's nodes may be made by its base class's methods: every class of the MRO is a node."""
        return tuple(k for k in self.cls.__mro__ if k is not object)

    def leaf(self, x: float):
        return self.make_leaf(float(x))

    def value(self, node: Any) -> float:
        return as_number(getattr(node, self.number))

    def gradient(self, node: Any) -> float:
        g = getattr(node, self.grad, None)
        return 0.0 if g is None else as_number(g)

    def parents_of(self, node: Any) -> list:
        """The nodes `node` came from (a container of nodes, or of (node, local-derivative) pairs).

        `parents` may be a path one level down (`grad_fn.inputs`): a leaf's `grad_fn` is None, so no parents.
        """
        held = node
        for part in self.parents.split(".") if self.parents else [None]:
            held = getattr(held, part, None) if part and held is not None else None
        return [p for p in (node_of(item, self.node_types) for item in _items(held)) if p is not None]

    def run_backward(self, root: Any) -> None:
        method = getattr(root, self.backward)
        method(1.0) if self.backward_takes_seed else method()

    def zero(self, root: Any) -> None:
        """Set every gradient in the graph behind `root` to 0 (walked iteratively)."""
        for node in walk(self, root):
            setattr(node, self.grad, 0.0)


def as_number(value: Any) -> float:
    """A float from what a student stores: float, int, numpy scalar or 0-d / 1-element array."""
    array = np.asarray(value, dtype=np.float64)
    if array.size != 1:
        raise TypeError(f"holds {array.size} numbers, not one")
    return float(array.reshape(()))


def _is_number(value: Any) -> bool:
    if value is None or isinstance(value, (bool, str)):
        return False
    try:
        as_number(value)
    except (TypeError, ValueError):
        return False
    return True


def _items(held: Any) -> list:
    if held is None or isinstance(held, (str, bytes)):
        return []
    if isinstance(held, dict):
        return list(held.keys())
    try:
        return list(held)
    except TypeError:
        return []


def node_of(item: Any, cls):
    """A parent entry: the node itself, or the first element of a (node, local) pair."""
    if isinstance(item, cls):
        return item
    if isinstance(item, (tuple, list)) and item and isinstance(item[0], cls):
        return item[0]
    return None


def walk(engine: Engine, root: Any) -> list:
    """Every node behind `root`, root first, without recursion (a 100,000-node chain is fine)."""
    seen, order, stack = {id(root)}, [root], [root]
    while stack:
        for parent in engine.parents_of(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
                stack.append(parent)
    return order


def _attributes(obj: Any) -> dict:
    found = dict(getattr(obj, "__dict__", {}) or {})
    for klass in type(obj).__mro__:
        for slot in getattr(klass, "__slots__", ()) or ():
            if isinstance(slot, str) and hasattr(obj, slot):
                found.setdefault(slot, getattr(obj, slot))
    for name in GRAD_NAMES + NUMBER_NAMES:  # properties (grad over _grad)
        if name not in found and isinstance(getattr(type(obj), name, None), property):
            try:
                found[name] = getattr(obj, name)
            except Exception:  # noqa: BLE001 - a property that raises is simply not the attribute
                pass
    return found


def _leaf_maker(cls: type) -> tuple[Callable[[float], Any], str]:
    """How to make a leaf from a number: Value(x), or with the other required arguments filled in."""
    try:
        cls(2.0)
        return cls, f"{cls.__name__}(x)"
    except Exception as first:  # noqa: BLE001 - user code: any exception means "not this way"
        failure = first
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        params = []
    required = [p for p in params[1:] if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if required and all(p.name in LEAF_DEFAULTS for p in required):
        extra = {p.name: LEAF_DEFAULTS[p.name] for p in required}

        def make(x: float, _extra=extra):
            return cls(x, **_extra)

        try:
            make(2.0)
            return make, f"{cls.__name__}(x, " + ", ".join(f"{k}={v!r}" for k, v in extra.items()) + ")"
        except Exception as exc:  # noqa: BLE001
            failure = exc
    raise GradvizError(f"{cls.__name__} is not a scalar autograd engine gradviz can use: {cls.__name__}(2.0) "
                       f"raised {type(failure).__name__}: {failure}; its constructor must accept the number "
                       "as its first argument")


def discover(cls: Any, parents: str | None = None) -> Engine:
    """The Engine reading of `cls`, or a GradvizError naming everything that is missing.

    `parents` names where a result keeps its operands ("_prev", "grad_fn.inputs") when discovery cannot find it.
    """
    if not inspect.isclass(cls):
        raise GradvizError(f"check_engine takes the class itself, not one of its objects: got a "
                           f"{type(cls).__name__}; pass the class, check_engine({type(cls).__name__})")
    make, construction = _leaf_maker(cls)
    leaf = make(2.0)
    attrs = _attributes(leaf)
    missing = []
    number = next((n for n in NUMBER_NAMES if n in attrs and _is_number(attrs[n])
                   and as_number(attrs[n]) == 2.0), None)
    number = number or next((n for n, v in attrs.items() if _is_number(v) and as_number(v) == 2.0), None)
    if number is None:
        missing.append(f"no attribute holds the number a node was made from ({', '.join(NUMBER_NAMES[:4])}, ...)")
    grad = next((n for n in GRAD_NAMES if n in attrs and n != number
                 and (attrs[n] is None or _is_number(attrs[n]))), None)
    if grad is None:
        missing.append(f"no gradient attribute ({', '.join(GRAD_NAMES[:3])}, ...)")
    backward = next((n for n in BACKWARD_NAMES if callable(getattr(cls, n, None))), None)
    if backward is None:
        missing.append("no backward() method")
    arithmetic = [d for d in ("__add__", "__mul__") if _defined(cls, d)]
    functions = {} if arithmetic else functions_for(cls)  # add(a, b) beside a class with no operators
    arithmetic = arithmetic or [d for d in ("__add__", "__mul__") if d in functions]
    if not arithmetic:
        missing.append("no arithmetic (__add__ or __mul__ on the class, or add(a, b) / mul(a, b) in its module)")
    if missing:
        raise GradvizError(f"{cls.__name__} is not a scalar autograd engine: " + "; ".join(missing)
                           + ". gradviz checks micrograd-style classes (a number, a grad, the parents, "
                           "backward() and + * ...); for a layer class use check_layer")
    engine = Engine(cls, number, grad, backward=backward, make_leaf=make, construction=construction)
    engine.backward_takes_seed = _needs_seed(getattr(cls, backward))
    combine = _combiner(arithmetic[0], functions)
    _find_structure(engine, arithmetic[0], parents, combine)
    _confirm_gradient(engine, arithmetic[0], combine)
    return engine


def _defined(cls: type, name: str) -> bool:
    """Whether the class (not object) defines `name`; `__neg__ = None` is Python's "not supported"."""
    for k in cls.__mro__:
        if k is not object and name in vars(k):
            return vars(k)[name] is not None
    return False


def _needs_seed(method: Callable) -> bool:
    try:
        params = list(inspect.signature(method).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    return any(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)


def _combiner(dunder: str, functions: dict) -> Callable[[Any, Any], Any]:
    """a (op) b: the class's operator, or the module function standing in for it."""
    if dunder in functions:
        return lambda a, b, f=functions[dunder][1]: f(a, b)
    return lambda a, b: getattr(a, dunder)(b)


def _find_structure(engine: Engine, dunder: str, given: str | None = None, combine: Callable | None = None) -> None:
    """The parents attribute (holds both operands of a*b), the op label and the per-node backward closure."""
    a, b = engine.leaf(2.0), engine.leaf(3.0)
    try:
        out = (combine or _combiner(dunder, {}))(a, b)
    except Exception as exc:  # noqa: BLE001
        raise GradvizError(f"{engine.name}.{dunder} raised {type(exc).__name__}: {exc} on two {engine.name}s, "
                           "so gradviz cannot see how nodes are linked") from None
    if not isinstance(out, engine.node_types):
        raise GradvizError(f"{engine.name}.{dunder} returned {type(out).__name__}, not a {engine.name}")
    leaf_attrs, attrs = _attributes(a), _attributes(out)
    engine.parents = given if given is not None else _parents_path(engine, out, (a, b), dunder)
    if given is not None and {id(p) for p in engine.parents_of(out)} != {id(a), id(b)}:
        raise GradvizError(f"{engine.name}: parents={given!r} does not hold a and b in the result of a {dunder} b "
                           f"(it holds {_holding(out, given)}); name the attribute (or path, like grad_fn.inputs) "
                           "that keeps a result's operands")
    engine.op_attr = next((n for n in OP_NAMES if isinstance(attrs.get(n), str) and attrs.get(n)
                           and leaf_attrs.get(n) != attrs.get(n)), "")
    engine.node_backward = next((n for n, v in attrs.items() if callable(v) and not isinstance(v, type)
                                 and n not in (engine.parents.split(".")[0], engine.number, engine.grad)
                                 and _is_closure_of(v)), "")


def _holds_both(engine: Engine, held: Any, operands: tuple) -> bool:
    found = {id(node_of(item, engine.node_types)) for item in _items(held)}
    return all(id(x) in found for x in operands)


def _parents_path(engine: Engine, out: Any, operands: tuple, dunder: str) -> str:
    """Where the result keeps its operands: an attribute (`_prev`), or one level down in an object the result
    holds (PyTorch-like `grad_fn.inputs`, `ctx.saved`, `op.parents`); a GradvizError saying where it looked."""
    attrs = _attributes(out)
    for name, held in attrs.items():
        if _holds_both(engine, held, operands):
            return name
    inside = {name: _attributes(held) for name, held in attrs.items() if _is_holder(engine, held)}
    for name, inner in inside.items():
        for sub, held in inner.items():
            if _holds_both(engine, held, operands):
                return f"{name}.{sub}"
    looked = ", ".join(f".{n}" for n in attrs) or "none"
    deeper = "; one level down: " + ", ".join(f".{n}.{sub}" for n, inner in inside.items() for sub in inner) \
        if any(inside.values()) else ""
    raise GradvizError(f"{engine.name}: the result of a {dunder} b holds neither a nor b where gradviz looked (its "
                       f"attributes: {looked}{deeper}), so gradviz cannot walk the graph (micrograd keeps them in "
                       f"_prev, PyTorch-like engines in grad_fn.inputs); say where with "
                       f"check_engine({engine.name}, parents=\"grad_fn.inputs\") or --parents grad_fn.inputs")


def _is_holder(engine: Engine, held: Any) -> bool:
    """An object a result keeps its op in (grad_fn, ctx, op): not a node, number, string, function or class."""
    if held is None or isinstance(held, (engine.node_types, str, bytes, int, float, type, types.ModuleType,
                                         types.FunctionType, types.MethodType, types.BuiltinFunctionType)):
        return False
    return bool(_attributes(held))


def _holding(out: Any, path: str) -> str:
    held = out
    for part in path.split("."):
        held = getattr(held, part, None)
    return "nothing" if held is None else type(held).__name__


def _confirm_gradient(engine: Engine, dunder: str, combine: Callable | None = None) -> None:
    """backward() on a (op) b must write a number somewhere on a or b: there the gradient lives.

    A gradient attribute that backward() never touches while another number attribute changes was
    misread: the one that changed is used (and said). When nothing changes at all, gradviz cannot tell a
    backward that does nothing from a reading it got wrong, so it refuses rather than blaming the code.
    """
    a, b = engine.leaf(2.0), engine.leaf(3.0)
    before = [_attributes(a), _attributes(b)]
    try:
        engine.run_backward((combine or _combiner(dunder, {}))(a, b))
    except Exception:  # noqa: BLE001 - a backward that raises is reported op by op by the battery
        return
    after = [_attributes(a), _attributes(b)]
    changed = [n for n in after[0] if n != engine.number and _is_number(after[0][n])
               and (before[0].get(n) is None or not _is_number(before[0][n])
                    or as_number(before[0][n]) != as_number(after[0][n]))]
    changed += [n for n in after[1] if n not in changed and n != engine.number and _is_number(after[1][n])
                and (before[1].get(n) is None or not _is_number(before[1][n])
                     or as_number(before[1][n]) != as_number(after[1][n]))]
    if engine.grad in changed:
        return
    if changed:
        engine.notes.append(f"backward() writes the gradient to .{changed[0]}, not .{engine.grad}: .{changed[0]} "
                            "is read as the gradient")
        engine.grad = changed[0]
        return
    raise GradvizError(f"{engine.name}: after backward() on a {dunder.strip('_')} b, no number on a or b changed "
                       f"(looked at .{engine.grad} and every other attribute), so gradviz cannot tell where the "
                       "gradient goes; make backward() add into the leaves' grad")


def _is_closure_of(fn: Any) -> bool:
    return isinstance(fn, (types.FunctionType, types.MethodType, types.LambdaType)) or callable(fn)


# engines whose arithmetic is module functions: the dunder Python calls -> the names students give the function
ARITHMETIC_FUNCTIONS = {"__add__": ("add", "plus"), "__mul__": ("mul", "multiply", "times"),
                        "__sub__": ("sub", "subtract", "minus"), "__truediv__": ("div", "divide", "truediv"),
                        "__neg__": ("neg", "negate", "negative")}


def functions_for(cls: type) -> dict[str, tuple[str, Callable]]:
    """dunder -> (name, function) for a class with no + or * of its own whose module has add/mul functions."""
    if not inspect.isclass(cls) or _defined(cls, "__add__") or _defined(cls, "__mul__"):
        return {}
    module = module_of(cls)
    if module is None:
        return {}
    found = {}
    for dunder, names in ARITHMETIC_FUNCTIONS.items():
        for name in names:
            fn = vars(module).get(name)
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ and _takes(fn, 1 if dunder == "__neg__" else 2):
                found[dunder] = (name, fn)
                break
    return found if {"__add__", "__mul__"} & set(found) else {}


def _takes(fn: Callable, n: int) -> bool:
    try:
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    required = [p for p in params if p.default is inspect.Parameter.empty]
    return len(required) <= n <= len(params)


def module_of(cls: type):
    """The module the class was defined in; for code run outside one (exec'd, a docs page), a stand-in module
    holding the globals its methods see, so the functions beside the class are found all the same."""
    module = sys.modules.get(cls.__module__)
    if module is not None:
        return module
    code = next((f for k in cls.__mro__ if k is not object for f in vars(k).values() if inspect.isfunction(f)), None)
    if code is None:
        return None
    stand_in = types.ModuleType(cls.__module__)
    stand_in.__dict__.update({k: v for k, v in code.__globals__.items() if k != "__name__"})
    return stand_in


def finite(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x)
