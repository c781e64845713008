"""The recorded graph: ids, scopes, deep graphs, freeing, networkx export, user ops."""

import gc
import subprocess
import sys
import weakref

import networkx as nx
import numpy as np
import pytest

import gradviz as gv


def test_ids_follow_recording_order_and_the_graph_is_reproducible():
    def program():
        a = gv.Value(1.0, label="a")
        b = gv.Value(2.0, label="b")
        return (a * b + a).tanh()

    first, second = program(), program()
    ids1 = [n.id for n in gv.topological_order(first)]
    ids2 = [n.id for n in gv.topological_order(second)]
    assert ids1 == sorted(ids1)
    offset = ids2[0] - ids1[0]
    assert [i + offset for i in ids1] == ids2  # same shape of graph, same relative ids


def test_scopes_nest_with_dots():
    with gv.scope("mlp"):
        with gv.scope("layer1"):
            w = gv.Value(1.0, label="w")
            y = w * 2
        z = y + 1
    outside = z * 1
    assert (w.scope, y.scope, z.scope, outside.scope) == ("mlp.layer1", "mlp.layer1", "mlp", "")


@pytest.mark.parametrize("depth", [100_000])
def test_deep_chain_backprops_without_recursion(depth):
    x = gv.Value(0.5, label="x")
    y = x
    for _ in range(depth):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    t = gv.Tensor(np.ones(2))
    u = t
    for _ in range(depth // 10):
        u = u + 1.0
    u.sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 1.0])


def test_a_dropped_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        a = gv.Value(1.0)
        out = (a * 2 + 1).tanh()
        out.backward()
        probe = weakref.ref(out._parents[0])
        t = gv.Tensor(np.ones(3))
        tout = (t * 2).sum()
        tout.backward()
        tprobe = weakref.ref(tout._parents[0])
        del out, tout
        assert probe() is None and tprobe() is None
    finally:
        gc.enable()


def test_to_networkx_exports_nodes_attributes_and_edge_counts():
    a = gv.Value(2.0, label="a")
    with gv.scope("s"):
        b = a + a
    out = b * 3
    out.backward()
    g = gv.to_networkx(out)
    assert isinstance(g, nx.DiGraph)
    assert nx.is_directed_acyclic_graph(g)
    assert g.number_of_nodes() == 4  # a, b, the constant 3, out
    assert g.edges[a.id, b.id]["count"] == 2
    attrs = g.nodes[b.id]
    assert (attrs["op"], attrs["scope"], attrs["data"], attrs["grad"], attrs["shape"]) == ("add", "s", 4.0, 3.0, "")
    assert g.nodes[a.id]["label"] == "a" and g.nodes[a.id]["op"] == ""
    assert list(nx.topological_sort(g))[-1] == out.id


def test_to_networkx_on_a_tensor_graph_reports_shapes():
    x = gv.Tensor(np.ones((2, 3)), label="x")
    y = (x @ np.ones((3, 4))).sum()
    g = gv.to_networkx(y)
    assert g.nodes[x.id]["shape"] == "2x3"
    assert sorted(d["op"] or "" for _, d in g.nodes(data=True)) == ["", "", "matmul", "sum"]


class Square(gv.Function):
    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(grad, x, out):
        return (2 * x * grad,)

    @staticmethod
    def symbolic(x):
        return x**2


class Hypot(gv.Function):
    elementwise = True

    @staticmethod
    def forward(a, b):
        return np.sqrt(a * a + b * b)

    @staticmethod
    def backward(grad, a, b, out):
        return grad * a / out, grad * b / out


def test_user_function_on_values_and_tensors():
    v = gv.Value(3.0, label="v")
    y = Square.apply(v) + 1
    y.backward()
    assert (y.data, v.grad) == (10.0, 6.0)
    assert y._parents[0]._op is Square.op() and not Square.op().builtin
    t = gv.Tensor([1.0, -2.0])
    s = Hypot.apply(t, gv.Tensor([[3.0], [4.0]])).sum()
    s.backward()
    a, b = np.array([1.0, -2.0]), np.array([[3.0], [4.0]])
    h = np.sqrt(a * a + b * b)
    np.testing.assert_allclose(t.grad, (a / h).sum(axis=0))
    assert Hypot.apply(3.0, 4.0).data == 5.0


def test_user_function_with_a_bad_backward_gets_a_clear_error():
    class TwoGrads(gv.Function):
        @staticmethod
        def forward(x):
            return x

        @staticmethod
        def backward(grad, x, out):
            return grad, grad

    with pytest.raises(gv.ShapeError, match="returned 2 gradients for 1 inputs"):
        TwoGrads.apply(gv.Value(1.0)).backward()


def test_version_and_help_from_the_command_line():
    version = subprocess.run([sys.executable, "-m", "gradviz", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == f"gradviz {gv.__version__}"
    helptext = subprocess.run([sys.executable, "-m", "gradviz", "--help"], capture_output=True, text=True)
    assert helptext.returncode == 0 and "gradients" in helptext.stdout


@pytest.mark.slow
def test_a_million_node_chain_builds_and_backprops_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # no traversal may recurse, at any depth
    try:
        x = gv.Value(0.5, label="x")
        y = x
        for _ in range(500_000):
            y = y * 1.0000001  # a product node and a constant node per step: 1,000,001 nodes
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad == pytest.approx(1.0000001 ** 500_000, rel=1e-9)
    assert y.grad == 1.0
