"""The SymPy stage of the pipeline: gradients from the symbolic twins of a recorded graph's ops.

One whole expression is differentiated only while it is cheap (a small graph
of Values, within a CPU budget); otherwise the per-op derivatives of the
twins are composed in reverse mode, each compiled once per op.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..graph import topological_order
from ..tensor import Tensor, unbroadcast
from .symbolic import SymbolicUnavailable, symbolic, symbolic_vjp

WHOLE_EXPRESSION_LIMIT = 40  # scalar elements in a graph that SymPy may differentiate as one expression
WHOLE_EXPRESSION_BUDGET = 1.0  # CPU seconds; past it, per-op derivatives take over



def symbolic_gradients(root, cotangent, specs):
    """Gradients from SymPy, and which strategy gave them and why.

    One whole expression is differentiated only while it is cheap: a small graph
    of Values (<= WHOLE_EXPRESSION_LIMIT nodes) finished within
    WHOLE_EXPRESSION_BUDGET CPU seconds; it also gives report.formulas(). Otherwise the per-op derivatives of the
    symbolic twins are composed in reverse mode, each compiled once per op
    (symbolic.py caches them), which costs a handful of SymPy calls whatever
    the graph's size. Returns (grads, note, formulas, strategy).
    """
    order = topological_order(root)
    size = sum(np.size(n.data) for n in order)
    leaves = _leaves_in_graph(order, specs)
    arrays = any(isinstance(n, Tensor) for n in order)
    why = (f"the graph has {size} scalar elements (> {WHOLE_EXPRESSION_LIMIT})" if size > WHOLE_EXPRESSION_LIMIT
           else "the graph holds arrays, whose twins (max, pooling, convolution) are cheaper to differentiate alone")
    if size <= WHOLE_EXPRESSION_LIMIT and not arrays:
        import sympy  # noqa: F401 - imported before the clock starts: the budget is for differentiating

        start = time.process_time()  # CPU time: the budget does not shrink when the machine is busy
        try:
            grads, formulas = _whole_expression(root, cotangent, specs, leaves, start + WHOLE_EXPRESSION_BUDGET)
            return grads, "", formulas, (f"whole expression: the graph has {size} scalar elements, "
                                         f"differentiated in {time.process_time() - start:.2f} s of CPU")
        except _OverBudget:
            why = f"differentiating the whole expression took more than its {WHOLE_EXPRESSION_BUDGET:g} s CPU budget"
        except SymbolicUnavailable as reason:
            why = f"the whole expression is unavailable ({reason})"
    try:
        grads = _per_op_backprop(root, order, cotangent, specs, leaves)
    except SymbolicUnavailable as reason:
        return None, f"SymPy oracle SKIPPED: {reason}", {}, f"skipped: {reason}"
    strategy = f"per-op derivatives of the symbolic twins, compiled once per op: {why}"
    return grads, f"the SymPy column composes {strategy}", {}, strategy


class _OverBudget(Exception):
    """Whole-expression differentiation ran past its time budget."""


def _leaves_in_graph(order, specs) -> list:
    """For each checked input, its leaf node in the recorded graph (None if fn never used it).

    Inputs the check built are found by label; parameters by identity. One pass over the graph.
    """
    leaves = [n for n in order if n._op is None]
    present = {id(n) for n in leaves}
    by_label: dict = {}
    for node in leaves:
        if node.label is not None and node.requires_grad:
            by_label.setdefault(node.label, node)
    return [(spec.node if id(spec.node) in present else None) if spec.node is not None
            else by_label.get(spec.name) for spec in specs]


def _whole_expression(root, cotangent, specs, leaves, deadline: float):
    """Differentiate sum(out * R) as one SymPy expression; evaluate by substitution (no code generation).

    Substituting the recorded values and evaluating with SymPy's own floats
    needs no lambdify (whose printing of Piecewise derivatives dominated the
    cost) and cannot overflow where float64 would (exp(1000) in a twin).
    """
    import sympy

    names: dict[int, Any] = {}
    expr = symbolic(root, names)
    if isinstance(expr, np.ndarray):
        cot = np.broadcast_to(cotangent, expr.shape)
        loss = sympy.Add(*[e * float(c) for e, c in zip(expr.ravel(), cot.ravel())])
    else:
        loss = expr * float(np.sum(cotangent)) if np.ndim(cotangent) == 0 else expr
    # Every symbol in the expression gets its recorded value; we differentiate w.r.t. the inputs'.
    values = {}
    for node in topological_order(root):
        if node.id in names:
            sym = names[node.id]
            for s, v in zip(np.ravel(sym) if isinstance(sym, np.ndarray) else [sym], np.ravel(node.data)):
                values[s] = sympy.Float(float(v), 30)
    grads, formulas = [], {}
    for spec, leaf in zip(specs, leaves):
        if leaf is None:
            grads.append(np.zeros(spec.data.shape))
            continue
        sym = names[leaf.id]
        syms = list(sym.ravel()) if isinstance(sym, np.ndarray) else [sym]
        derivs = []
        for s in syms:
            derivs.append(sympy.diff(loss, s))
            if time.process_time() > deadline:
                raise _OverBudget()
        grads.append(np.array([_evaluate(d, values) for d in derivs], dtype=np.float64).reshape(spec.data.shape))
        if len(syms) == 1:
            formulas[spec.name] = derivs[0]
        elif len(syms) <= 16:
            for s, d in zip(syms, derivs):
                formulas[str(s)] = d
    return grads, formulas


def _evaluate(derivative, values: dict) -> float:
    """A derivative's value at the recorded point: nan where SymPy cannot say, inf where it is infinite."""
    number = derivative.xreplace(values)
    try:
        number = number.evalf(30)
        return float(number)
    except (TypeError, ValueError):
        import sympy

        if number in (sympy.zoo, sympy.oo):
            return np.inf
        if number == -sympy.oo:
            return -np.inf
        return np.nan


def _per_op_backprop(root, order, cotangent, specs, leaves):
    """Reverse mode where every local derivative comes from SymPy (the twins), not from backward()."""
    seed = np.broadcast_to(np.asarray(cotangent, dtype=np.float64), np.shape(root.data))
    grads: dict[int, np.ndarray] = {root.id: np.array(seed)}
    for node in reversed(order):
        if node._op is None or node.id not in grads:
            continue
        inputs = [np.asarray(p.data, dtype=np.float64) for p in node._parents]
        g = grads[node.id]
        try:
            local = symbolic_vjp(node._op, inputs, node._attrs, g)
        except SymbolicUnavailable as why:
            raise SymbolicUnavailable(f"{node._op.display} node: {why}") from None
        for parent, v in zip(node._parents, local):
            v = unbroadcast(v, np.shape(parent.data))
            grads[parent.id] = grads[parent.id] + v if parent.id in grads else v
    return [grads.get(leaf.id, np.zeros(spec.data.shape)).reshape(spec.data.shape) if leaf is not None
            else np.zeros(spec.data.shape) for spec, leaf in zip(specs, leaves)]
