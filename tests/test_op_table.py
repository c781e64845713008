"""Every op in the table: its hand-written backward against the SymPy derivative of its twin,
and against central differences of its forward (two independent oracles)."""

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.symbolic import symbolic_vjp
from gradviz.ops import builtin_ops
from gradviz.tensor import unbroadcast

from oracles import central_gradient

CASES = [
    pytest.param(op, i, id=f"{op.name}-{i}")
    for op in builtin_ops()
    for i in range(len(op.test_cases(np.random.default_rng(0))))
]


def _case(op, i, seed=0):
    rng = np.random.default_rng(seed)
    case = op.test_cases(rng)[i]
    out = op.forward(*case.inputs, **case.attrs)
    cot = rng.normal(size=np.shape(out))
    return case, out, (float(cot) if np.shape(out) == () else cot)


def test_the_table_lists_every_builtin_family():
    names = {op.name for op in builtin_ops()}
    expected = {"add", "sub", "mul", "div", "pow", "powc", "neg", "exp", "log", "sqrt", "tanh",
                "sigmoid", "relu", "abs", "clip", "sum", "mean", "max", "reshape", "transpose",
                "getitem", "concatenate", "stack", "where", "matmul", "sin", "cos", "maximum", "minimum",
                "conv2d", "max_pool2d", "avg_pool2d", "log_softmax", "softmax"}
    assert expected <= names
    for op in builtin_ops():
        assert op.symbolic is not None, f"{op.name} has no symbolic twin"
        assert op.test_cases(np.random.default_rng(1)), f"{op.name} has no test points"


@pytest.mark.parametrize("op,i", CASES)
def test_backward_matches_sympy_derivative_of_twin(op, i):
    case, out, cot = _case(op, i)
    hand = op.backward(cot, *case.inputs, out, **case.attrs)
    sym = symbolic_vjp(op, case.inputs, case.attrs, cot)
    assert len(hand) == len(case.inputs)
    for x, h, s in zip(case.inputs, hand, sym):
        shape = np.shape(x)
        np.testing.assert_allclose(unbroadcast(h, shape), unbroadcast(s, shape), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("op,i", CASES)
def test_backward_matches_central_differences(op, i):
    case, out, cot = _case(op, i)
    hand = op.backward(cot, *case.inputs, out, **case.attrs)

    def loss(*xs):
        return float(np.sum(np.asarray(op.forward(*xs, **case.attrs)) * cot))

    numeric = central_gradient(loss, case.inputs)
    for x, h, n in zip(case.inputs, hand, numeric):
        np.testing.assert_allclose(unbroadcast(h, np.shape(x)), n, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("op,i", CASES)
def test_twin_computes_the_same_forward(op, i):
    """The twin is an independent spelling of the forward: their values must agree too."""
    from gradviz.checking.symbolic import apply_twin
    import sympy

    case, out, _ = _case(op, i)
    sym_inputs = [sympy.Float(x) if np.shape(x) == () else np.vectorize(sympy.Float, otypes=[object])(x)
                  for x in case.inputs]
    value = apply_twin(op, sym_inputs, case.attrs)
    value = np.asarray(value, dtype=object)
    np.testing.assert_allclose(np.vectorize(float)(value) if value.shape else float(value[()]), out,
                               rtol=1e-10, atol=1e-12)


def test_a_wrong_backward_is_caught_by_the_sympy_oracle():
    """Oracle sanity: perturb one rule and the comparison must fail."""
    wrong = gv.ops.OpDef("tanh_wrong", forward=np.tanh, backward=lambda g, a, out: (g * (1 - out),),
                         symbolic=gv.ops.get("tanh").symbolic, elementwise=True)
    x = np.array([0.3, -0.7])
    hand = wrong.backward(np.ones(2), x, np.tanh(x))[0]
    sym = symbolic_vjp(wrong, (x,), None, np.ones(2))[0]
    assert not np.allclose(hand, sym)
    np.testing.assert_allclose(sym, 1 - np.tanh(x) ** 2)


def test_kink_metadata_marks_relu_abs_clip_and_max_ties():
    assert gv.ops.get("relu").kinks((np.array([0.0, 1.0]),), {}, 1e-9).tolist() == [True, False]
    assert gv.ops.get("abs").kinks((0.0,), {}, 1e-9)
    assert gv.ops.get("clip").kinks((np.array([1.0, 0.2]),), {"lo": -1.0, "hi": 1.0}, 1e-9).tolist() == [True, False]
    ties = gv.ops.get("max").kinks((np.array([[1.0, 1.0], [1.0, 2.0]]),), {"axis": 1}, 1e-9)
    assert ties.tolist() == [True, False]
    for op in builtin_ops():
        if op.kinks is not None:
            assert op.kink_reason, f"{op.name} marks kinks but does not say why"
