"""The array engine: every op's gradient against central differences, broadcasting both ways."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradviz as gv
from gradviz import tensor_backward

from oracles import central_gradient

rng = np.random.default_rng(7)


def check_grads(build, *arrays, rtol=1e-6, atol=1e-8):
    """Gradients of sum(build(...) * R) from the engine and from central differences."""
    probe = build(*[gv.Tensor(a) for a in arrays])
    weights = rng.normal(size=probe.shape)
    tensors = [gv.Tensor(a) for a in arrays]
    out = (build(*tensors) * weights).sum()
    out.backward()
    numeric = central_gradient(lambda *xs: float(np.sum(build(*[gv.Tensor(x) for x in xs]).data * weights)), arrays)
    for t, n in zip(tensors, numeric):
        assert t.grad.shape == t.shape
        np.testing.assert_allclose(t.grad, n, rtol=rtol, atol=atol)


SHAPE_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)),
               ((2, 3), ()), ((), (2, 3))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS)
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_binary_ops_broadcast_in_every_direction(op, shapes):
    a = rng.uniform(0.5, 2.0, size=shapes[0])
    b = rng.uniform(0.5, 2.0, size=shapes[1])
    fns = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
           "/": lambda x, y: x / y, "**": lambda x, y: x ** y}
    check_grads(fns[op], a, b)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt"])
def test_elementwise_functions(name):
    x = rng.uniform(0.2, 2.0, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    if name in ("log", "sqrt"):
        x = np.abs(x)
    check_grads(lambda t: getattr(t, name)(), x)


def test_constants_on_either_side_and_powers():
    x = rng.uniform(0.5, 2.0, size=(2, 3))
    check_grads(lambda t: 2 - t * 3 + 1 / t + t**2 + 2**t + np.ones(3) * t, x)
    check_grads(lambda t: t.clip(0.8, 1.5), x)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)),
                                    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                                    ((3,), (5, 3, 2)), ((5, 2, 3), (3,))])
def test_matmul_1d_2d_and_batched(shapes):
    check_grads(lambda a, b: a @ b, rng.normal(size=shapes[0]), rng.normal(size=shapes[1]))


@pytest.mark.parametrize("kw", [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 2)}, {"axis": -1}])
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions(name, kw):
    check_grads(lambda t: getattr(t, name)(**kw), rng.normal(size=(2, 3, 4)))


def test_max_sends_the_gradient_to_the_first_of_tied_maxima():
    x = gv.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_shape_ops_indexing_and_joins():
    x = rng.normal(size=(3, 4))
    check_grads(lambda t: t.reshape(2, 6), x)
    check_grads(lambda t: t.reshape((4, 3)).T, x)
    check_grads(lambda t: t.transpose(1, 0), x)
    check_grads(lambda t: t[1:, ::2], x)
    check_grads(lambda t: t[np.array([0, 2, 2])], x)  # a repeated index accumulates
    check_grads(lambda t: t[1, 3] * t[0], x)
    check_grads(lambda a, b: gv.concatenate([a, b, a], axis=0), x, rng.normal(size=(2, 4)))
    check_grads(lambda a, b: gv.stack([a, b], axis=1), x, rng.normal(size=(3, 4)))
    cond = rng.normal(size=(3, 4)) > 0
    check_grads(lambda a, b: gv.where(cond, a, b), x, rng.normal(size=(4,)))


def test_tensor_properties_and_conversion():
    t = gv.Tensor([[1, 2, 3], [4, 5, 6]], label="t")
    assert t.data.dtype == np.float64 and t.shape == (2, 3) and t.ndim == 2
    assert t.T.shape == (3, 2)
    assert t.grad.shape == (2, 3) and not t.grad.any()
    assert gv.Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32  # kept, flagged by checkers


def test_backward_semantics_match_pytorch():
    w = gv.Tensor(rng.normal(size=(3, 2)))
    x = gv.Tensor(rng.normal(size=(4, 3)), requires_grad=False)
    h = (x @ w).tanh()
    y = (h * h).sum()
    y.backward()
    first, h_first = w.grad.copy(), h.grad.copy()
    y.backward()
    np.testing.assert_array_equal(w.grad, 2 * first)
    np.testing.assert_array_equal(h.grad, h_first)
    assert not x.grad.any()  # requires_grad=False never receives gradient
    w.zero_grad()
    assert not w.grad.any()


def test_backward_on_non_scalar_needs_a_gradient_of_the_same_shape():
    y = gv.Tensor(np.ones((2, 3))) * 2
    with pytest.raises(gv.ShapeError, match=r"shape \(2, 3\).*needs a gradient"):
        y.backward()
    with pytest.raises(gv.ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(np.ones((3, 2)))
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(y._parents[0].grad, np.ones((2, 3)))


def test_bad_input_gives_one_readable_error():
    with pytest.raises(gv.ShapeError, match="ragged"):
        gv.Tensor([[1, 2], [3]])
    with pytest.raises(gv.GradvizTypeError, match="dtype object"):
        gv.Tensor(np.array([{}, 1], dtype=object))
    with pytest.raises(gv.GradvizTypeError, match="numbers"):
        gv.Tensor("abc")
    with pytest.raises(gv.GradvizTypeError, match="numbers"):
        gv.Tensor(np.array(["a", "b"]))
    with pytest.raises(gv.ShapeError, match=r"@: shapes \(2, 3\) and \(4, 5\)"):
        gv.Tensor(np.ones((2, 3))) @ gv.Tensor(np.ones((4, 5)))
    with pytest.raises(gv.ShapeError, match=r"\+: shapes \(2, 3\) and \(4,\)"):
        gv.Tensor(np.ones((2, 3))) + np.ones(4)


@settings(max_examples=40, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    data=st.data(),
)
def test_hypothesis_broadcast_products(shapes, data):
    a_shape, b_shape = shapes.input_shapes
    elements = st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
    a = data.draw(hnp.arrays(np.float64, a_shape, elements=elements))
    b = data.draw(hnp.arrays(np.float64, b_shape, elements=elements))
    check_grads(lambda x, y: (x * y).tanh() + x / (1 + y * y), a, b, rtol=1e-5, atol=1e-7)


def test_a_leaf_never_aliases_the_gradient_array_passed_to_backward():
    x = gv.Tensor(np.ones(3))
    seed = np.array([1.0, 2.0, 3.0])
    x.backward(seed)
    seed[:] = 0.0
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


def test_mixing_values_and_tensors_is_one_clear_error():
    v, t = gv.Value(1.0), gv.Tensor([1.0, 2.0])
    with pytest.raises(gv.GradvizTypeError, match="cannot combine a Tensor with a Value"):
        t + v
    with pytest.raises(gv.GradvizTypeError, match="cannot combine a Value with a Tensor"):
        v * t


# --- gradients only where needed, leaf gradients in place (issue 27) -------------------------

def test_matmul_backward_skips_the_gradient_of_an_input_that_takes_none():
    import tracemalloc

    x = gv.Tensor(rng.normal(size=(1000, 2000)), requires_grad=False)  # a data batch: 16 MB
    w = gv.Tensor(rng.normal(size=(2000, 2)))
    out = (x @ w).sum()
    tracemalloc.start()
    try:
        out.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000  # the gradient of x alone would be 16 MB
    np.testing.assert_allclose(w.grad, x.data.T @ np.ones((1000, 2)))
    assert not x.grad.any()


def test_the_op_table_matmul_returns_none_for_an_input_it_was_told_to_skip():
    from gradviz.ops.linalg import MATMUL

    a, b, g = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    full = MATMUL.backward(g, a, b, a @ b)
    skipped = MATMUL.backward(g, a, b, a @ b, needs=(False, True))
    assert skipped[0] is None
    np.testing.assert_array_equal(skipped[1], full[1])


def test_zero_grad_keeps_the_gradient_array_and_backward_fills_it():
    import weakref

    # 64 x 64 = 4096 elements: arrays this large are written in place (smaller ones are cheaper to replace)
    assert tensor_backward.IN_PLACE_MIN <= 64 * 64
    x = gv.Tensor(rng.normal(size=(5, 64)), requires_grad=False)
    w, b = gv.Tensor(rng.normal(size=(64, 64)) / 8), gv.Tensor(rng.normal(size=64))
    ((x @ w + b).tanh()).sum().backward()
    w_first = weakref.ref(w.grad)  # no strong reference: the array may be reused
    expected_w, expected_b = w.grad.copy(), b.grad.copy()
    w.zero_grad()
    b.zero_grad()
    assert not w.grad.any()
    ((x @ w + b).tanh()).sum().backward()
    assert w.grad is w_first()  # the same array, neither freed nor reallocated
    np.testing.assert_array_equal(w.grad, expected_w)
    np.testing.assert_array_equal(b.grad, expected_b)


def test_a_leaf_gradient_accumulates_in_place_and_stays_exactly_twice():
    import weakref

    w = gv.Tensor(rng.normal(size=(64, 64)))
    x = gv.Tensor(rng.normal(size=(4, 64)), requires_grad=False)
    y = ((x @ w) * (x @ w)).sum()  # w receives two contributions per pass
    y.backward()
    first = w.grad.copy()
    array = weakref.ref(w.grad)
    y.backward()
    assert w.grad is array()
    np.testing.assert_array_equal(w.grad, 2 * first)


def test_a_gradient_array_someone_kept_is_never_written_behind_their_back():
    w = gv.Tensor(rng.normal(size=(64, 64)))
    x = gv.Tensor(rng.normal(size=(4, 64)), requires_grad=False)
    (x @ w).sum().backward()
    kept = w.grad
    snapshot = kept.copy()
    (x @ w).sum().backward()  # accumulates: but not into the array the caller holds
    np.testing.assert_array_equal(kept, snapshot)
    w.zero_grad()
    (x @ w * 3.0).sum().backward()
    np.testing.assert_array_equal(kept, snapshot)
    assert w.grad is not kept
    np.testing.assert_allclose(w.grad, 3 * snapshot)


def test_a_gradient_set_from_outside_is_not_written_in_place():
    w = gv.Tensor(np.ones(4096))
    mine = np.full(4096, 5.0)
    w.grad = mine
    (w * 2.0).sum().backward()
    np.testing.assert_array_equal(mine, 5.0)
    np.testing.assert_array_equal(w.grad, 7.0)
