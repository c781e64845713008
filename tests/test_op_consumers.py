"""The op table is the one source of every op's names (issue #28).

gv.F, the expression parser, the SPEC parser's activations, the torch mapping
and the activation diagnosis each derive their op lists from the table. Every
op of the table must show up in each of them, or be listed there with the
reason why not; and what they derived must record (or compute) that very op.
A new op registered in the table shows up everywhere without a line elsewhere.
"""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradviz as gv
from gradviz import expr, spec
from gradviz import functional as F
from gradviz.checking.diagnosis import activations
from gradviz.ops import builtin_ops
from gradviz.ops.kinds import attribute_names, is_unary_function


def _torch_mapping():
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    from gradviz.torch import mapping

    return mapping


def gaps() -> dict[str, list[str]]:
    """For each consumer, the table ops it neither has nor lists with a reason (all empty when the table is the source)."""
    mapping = _torch_mapping()
    in_expressions = {op.name for op in expr.FUNCTION_OPS.values()} | set(expr.OPERATOR_OPS)
    missing: dict[str, list[str]] = {"F": [], "expression parser": [], "SPEC activations": [], "torch mapping": [],
                                     "activation diagnosis": []}
    for op in builtin_ops():
        if not (callable(getattr(F, op.name, None)) or op.name in F.NOT_IN_F):
            missing["F"].append(op.name)
        # an expression is a scalar graph: ops the scalar engine cannot run are out by that rule
        if op.scalar and op.name not in in_expressions and op.name not in expr.NOT_IN_EXPRESSIONS:
            missing["expression parser"].append(op.name)
        if is_unary_function(op) and op.name not in spec.ACTIVATIONS and op.name not in spec.NOT_ACTIVATIONS:
            missing["SPEC activations"].append(op.name)
        if mapping is not None and op.name not in mapping.MAPPED and op.name not in mapping.NOT_MAPPED:
            missing["torch mapping"].append(op.name)
        # the diagnosis recognises output == f(input): only elementwise functions of one input can be
        if is_unary_function(op) and op.name not in activations.diagnosed() and op.name not in activations.NO_SLIPS:
            missing["activation diagnosis"].append(op.name)
    return missing


def test_every_op_of_the_table_is_in_every_consumer_or_listed_with_a_reason():
    assert gaps() == {"F": [], "expression parser": [], "SPEC activations": [], "torch mapping": [],
                      "activation diagnosis": []}


def test_the_reasons_are_about_ops_of_the_table_and_say_something():
    names = {op.name for op in builtin_ops()}
    unary = {op.name for op in builtin_ops() if is_unary_function(op)}
    mapping = _torch_mapping()
    listed = [F.NOT_IN_F, expr.NOT_IN_EXPRESSIONS, spec.NOT_ACTIVATIONS, activations.NO_SLIPS] + ([mapping.NOT_MAPPED] if mapping else [])
    for reasons in listed:
        for name, reason in reasons.items():
            assert name in names, f"{name!r} is listed but is not an op of the table"
            assert len(reason.split()) >= 4, f"{name!r}: give the reason, not a placeholder"
    assert set(activations.diagnosed()) <= unary and set(activations.NO_SLIPS) <= unary
    assert not set(activations.diagnosed()) & set(activations.NO_SLIPS)
    assert set(expr.OPERATOR_OPS) <= names


def _cases(op):
    return op.test_cases(np.random.default_rng(0))


ELEMENTWISE = [op for op in builtin_ops() if op.elementwise]


@pytest.mark.parametrize("op", [op for op in ELEMENTWISE if op.name not in F.NOT_IN_F], ids=lambda op: op.name)
def test_F_records_each_elementwise_op_of_the_table_on_values_and_tensors(op):  # NOT_IN_F: tested for its reasons
    for case in _cases(op):
        out = getattr(F, op.name)(*case.inputs, **case.attrs)
        assert out._op is op
        assert isinstance(out, gv.Value if np.ndim(case.inputs[0]) == 0 else gv.Tensor)
        np.testing.assert_allclose(out.data, op.forward(*case.inputs, **case.attrs))


@pytest.mark.parametrize("name", [name for name in expr.FUNCTIONS], ids=str)
def test_each_function_of_the_expression_parser_records_its_op(name):
    op = expr.FUNCTION_OPS[name]
    case = next(c for c in _cases(op) if np.ndim(c.inputs[0]) == 0)  # a scalar point of the op
    variables = ["x", "y"][:op.arity]
    constants = [repr(float(case.attrs[a])) for a in attribute_names(op)]
    tree = expr.parse(f"{name}({', '.join(variables + constants)})")
    out = expr.evaluate(tree, {v: gv.Value(float(x), label=v) for v, x in zip(variables, case.inputs)})
    assert out._op is op
    assert math.isclose(out.data, op.forward(*case.inputs, **case.attrs), rel_tol=1e-12)


@pytest.mark.parametrize("name", sorted(expr.OPERATOR_OPS))
def test_each_operator_of_the_expression_parser_records_its_op(name):
    tree = expr.parse(expr.OPERATOR_OPS[name])
    out = expr.evaluate(tree, {"x": gv.Value(1.5, label="x"), "y": gv.Value(0.5, label="y")})
    assert out._op.name == name


@pytest.mark.parametrize("name", sorted(set(spec.ACTIVATIONS) - {"identity"}))
def test_each_spec_activation_is_its_ops_forward_on_arrays(name):
    [op] = [op for op in builtin_ops() if op.name == name]
    activation = spec.parse(name, "--input activation", np.random.default_rng(0))
    for case in _cases(op):
        z = np.asarray(case.inputs[0], dtype=np.float64)
        np.testing.assert_allclose(activation(z), op.forward(z))
    assert spec.parse("identity", "--input activation", np.random.default_rng(0))(z) is z


@pytest.mark.parametrize("name", sorted(activations.diagnosed()))
def test_the_diagnosis_recognises_each_activation_and_knows_its_true_derivative(name):
    [op] = [op for op in builtin_ops() if op.name == name]
    x = np.concatenate([np.ravel(c.inputs[0]) for c in _cases(op)])
    y = op.forward(x)
    found, recognised = activations.recognise(x, y)
    assert found == name and recognised is op
    h = 1e-6
    central = (op.forward(x + h) - op.forward(x - h)) / (2 * h)  # the derivative the diagnosis takes as true
    np.testing.assert_allclose(op.backward(np.ones_like(x), x, y)[0], central, rtol=1e-6, atol=1e-8)


def _derived_torch_ops():
    mapping = _torch_mapping()
    if mapping is None:
        return []
    return [op for op in builtin_ops() if (op.elementwise or op.name == "matmul") and not attribute_names(op)
            and op.name not in mapping.WRITTEN_OUT]


@pytest.mark.parametrize("op", _derived_torch_ops(), ids=lambda op: op.name)
def test_torch_calls_by_each_table_name_record_that_op(op):
    torch = pytest.importorskip("torch")
    import gradviz.torch as gvt

    shapes = [(2, 3), (3, 2)] if op.name == "matmul" else [(2, 3)] * op.arity
    inputs = [torch.tensor(np.random.default_rng(k).uniform(0.5, 1.5, size=s)) for k, s in enumerate(shapes)]
    root = gvt.record(lambda *xs: getattr(torch, op.name)(*xs), *inputs)
    assert root._op is op


def test_torch_cat_stack_and_where_map_onto_the_table_and_check():
    torch = pytest.importorskip("torch")
    import gradviz.torch as gvt

    def joined(a, b):
        mask = a > 0
        return torch.where(mask, torch.cat([a, b], dim=0)[:2], torch.stack([a, b], dim=1).sum(dim=1)).sum()

    rng = np.random.default_rng(3)
    a, b = (torch.tensor(rng.normal(size=(2, 3)), requires_grad=True) for _ in range(2))
    ops = {n._op.name for n in gv.topological_order(gvt.record(joined, a, b)) if n._op is not None}
    assert {"concatenate", "stack", "where"} <= ops
    assert gvt.check(joined, a, b).ok


def test_a_new_op_in_the_table_shows_up_in_every_consumer(tmp_path):
    """Registered before the consumers derive their lists, an op needs no line anywhere else: a smooth
    activation is even diagnosed (its wrong-variable slips are replayed on its own backward)."""
    code = f"""
import importlib, json, sys
import numpy as np
sys.path.insert(0, {str(Path(__file__).parent)!r})
from gradviz.ops.registry import OpDef, register
register(OpDef("softsign", symbol="softsign", elementwise=True, scalar=True, domain=((-2, 2),),
               forward=lambda x: x / (1 + np.abs(x)), backward=lambda g, x, out: (g / (1 + np.abs(x)) ** 2,)))
for name in ("gradviz.functional", "gradviz.expr", "gradviz.spec", "gradviz.checking.diagnosis.activations"):
    importlib.reload(importlib.import_module(name))
try:
    importlib.reload(importlib.import_module("gradviz.torch.mapping"))
except ImportError:
    pass
import gradviz as gv
import test_op_consumers as t
from gradviz import expr, spec
out = gv.F.softsign(gv.Value(1.0))
parsed = expr.evaluate(expr.parse("softsign(x)"), {{"x": gv.Value(3.0)}})
print(json.dumps({{"gaps": t.gaps(), "F": out.data, "expr": parsed.data,
                  "spec": float(spec.ACTIVATIONS["softsign"](np.array(1.0)))}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["F"] == 0.5 and found["expr"] == 0.75 and found["spec"] == 0.5
    assert found["gaps"] == {"F": [], "expression parser": [], "SPEC activations": [], "torch mapping": [],
                             "activation diagnosis": []}
