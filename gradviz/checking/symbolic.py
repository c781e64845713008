"""The SymPy oracle: per-op derivatives of the symbolic twins, and whole-graph expressions.

Per-op derivatives are what scale. An elementwise op's scalar twin is
differentiated once and evaluated vectorized on any shape; an array op's twin
is expanded element by element on small shapes. Either way the derivative is
turned into a numpy function once per (op, attributes, shapes) and cached, so
checking a 10,000-node graph costs a handful of SymPy differentiations, not
one per node.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..ops.registry import OpDef
from . import symbolic_cache as disk
from .symbolic_cache import attrs_key as _attrs_key

# Array ops are expanded element by element; above this many input elements
# the expansion would take too long and the symbolic oracle says SKIPPED.
MAX_EXPANDED_ELEMENTS = 600
NODE_BUDGET = 2.0  # CPU seconds to differentiate and compile one node's twin; past it SymPy skips the node


def _sympy():
    import sympy

    return sympy


class SymbolicUnavailable(Exception):
    """The symbolic oracle cannot judge this op here; the message says why."""


def symbol_array(prefix: str, shape: tuple) -> Any:
    """A real SymPy symbol (shape ()) or an object array of them, named prefix_i_j."""
    sp = _sympy()
    if shape == ():
        return sp.Symbol(prefix, real=True)
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = sp.Symbol(prefix + "_" + "_".join(map(str, index)), real=True)
    return out


def apply_twin(op: OpDef, inputs: list, attrs: dict | None) -> Any:
    """The op's twin applied to symbolic inputs (scalars or object arrays)."""
    if op.symbolic is None:
        raise SymbolicUnavailable(f"{op.display} has no symbolic twin")
    attrs = attrs or {}
    arrays = any(isinstance(x, np.ndarray) for x in inputs)
    try:
        if op.elementwise and arrays:
            mapped = np.frompyfunc(lambda *xs: op.symbolic(*xs, **attrs), len(inputs), 1)
            return mapped(*inputs)
        return op.symbolic(*inputs, **attrs)
    except SymbolicUnavailable:
        raise
    except Exception as exc:
        hint = (" (it received arrays of SymPy symbols; if the op acts elementwise, declare "
                "`elementwise = True` so its twin is applied to one element at a time)"
                if arrays and not op.elementwise else "")
        raise SymbolicUnavailable(
            f"the symbolic twin of {op.display} raised {type(exc).__name__}: {exc}{hint}"
        ) from None


@dataclass
class _Compiled:
    """A derivative turned into numpy code, plus the same in arbitrary precision.

    float64 can overflow where the math is fine (exp(1000) in a log-sum-exp
    twin); entries that come out non-finite are evaluated again with mpmath,
    so the symbolic oracle is never wrong just because float64 ran out of range.
    """

    fn: Callable
    n_inputs: int
    exprs: Any = None
    args: Any = None
    _precise: Callable | None = None
    rebuild: Callable | None = None  # loaded from the disk cache: how to get the expressions when needed

    def precise(self, *values):
        if self.exprs is None and self.rebuild is not None:
            fresh = self.rebuild()
            self.exprs, self.args = fresh.exprs, fresh.args
        if self._precise is None:
            import sympy

            self._precise = sympy.lambdify(self.args, self.exprs, modules="mpmath")
        import mpmath

        with mpmath.workdps(30):
            try:
                return self._precise(*[mpmath.mpf(float(v)) for v in values])
            except ZeroDivisionError:  # infinite here (sqrt at 0): the float64 value stands
                with np.errstate(all="ignore"):
                    return self.fn(*[np.float64(v) for v in values])


_cache: dict[tuple, _Compiled] = {}


def _compile_elementwise(op: OpDef, n_inputs: int, attrs: dict | None) -> _Compiled:
    sp = _sympy()
    xs = [sp.Symbol(f"x{i}", real=True) for i in range(n_inputs)]
    expr = apply_twin(op, xs, attrs)
    partials = [sp.diff(expr, x) for x in xs]
    fn = sp.lambdify(xs, partials, modules="numpy")
    return _Compiled(fn, n_inputs, partials, xs)


class _Templates:
    """An array op's derivative, compiled once per *shape of expression* among its outputs.

    The outputs of max-pool, conv or a reduction mostly repeat one expression
    over different symbols (Max(a, b, c, d) in every window). Each distinct
    expression is renamed to template symbols t0, t1, ..., differentiated once
    and turned into one numpy function, then evaluated for all the outputs that
    share it at once: SymPy work grows with the number of distinct
    expressions, not with the number of elements.
    """

    def __init__(self, outputs: list, position: dict):
        sp = _sympy()
        groups: dict[str, list] = {}
        for k, o in enumerate(outputs):
            free = _canonical_symbols(o)
            if not free:
                continue
            names = [sp.Symbol(f"t{i}", real=True) for i in range(len(free))]
            template = o.xreplace(dict(zip(free, names)))
            entry = groups.setdefault(sp.srepr(template), [template, names, [], []])
            entry[2].append(k)
            entry[3].append([position[x] for x in free])
        self.parts = []
        deadline = time.process_time() + NODE_BUDGET
        for template, names, members, where in groups.values():
            partials = []
            for t in names:
                partials.append(sp.diff(template, t))
                if time.process_time() > deadline:
                    raise SymbolicUnavailable(f"SymPy skipped: differentiating this node's twin ({len(names)} symbols "
                                              f"per output) took more than its {NODE_BUDGET:g} s CPU budget; finite "
                                              "differences still judge it")
            fn = sp.lambdify(names, partials, modules="numpy")
            self.parts.append((fn, partials, names, np.array(members), np.array(where)))
            if time.process_time() > deadline:
                raise SymbolicUnavailable(f"SymPy skipped: compiling this node's derivative took more than its "
                                          f"{NODE_BUDGET:g} s CPU budget; finite differences still judge it")

    rebuild: Callable | None = None  # loaded from the disk cache: how to get the SymPy partials when needed

    def vjp(self, args: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
        """sum over outputs of cotangent * d output / d args, for the flat vector of all inputs' entries."""
        grad = np.zeros(args.size)
        for fn, partials, names, members, where in self.parts:
            with np.errstate(all="ignore"):
                values = [np.broadcast_to(np.asarray(v, dtype=np.float64), members.shape)
                          for v in fn(*[args[where[:, i]] for i in range(where.shape[1])])]
            if partials is None and any(not np.isfinite(v).all() for v in values):
                return self.rebuild().vjp(args, cotangent)  # SymPy's own floats need the expressions
            for i, v in enumerate(values):
                v = np.array(v)
                bad = ~np.isfinite(v)
                for m in np.flatnonzero(bad):  # float64 ran out of range: SymPy's own floats
                    point = {t: _sympy().Float(float(args[where[m, j]]), 30) for j, t in enumerate(names)}
                    v[m] = float(partials[i].xreplace(point).evalf(30))
                np.add.at(grad, where[:, i], cotangent[members] * v)
        return grad


def _canonical_symbols(expr) -> list:
    """expr's symbols, the most frequent first, ties in the order a traversal of its tree meets them.

    Naming them t0, t1, ... in that order maps outputs that are the same
    expression up to renaming onto one template: softmax's exp(z_j) / sum(exp(z))
    names z_j (met twice) t0 for every j, where sorting by name would give
    each j a template of its own.
    """
    if not getattr(expr, "free_symbols", None):
        return []
    count: dict = {}
    for node in _sympy().preorder_traversal(expr):
        if node.is_Symbol:
            count[node] = count.get(node, 0) + 1
    order = {x: k for k, x in enumerate(count)}
    return sorted(count, key=lambda x: (-count[x], order[x]))


def _compile_expanded(op: OpDef, shapes: list[tuple], out_shape: tuple, attrs: dict | None) -> _Templates:
    sym_inputs = [symbol_array(f"x{i}", s) for i, s in enumerate(shapes)]
    sym_out = np.asarray(apply_twin(op, sym_inputs, attrs), dtype=object)
    if sym_out.shape != out_shape:
        raise SymbolicUnavailable(
            f"the twin of {op.display} gives shape {sym_out.shape}, the forward gives {out_shape}"
        )
    flat_inputs = [[s] if np.shape(s) == () else list(np.ravel(s)) for s in sym_inputs]
    position = {x: k for k, x in enumerate(x for group in flat_inputs for x in group)}
    return _Templates(list(np.ravel(sym_out)), position)


_MEMO: list[dict] = []  # while a check runs: the local partials of each elementwise node, computed once


@contextmanager
def evaluated_once():
    """Within this block an elementwise node's partial derivatives are evaluated once and reused.

    The pipeline's SymPy stage and its per-node checks both need the partials
    of the same nodes at the same recorded inputs (the graph keeps those arrays
    alive, so their ids identify them for the duration of the block).
    """
    _MEMO.append({})
    try:
        yield
    finally:
        _MEMO.pop()


def _elementwise_partials(op: OpDef, key: tuple, arrays: list[np.ndarray], attrs) -> list[np.ndarray]:
    """d op / d input_i at every element, from the compiled derivative of the twin (high precision where
    float64 overflows)."""
    compiled = _cache.get(key)
    if compiled is None:
        compiled = _cache[key] = _elementwise_from_disk(op, key, len(arrays), attrs)
    with np.errstate(all="ignore"):
        partials = [np.array(np.broadcast_to(np.asarray(p, dtype=np.float64), np.broadcast(*arrays).shape))
                    for p in compiled.fn(*arrays)]
    bad = ~np.logical_and.reduce([np.isfinite(p) for p in partials])
    if bad.any():
        broadcast = np.broadcast_arrays(*arrays)
        for index in ([()] if bad.ndim == 0 else zip(*np.nonzero(bad))):
            values = compiled.precise(*[a[index] for a in broadcast])
            for p, v in zip(partials, values):
                p[index] = float(v)
    return partials


def symbolic_vjp(op: OpDef, inputs: tuple, attrs: dict | None, cotangent) -> tuple:
    """cotangent-times-Jacobian of the op at `inputs`, from the derivative of its twin.

    Returns one gradient per input, shaped like that input's *output-broadcast*
    form for elementwise ops (the caller reduces broadcasting) and like the
    input itself for other ops. Raises SymbolicUnavailable with the reason
    when the op has no twin or is too large to expand.
    """
    if op.symbolic is None:
        raise SymbolicUnavailable(f"{op.display} has no symbolic twin (define symbolic() to enable this oracle)")
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs]
    cotangent = np.asarray(cotangent, dtype=np.float64)
    if op.elementwise:
        key = ("elementwise", op.name, len(arrays), _attrs_key(attrs))
        memo_key = (key, tuple(id(x) for x in inputs))
        held = _MEMO[-1].get(memo_key) if _MEMO else None
        partials = held[1] if held is not None else None
        if partials is None:
            partials = _elementwise_partials(op, key, arrays, attrs)
            if _MEMO:  # the inputs are held too, so their ids cannot be reused while the block lasts
                _MEMO[-1][memo_key] = (tuple(inputs), partials)
        return tuple(cotangent * p for p in partials)
    shapes = [a.shape for a in arrays]
    total = sum(a.size for a in arrays) + cotangent.size
    if total > MAX_EXPANDED_ELEMENTS:
        raise SymbolicUnavailable(
            f"{op.display} on shapes {shapes} has {total} elements; expanding it symbolically "
            f"is limited to {MAX_EXPANDED_ELEMENTS}"
        )
    key = ("expanded", op.name, tuple(shapes), cotangent.shape, _attrs_key(attrs))
    compiled = _cache.get(key)
    if compiled is None:
        try:
            compiled = _cache[key] = _expanded_from_disk(op, key, shapes, cotangent.shape, attrs)
        except SymbolicUnavailable as why:
            _cache[key] = why  # over budget once is over budget again: do not pay twice
            raise
    if isinstance(compiled, SymbolicUnavailable):
        raise compiled
    flat = compiled.vjp(np.concatenate([a.ravel() for a in arrays]), cotangent.ravel())
    out, start = [], 0
    for a in arrays:
        out.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    return tuple(out)


_unsafe = re.compile(r"[^0-9a-zA-Z_]")


def sanitize(label: str) -> str:
    """A label as a SymPy symbol name: `layer1.W[0]` -> `layer1_W_0_`."""
    name = _unsafe.sub("_", label) or "x"
    return name if not name[0].isdigit() else "_" + name


def symbolic(root: Any, names: dict | None = None):
    """One SymPy expression of the whole graph behind `root`, in leaf symbols.

    Leaves with a label become symbols named after it (sanitised, made unique);
    unlabeled leaves that require gradients become x0, x1, ...; constants
    become numbers. Tensors become object arrays of expressions.
    Pass `names` (a dict) to receive the mapping from each leaf node to its symbol(s).
    """
    from ..graph import topological_order

    order = topological_order(root)
    exprs: dict[int, Any] = {}
    used: set[str] = set()
    counter = 0
    for node in order:
        if node._op is None:
            if not node.requires_grad:
                exprs[node.id] = _constant(node.data)
                continue
            if node.label:
                base = sanitize(node.label)
            else:
                base, counter = f"x{counter}", counter + 1
            name, k = base, 1
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            value = symbol_array(name, np.shape(node.data))
            exprs[node.id] = value
            if names is not None:
                names[node.id] = value
            continue
        inputs = [exprs[p.id] for p in node._parents]
        exprs[node.id] = apply_twin(node._op, inputs, node._attrs)
    result = exprs[root.id]
    if isinstance(result, np.ndarray) and result.shape == ():
        result = result[()]
    return result


def _constant(data):
    sp = _sympy()
    if np.shape(data) == ():
        return sp.Float(float(data))
    out = np.empty(np.shape(data), dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = sp.Float(float(data[index]))
    return out


# -- the disk cache (symbolic_cache.py): compiled once per machine, not once per process -------------------


def _disk_entry(kind: str, op: OpDef, *parts) -> tuple[str | None, dict | None]:
    fingerprint = disk.twin_fingerprint(op)
    key = disk.entry_key(kind, fingerprint, *parts) if fingerprint else None
    return key, disk.load(key) if key else None


def _elementwise_from_disk(op: OpDef, key: tuple, n_inputs: int, attrs: dict | None) -> _Compiled:
    entry_key, entry = _disk_entry("elementwise", op, n_inputs, key[3])
    rebuild = lambda: _compile_elementwise(op, n_inputs, attrs)  # noqa: E731
    try:
        return _Compiled(disk.function_from(entry["fn"]), n_inputs, rebuild=rebuild)
    except Exception:  # no entry, or a foreign or damaged one: compile as if there were none
        compiled = rebuild()
    text = disk.function_text(compiled.fn) if entry_key else None
    if text is not None:
        disk.save(entry_key, {"fn": text})
    return compiled


def _expanded_from_disk(op: OpDef, key: tuple, shapes: list[tuple], out_shape: tuple, attrs) -> _Templates:
    entry_key, entry = _disk_entry("expanded", op, *key[2:])
    try:
        templates = _Templates.__new__(_Templates)
        templates.parts = [(disk.function_from(p["fn"]), None, None, np.array(p["members"], dtype=np.intp),
                            np.array(p["where"], dtype=np.intp).reshape(len(p["members"]), -1)) for p in entry["parts"]]
        templates.rebuild = lambda: _compile_expanded(op, shapes, out_shape, attrs)
        return templates
    except Exception:  # no entry, or a foreign or damaged one: compile as if there were none
        templates = _compile_expanded(op, shapes, out_shape, attrs)
    texts = [disk.function_text(fn) for fn, *_ in templates.parts] if entry_key else [None]
    if all(text is not None for text in texts):
        disk.save(entry_key, {"parts": [{"fn": text, "members": members.tolist(), "where": where.tolist()}
                                        for text, (_, _, _, members, where) in zip(texts, templates.parts)]})
    return templates
