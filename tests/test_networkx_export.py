"""gv.to_networkx output that GraphML and node-link JSON take unchanged, with argument positions on edges."""

import io
import json

import networkx as nx
import numpy as np

import gradviz as gv


def _neuron():
    x = gv.Tensor(np.array([[0.5, -1.0, 2.0]]), label="x")
    w = gv.Tensor(np.array([[0.1], [0.2], [-0.3]]), label="w")
    with gv.scope("neuron"):
        out = (x @ w).tanh().sum()
    out.backward()
    return x, w, out


def test_graphml_round_trip_keeps_structure_attributes_and_values():
    x, w, out = _neuron()
    g = gv.to_networkx(out)
    buffer = io.BytesIO()
    nx.write_graphml(g, buffer)
    back = nx.read_graphml(io.BytesIO(buffer.getvalue()), node_type=int)
    assert set(back.nodes) == set(g.nodes) and set(back.edges) == set(g.edges)
    for node, attrs in g.nodes(data=True):
        assert back.nodes[node] == attrs
    for u, v, attrs in g.edges(data=True):
        assert back.edges[u, v] == attrs
    # values survive: the weight gradient read back equals the closed form x^T (1 - tanh(x w)^2)
    expected = x.data.T * (1 - np.tanh(x.data @ w.data) ** 2)
    np.testing.assert_allclose(json.loads(back.nodes[w.id]["array_grad"]), expected)
    assert back.nodes[out.id]["op"] == "sum" and back.nodes[w.id]["op"] == "" and back.nodes[w.id]["shape"] == "3x1"


def test_node_link_json_round_trip():
    a = gv.Value(1.5, label="a")
    out = (a * a + 2).tanh()
    out.backward()
    g = gv.to_networkx(out)
    text = json.dumps(nx.node_link_data(g, edges="links"))
    back = nx.node_link_graph(json.loads(text), edges="links")
    assert nx.utils.graphs_equal(g, back)
    assert back.nodes[a.id]["grad"] == 2 * 1.5 * (1 - np.tanh(1.5**2 + 2) ** 2)


def test_edges_record_argument_position():
    a, b = gv.Value(3.0, label="a"), gv.Value(1.0, label="b")
    ab, ba = gv.to_networkx(a - b), gv.to_networkx(b - a)
    sub_ab = next(n for n, d in ab.nodes(data=True) if d["op"] == "sub")
    sub_ba = next(n for n, d in ba.nodes(data=True) if d["op"] == "sub")
    assert ab.edges[a.id, sub_ab]["position"] == 0 and ab.edges[b.id, sub_ab]["position"] == 1
    assert ba.edges[a.id, sub_ba]["position"] == 1 and ba.edges[b.id, sub_ba]["position"] == 0
    twice = gv.to_networkx(a + a)
    (edge,) = twice.edges(data=True)
    assert edge[2] == {"position": 0, "positions": "0,1", "count": 2}
