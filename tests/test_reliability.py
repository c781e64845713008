"""Does it ever lie or break? Property tests across the op table, hostile input, big graphs, memory."""

import gc
import math
import resource
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradviz as gv
from gradviz import expr

# Ops usable in random scalar expressions, with the input range that keeps
# them away from their domain edges and kinks (a kink point is tested elsewhere).
UNARY = {
    "tanh": lambda v: v.tanh(), "sigmoid": lambda v: v.sigmoid(), "exp": lambda v: (v * 0.3).exp(),
    "sin": lambda v: v.sin(), "cos": lambda v: v.cos(), "log": lambda v: (v * v + 0.5).log(),
    "sqrt": lambda v: (v * v + 0.5).sqrt(), "square": lambda v: v**2, "neg": lambda v: -v,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0), "pow": lambda a, b: (a * a + 0.5) ** (b * 0.5),
}


@st.composite
def programs(draw):
    """A random straight-line program over 3 inputs: a list of (op, argument indices)."""
    steps = []
    for k in range(draw(st.integers(1, 8))):
        available = 3 + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, available - 1)),)))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))),
                          (draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1)))))
    return steps


def run_program(steps, *inputs):
    values = list(inputs)
    for name, args in steps:
        fn = UNARY.get(name) or BINARY[name]
        values.append(fn(*[values[i] for i in args]))
    return values[-1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_random_graphs_autograd_equals_finite_differences_equals_sympy(steps, point):
    inputs = [gv.Value(v, label=n) for v, n in zip(point, "abc")]
    out = run_program(steps, *inputs)
    if not math.isfinite(out.data) or abs(out.data) > 1e6:
        return
    report = gv.check(lambda a, b, c: run_program(steps, a, b, c), *inputs)
    assert report.ok, str(report)
    for row in report.rows():
        if row.symbolic is not None and row.status == "PASS":
            assert abs(row.autograd - row.symbolic) <= 1e-5 + 1e-3 * abs(row.symbolic)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(3, 7), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 2), st.data())
def test_random_conv_and_pool_configurations_against_a_slow_reference(n, c, size, k, stride, pad, data):
    from test_conv_pool import conv_reference, pool_reference

    if size + 2 * pad < k:
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x, w = rng.normal(size=(n, c, size, size)), rng.normal(size=(2, c, k, k))
    out = gv.F.conv2d(gv.Tensor(x), gv.Tensor(w), stride=stride, padding=pad)
    np.testing.assert_allclose(out.data, conv_reference(x, w, None, (stride, stride), (pad, pad)), atol=1e-10)
    if size >= k:
        pooled = gv.F.max_pool2d(gv.Tensor(x), k, stride)
        np.testing.assert_allclose(pooled.data, pool_reference(x, (k, k), (stride, stride), np.max))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60))
def test_the_expression_parser_returns_a_graph_or_a_clean_error_never_runs_code(text):
    try:
        tree = expr.parse(text)
    except gv.GradvizError:
        return
    env = {name: gv.Value(0.7, label=name) for name in expr.names(tree)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = expr.evaluate(tree, env)
    assert isinstance(out, gv.Value)


def test_parser_handles_deep_nesting_and_long_input_cleanly():
    with pytest.raises(gv.GradvizError, match="nests deeper"):
        expr.parse("-" * 500 + "x")
    with pytest.raises(gv.GradvizError, match="characters long"):
        expr.parse("x+" * 1500 + "x")
    assert expr.parse("(" * 20 + "x" + ")" * 20) == expr.Name("x", 20)


@pytest.mark.parametrize("build,point", [
    (lambda x: x.relu(), 0.0), (lambda x: x.abs(), 0.0), (lambda x: x.clip(-1, 1), 1.0),
    (lambda x: x.maximum(0.5), 0.5),
])
def test_non_differentiable_points_are_never_fail(build, point):
    report = gv.check(lambda x: build(x) * 1.5, gv.Value(point, label="x"))
    assert report.ok and report.results[0].status == "NONDIFF"


def test_nan_and_inf_are_never_pass():
    assert not gv.check(lambda x: x * 2, gv.Tensor([1.0, float("inf")], label="x")).ok
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not gv.check(lambda x: (x - 1.0).log(), gv.Value(0.5, label="x")).ok


def test_extreme_values_and_empty_tensors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = gv.check(lambda x: x.exp().sum(), gv.Tensor([800.0, 1.0], label="x"))  # exp(800) overflows
    assert not report.ok and "nan or inf" in report.verdict
    # At 1e308 a step of 1e-6 is below float64's spacing: a usage error naming the input, before any evaluation.
    with pytest.raises(gv.GradvizError, match="eps=1e-06 is too small for x"):
        gv.check(lambda x: (x * 10.0).sum(), gv.Tensor([1e308, -1e308], label="x"))
    empty = gv.Tensor(np.zeros((0, 3)))
    total = empty.sum()
    total.backward()
    assert total.item() == 0.0 and empty.grad.shape == (0, 3)
    with pytest.raises(gv.ShapeError, match="empty"):
        empty.max()


def test_a_node_used_ten_thousand_times():
    x = gv.Value(0.5, label="x")
    total = x * 0.0
    for _ in range(10_000):
        total = total + x * x
    total.backward()
    assert x.grad == pytest.approx(10_000 * 2 * 0.5)


def test_a_neuron_with_ten_thousand_inputs():
    rng = np.random.default_rng(0)
    n = gv.nn.Neuron(10_000, seed=0)
    x = rng.normal(size=10_000) * 0.01
    out = n(list(x))
    out.backward()
    z = sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data
    np.testing.assert_allclose([w.grad for w in n.w[:5]], (1 - math.tanh(z) ** 2) * x[:5])


@pytest.mark.slow
def test_training_keeps_memory_flat():
    """1,000 steps of the course MLP: graphs are freed, no global registry keeps them alive."""
    X = [[-1, 2, 5, 4], [4, 2, 6, 3], [2, 3, 4, 7], [7, 2, 4, 1]]
    model = gv.nn.MLP(4, [4, 2, 1], seed=0)
    opt = gv.optim.SGD(model.parameters(), lr=0.05)

    def steps(n):
        for k in range(n):
            loss = (model(X[k % 4]) - 1.0) ** 2
            opt.zero_grad()
            loss.backward()
            opt.step()

    steps(100)
    gc.collect()
    before = len(gc.get_objects())
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    steps(1000)
    gc.collect()
    assert len(gc.get_objects()) - before < 200
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 20_000  # KiB


# --- random shapes for the array ops ------------------------------------------------------

from hypothesis.extra import numpy as hnp  # noqa: E402

from oracles import central_gradient  # noqa: E402

_finite = st.floats(-2, 2, allow_nan=False, width=64)


def _grad_matches(build, *arrays):
    tensors = [gv.Tensor(a) for a in arrays]
    out = build(*tensors)
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    numeric = central_gradient(lambda *xs: float(np.sum(build(*[gv.Tensor(x) for x in xs]).data * weights)), arrays)
    for t, n in zip(tensors, numeric):
        np.testing.assert_allclose(t.grad, n, rtol=1e-5, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=_finite), st.data())
def test_reductions_over_random_shapes_and_axes(x, data):
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1)
                     | st.lists(st.integers(0, x.ndim - 1), min_size=1, max_size=x.ndim, unique=True).map(tuple))
    keepdims = data.draw(st.booleans())
    name = data.draw(st.sampled_from(["sum", "mean"]))
    _grad_matches(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.booleans(), st.booleans(),
       st.integers(0, 1000))
def test_matmul_over_random_shapes(batch, n, k, m, vector_left, vector_right, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k,) if vector_left else (batch, n, k))
    b = rng.normal(size=(k,) if vector_right else (k, m))
    _grad_matches(lambda x, y: x @ y, a, b)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=5), elements=_finite),
       st.data())
def test_random_slices_and_integer_indexing(x, data):
    index = tuple(data.draw(st.slices(n)) for n in x.shape[: data.draw(st.integers(1, x.ndim))])
    if x[index].size == 0:
        return
    _grad_matches(lambda t: t[index], x)
    picks = np.array(data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6)))
    _grad_matches(lambda t: t[picks] * 2.0, x)  # repeated picks must accumulate
