"""gv.nn modules named like PyTorch's: paths, state dicts, and each layer's parameters in its own cluster."""

import numpy as np
import pytest

import gradviz as gv


def _cluster(dot: str, name: str) -> str:
    """The text of one `subgraph cluster_NAME { ... }` block of DOT source, nested blocks included."""
    start = dot.index(f"subgraph cluster_{name} {{")
    depth, i = 0, dot.index("{", start)
    for i in range(i, len(dot)):
        depth += {"{": 1, "}": -1}.get(dot[i], 0)
        if depth == 0:
            break
    return dot[start:i]


def _mlp():
    return gv.nn.Sequential(gv.nn.Linear(3, 4, seed=0), gv.nn.Tanh(), gv.nn.Linear(4, 1, seed=1))


def test_sequential_parameters_are_named_by_path():
    model = _mlp()
    assert [name for name, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert [p.label for p in model.parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]


def test_each_layer_draws_its_parameters_in_its_own_cluster():
    model = _mlp()
    x = gv.Tensor(np.ones((2, 3)), label="x")
    out = model(x).sum()
    out.backward()
    # a parameter lives in the scope its layer records in
    matmuls = [n for n in gv.topological_order(out) if n._op is not None and n._op.name == "matmul"]
    assert [m.scope for m in matmuls] == ["sequential.0", "sequential.2"]
    assert [p.scope for p in model.parameters()] == ["sequential.0"] * 2 + ["sequential.2"] * 2
    dot = gv.draw(out).source
    first, last = _cluster(dot, "sequential_0"), _cluster(dot, "sequential_2")
    assert "<B>0.W</B>" in first and "<B>0.b</B>" in first and "2.W" not in first
    assert "<B>2.W</B>" in last and "<B>2.b</B>" in last and "0.W" not in last


def test_reports_name_parameters_by_path_never_with_a_counter():
    model = _mlp()
    x = gv.Tensor(np.random.default_rng(0).normal(size=(2, 3)), label="x")
    report = gv.check(lambda x: model(x).sum(), x, params=model.parameters())
    assert [r.name for r in report.results] == ["x", "0.W", "0.b", "2.W", "2.b"]
    assert "#" not in "".join(r.name for r in report.results)


def test_custom_module_names_children_after_their_attributes():
    class TwoLayer(gv.nn.Module):
        name = "net"

        def __init__(self):
            self.layer1 = gv.nn.Linear(2, 3, seed=0)
            self.act = gv.nn.ReLU()
            self.layer2 = gv.nn.Linear(3, 1, seed=1)

        def forward(self, x):
            return self.layer2(self.act(self.layer1(x)))

    net = TwoLayer()
    assert list(net.state_dict()) == ["layer1.W", "layer1.b", "layer2.W", "layer2.b"]
    out = net(gv.Tensor(np.ones((1, 2)), label="x")).sum()
    scopes = {n.scope for n in gv.topological_order(out) if n._op is not None}
    assert {"net.layer1", "net.act", "net.layer2"} <= scopes
    assert dict((n, p.scope) for n, p in net.named_parameters())["layer2.b"] == "net.layer2"


def test_the_outermost_module_names_nested_ones():
    inner = gv.nn.Sequential(gv.nn.Linear(2, 2, seed=0), gv.nn.Tanh())
    outer = gv.nn.Sequential(inner, gv.nn.Linear(2, 1, seed=1), name="model")
    assert [n for n, _ in outer.named_parameters()] == ["0.0.W", "0.0.b", "1.W", "1.b"]
    assert inner[0].W.scope == "model.0.0" and inner[0].W.label == "0.0.W"


def test_scalar_mlp_names_every_weight_uniquely():
    mlp = gv.nn.MLP(3, [2, 1], seed=0)
    names = [n for n, _ in mlp.named_parameters()]
    assert names[:4] == ["layer0.neuron0.w0", "layer0.neuron0.w1", "layer0.neuron0.w2", "layer0.neuron0.b"]
    assert names[-1] == "layer1.neuron0.b" and len(set(names)) == len(names) == 3 * 2 + 2 + 2 + 1
    assert mlp.layers[1].neurons[0].b.scope == "mlp.layer1.neuron0"


def test_state_dict_round_trip_restores_trained_weights():
    model = _mlp()
    saved = model.state_dict()
    x = gv.Tensor(np.random.default_rng(2).normal(size=(5, 3)))
    optimizer = gv.optim.SGD(model.parameters(), lr=0.5)
    loss = (model(x) ** 2).sum()
    loss.backward()
    optimizer.step()
    assert not np.allclose(model[0].W.data, saved["0.W"])   # training moved it; the saved copy did not move
    fresh = _mlp()
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(fresh[2].W.data, model[2].W.data)
    model.load_state_dict(saved)
    np.testing.assert_array_equal(model[0].W.data, saved["0.W"])


def test_load_state_dict_says_what_does_not_match():
    model = _mlp()
    state = model.state_dict()
    del state["2.b"]
    state["3.W"] = np.zeros((1, 1))
    with pytest.raises(gv.GradvizError, match=r"missing 2\.b; unexpected 3\.W.*strict=False"):
        model.load_state_dict(state)
    model.load_state_dict({"0.b": np.ones(4)}, strict=False)
    np.testing.assert_array_equal(model[0].b.data, np.ones(4))
    with pytest.raises(gv.ShapeError, match=r"0\.W has shape \(3, 4\) but the state gives \(4, 3\)"):
        model.load_state_dict({"0.W": np.zeros((4, 3))}, strict=False)
