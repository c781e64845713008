"""gv.torch: PyTorch code checked, localized and drawn. Skipped, with the reason, where torch is not installed.

Oracles are independent of the bridge: torch.autograd.gradcheck, torch's own
forward and autograd, and derivatives written out in the tests.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch "
                                            "(or GRADVIZ_DEV_EXTRAS=torch python3 dev.py test)")
nn = torch.nn

import gradviz as gv  # noqa: E402
from gradviz.errors import GradvizError, PrecisionWarning  # noqa: E402


# --- custom Functions the way course code and custom-op authors write them -------------------------

class LinearFn(torch.autograd.Function):
    """y = x W^T + b, the cs231n-style affine layer as an autograd.Function."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        return x @ weight.t() + bias

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        return grad_out @ weight, grad_out.t() @ x, grad_out.sum(0)


class LinearNoBiasSum(LinearFn):
    """Planted bug: the bias gradient is not summed over the batch (only the first row)."""

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        return grad_out @ weight, grad_out.t() @ x, grad_out[0]


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1 - y * y)


class TanhMissingSquare(Tanh):
    """Planted bug: 1 - y instead of 1 - y**2."""

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1 - y)


class Net(nn.Module):
    """A small model: an nn.Linear, a custom Linear Function and a custom tanh Function."""

    def __init__(self, linear=LinearFn, act=Tanh):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2)
        self.linear, self.act = linear, act

    def forward(self, x):
        h = self.act.apply(self.linear.apply(x, self.hidden.weight, self.hidden.bias))
        return (self.out(h) ** 2).mean()


@pytest.fixture
def x():
    torch.manual_seed(0)
    return torch.randn(5, 3, dtype=torch.float64)


def model(**kwargs):
    torch.manual_seed(1)
    return Net(**kwargs).double()


# --- 1. check: a correct and a broken custom Function inside a model, localized ------------------

def test_a_correct_model_passes_and_its_autograd_column_is_torchs_own(x):
    net = model()
    report = gv.torch.check(net, x)
    assert report.ok, report
    assert [r.name for r in report.results] == ["x", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    net(x).backward()
    by_name = {r.name: r for r in report.results}
    np.testing.assert_allclose(by_name["hidden.weight"].autograd, net.hidden.weight.grad.numpy(), atol=1e-12)
    assert all(n.status == "PASS" for n in report.nodes)


@pytest.mark.parametrize("broken, name", [(dict(act=TanhMissingSquare), "TanhMissingSquare"),
                                          (dict(linear=LinearNoBiasSum), "LinearNoBiasSum")])
def test_a_broken_custom_function_is_the_first_wrong_node(x, broken, name):
    report = gv.torch.check(model(**broken), x)
    assert not report.ok
    assert report.first_bad_node.op == name
    assert name in report.verdict
    wrong = {r.name for r in report.results if r.status == "FAIL"}
    assert "out.weight" not in wrong and "out.bias" not in wrong  # downstream of the bug: still right


def test_the_model_is_left_as_it_was(x):
    net = model(act=TanhMissingSquare)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    gv.torch.check(net, x)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_float32_is_warned_about_and_upcast():
    torch.manual_seed(0)
    x32 = torch.randn(4, 3)  # float32
    with pytest.warns(PrecisionWarning, match="x is float32"):
        report = gv.torch.check(lambda x: torch.tanh(x).sum(), x32)
    assert report.ok  # checked in float64: 1e-5 is reachable


def test_mapped_ops_get_the_sympy_oracle_too():
    x = torch.tensor([[0.3, -1.2], [0.7, 2.0]], dtype=torch.float64)
    w = torch.tensor([[0.5], [-0.25]], dtype=torch.float64)

    def f(x, w):
        return torch.sigmoid(x @ w).sum()

    report = gv.torch.check(f, x, w)
    assert report.ok and "SymPy" in report.verdict
    s = 1 / (1 + np.exp(-(x.numpy() @ w.numpy())))
    expected_dw = x.numpy().T @ (s * (1 - s))  # d/dw sum(sigmoid(xw)), written out
    by_name = {r.name: r for r in report.results}
    np.testing.assert_allclose(by_name["w"].symbolic, expected_dw, atol=1e-12)


def test_a_function_using_detach_wrongly_fails_against_finite_differences():
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    report = gv.torch.check(lambda x: (x * x.detach()).sum(), x)  # torch's gradient is x, the true one 2x
    assert not report.ok and report.first_bad_node.op == "detach"
    np.testing.assert_allclose(report.results[0].autograd, x.numpy())
    np.testing.assert_allclose(report.results[0].finite, 2 * x.numpy(), atol=1e-6)


def test_integer_targets_are_held_fixed():
    torch.manual_seed(0)
    logits = torch.randn(4, 3, dtype=torch.float64)
    target = torch.tensor([0, 2, 1, 2])
    report = gv.torch.check(lambda logits, target: nn.functional.cross_entropy(logits, target), logits, target)
    assert report.ok and [r.name for r in report.results] == ["logits"]
    p = torch.softmax(logits, 1).numpy()
    expected = (p - np.eye(3)[target.numpy()]) / 4  # softmax minus one-hot, over the batch
    np.testing.assert_allclose(report.results[0].autograd, expected, atol=1e-12)


class BackwardCrashes(Tanh):
    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out @ y  # a shape error in the user's backward


def test_a_backward_that_raises_is_named_and_a_forward_that_raises_is_an_error(x):
    report = gv.torch.check(model(act=BackwardCrashes), x)
    assert not report.ok and report.first_bad_node.op == "BackwardCrashes"
    assert "raised" in report.first_bad_node.message

    def broken(x):
        raise ValueError("shapes do not fit")
    report = gv.torch.check(broken, x)
    assert not report.ok and report.status == "ERROR" and "shapes do not fit" in report.verdict


# --- kinks and ties, judged as gradviz judges them ------------------------------------------------

class AbsFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.abs()

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.sign(x)


class AbsBadAtZero(AbsFn):
    """Planted bug: at 0 it returns a slope of 3, outside the subdifferential [-1, 1]."""

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * torch.where(x == 0, torch.full_like(x, 3.0), torch.sign(x))


def test_relu_at_zero_is_a_valid_subgradient():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    report = gv.torch.check(lambda x: torch.relu(x).sum(), x)
    assert report.ok
    assert report.results[0].status_list() == ["PASS", "NONDIFF", "PASS"]
    assert "relu" in report.verdict


def test_a_custom_function_with_a_slope_outside_the_subdifferential_fails_at_the_kink():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    assert gv.torch.check(lambda x: AbsFn.apply(x).sum(), x).ok
    report = gv.torch.check(lambda x: AbsBadAtZero.apply(x).sum(), x)
    assert not report.ok
    assert report.results[0].status_list() == ["PASS", "FAIL", "PASS"]


# --- parity of verdicts with torch.autograd.gradcheck ---------------------------------------------

class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class SquareForgotChainRule(Square):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x


class Mul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a


class MulSwapped(Mul):
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * a, g * b


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class LogWrongBase(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (x * np.log(10.0))


PARITY = [(Square, 1), (SquareForgotChainRule, 1), (Mul, 2), (MulSwapped, 2), (Exp, 1), (LogWrongBase, 1),
          (LinearFn, 3), (LinearNoBiasSum, 3), (Tanh, 1), (TanhMissingSquare, 1)]


def _parity_inputs(fn, n):
    rng = np.random.default_rng(7)
    if n == 3:
        shapes = [(4, 3), (2, 3), (2,)]
    else:
        shapes = [(3, 2)] * n
    return [torch.tensor(rng.uniform(0.5, 2.0, size=s), dtype=torch.float64, requires_grad=True) for s in shapes]


@pytest.mark.parametrize("fn, n", PARITY, ids=[f.__name__ for f, _ in PARITY])
def test_verdicts_agree_with_gradcheck(fn, n):
    inputs = _parity_inputs(fn, n)
    torch_says = torch.autograd.gradcheck(fn.apply, inputs, raise_exception=False)
    report = gv.torch.check(fn, *inputs)
    assert report.ok == torch_says
    assert ("Forgot" in fn.__name__ or "Swapped" in fn.__name__ or "Wrong" in fn.__name__
            or "Missing" in fn.__name__ or "NoBias" in fn.__name__) == (not torch_says)
    if not report.ok:
        assert report.first_bad_node.op == fn.__name__  # gradcheck only says False; we name the node


class SquareHalfGradient(Square):
    """Planted bug: x * g, the 2 of d(x^2)/dx = 2x forgotten."""

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return x * g


def test_the_diagnosis_library_names_the_cause():
    x = torch.tensor([0.5, -1.5, 2.0, 1.0], dtype=torch.float64)
    report = gv.torch.check(lambda x: SquareHalfGradient.apply(x).sum(), x)
    assert not report.ok and report.first_bad_node.op == "SquareHalfGradient"
    assert "half the true gradient" in " ".join(map(str, report.results[0].diagnosis))


class SquareSetupContext(torch.autograd.Function):
    """The newer style: forward without ctx, and setup_context."""

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * g  # should be 2 * x * g


def test_a_setup_context_function_is_checked_with_its_own_input_names():
    report = gv.torch.check(SquareSetupContext, torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert [r.name for r in report.results] == ["x"]
    assert not report.ok and report.first_bad_node.op == "SquareSetupContext"
    ratio = report.results[0].autograd / report.results[0].finite  # 3x against the true 2x, whatever the cotangent
    np.testing.assert_allclose(ratio, 1.5, rtol=1e-6)


# --- 2. record: torch code as a gradviz graph ----------------------------------------------------

class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(2 * 2 * 2, 3)

    def forward(self, image):
        return self.classifier(self.features(image).flatten(1))


@pytest.fixture
def cnn():
    torch.manual_seed(3)
    return SmallCNN().double()


@pytest.fixture
def image():
    torch.manual_seed(4)
    return torch.randn(2, 1, 4, 4, dtype=torch.float64)


def test_record_maps_torch_ops_onto_the_op_table_with_module_scopes(cnn, image):
    root = gv.torch.record(cnn, image)
    order = gv.topological_order(root)
    ops = [n._op.name for n in order if n._op is not None]
    assert ops == ["conv2d", "relu", "max_pool2d", "reshape", "linear"]
    labels = {n.label: n.scope for n in order if n._op is None}
    assert labels == {"image": "", "features.0.weight": "features.0", "features.0.bias": "features.0",
                      "classifier.weight": "classifier", "classifier.bias": "classifier"}
    np.testing.assert_allclose(root.data, cnn(image).detach().numpy(), atol=1e-12)  # torch's forward


def test_gradviz_backward_on_a_recording_matches_torch(cnn, image):
    root = gv.torch.record(cnn, image)
    cot = np.arange(6.0).reshape(2, 3)
    root.backward(cot)
    cnn(image).backward(torch.from_numpy(cot))
    leaves = {n.label: n for n in gv.topological_order(root) if n._op is None}
    np.testing.assert_allclose(leaves["features.0.weight"].grad, cnn.features[0].weight.grad.numpy(), atol=1e-10)


def test_a_recording_works_with_networkx_and_sympy():
    x = torch.tensor([0.5, 1.5], dtype=torch.float64)
    root = gv.torch.record(lambda x: (torch.exp(x) * 3).sum(), x)
    graph = gv.to_networkx(root)
    assert sorted(d["op"] or "leaf" for _, d in graph.nodes(data=True)) == ["exp", "leaf", "leaf", "mul", "sum"]
    expr = gv.symbolic(root)
    assert abs(float(expr.subs({s: v for s, v in zip(sorted(expr.free_symbols, key=str), x.tolist())}))
               - 3 * float(np.exp(0.5) + np.exp(1.5))) < 1e-9


def test_indexing_permute_softmax_and_powers_map_onto_the_table_and_pass_all_three_oracles():
    torch.manual_seed(5)
    x = torch.randn(3, 4, dtype=torch.float64)

    def f(x):
        return (torch.softmax(x[:, 1:].permute(1, 0), dim=0) ** 2).sum() + x.t().clamp(min=-0.5).mean()

    ops = [n._op.name for n in gv.topological_order(gv.torch.record(f, x)) if n._op is not None]
    assert ops == ["getitem", "transpose", "softmax", "powc", "sum", "transpose", "clip", "mean", "add"]
    report = gv.torch.check(f, x)
    assert report.ok and "SymPy" in report.verdict
    xr = x.clone().requires_grad_()
    f(xr).backward()
    np.testing.assert_allclose(report.results[0].finite, xr.grad.numpy(), atol=1e-6)


def test_an_unsupported_op_is_an_opaque_node_checked_by_finite_differences():
    x = torch.tensor([0.2, -0.4, 1.1], dtype=torch.float64)
    root = gv.torch.record(lambda x: torch.erf(x).sum(), x)
    assert [n._op.display for n in gv.topological_order(root) if n._op is not None] == ["erf", "sum"]
    report = gv.torch.check(lambda x: torch.erf(x).sum(), x)
    assert report.ok
    np.testing.assert_allclose(report.results[0].finite, 2 / np.sqrt(np.pi) * np.exp(-x.numpy() ** 2), atol=1e-8)
    assert any("opaque" in w and "erf" in w for w in report.warnings)
    erf_node = next(n for n in report.nodes if n.op == "erf")
    assert erf_node.status == "PASS" and "finite" in erf_node.oracle


def test_a_custom_function_is_one_user_op_not_its_insides(x):
    root = gv.torch.record(model(), x)
    ops = [n._op.display for n in gv.topological_order(root) if n._op is not None]
    assert ops[:2] == ["LinearFn", "Tanh"]
    assert torch.autograd.Function.apply.__func__ is torch.autograd.Function.__dict__["apply"].__func__


# --- 3. draw: torchviz's call, with values, gradients, clusters and verdicts ---------------------

def test_drawing_a_small_cnn_has_module_clusters_values_and_gradients(cnn, image):
    with gv.torch.recording(cnn):
        out = cnn(image).sum()
    drawing = gv.torch.draw(out, params=dict(cnn.named_parameters()))
    dot = drawing.source
    assert "cluster_features" in dot and "cluster_features_0" in dot and "cluster_classifier" in dot
    assert "<B>image</B>" in dot  # the model's input, by its forward's parameter name
    assert "features.0.weight" in dot and "grad" in dot and "2x1x4x4" in dot
    svg = drawing.pipe(format="svg").decode()
    assert svg.startswith("<?xml") and "features.0.weight" in svg


def test_the_same_program_draws_the_same_dot(cnn, image):
    first = gv.torch.draw(gv.torch.record(cnn, image)).source
    second = gv.torch.draw(gv.torch.record(cnn, image)).source
    assert first == second


def test_a_big_model_folds_itself():
    torch.manual_seed(0)
    deep = nn.Sequential(*[nn.Sequential(nn.Linear(4, 4), nn.Tanh()) for _ in range(40)]).double()
    dot = gv.torch.draw(gv.torch.record(deep, torch.randn(2, 4, dtype=torch.float64))).source
    assert "collapsed" in dot


def test_the_verdict_is_drawn_on_the_broken_node(x):
    report = gv.torch.check(model(act=TanhMissingSquare), x)
    dot = gv.torch.draw(report.root, report=report).source
    assert "first wrong rule" in dot and "TanhMissingSquare" in dot


def test_a_verdict_on_an_unrecorded_tensor_says_how_to_record_it(x):
    out = model()(x)
    assert "AddmmBackward0" in gv.torch.draw(out).source  # drawn from grad_fn, as torchviz does
    with pytest.raises(GradvizError, match="gv.torch.recording"):
        gv.torch.draw(out, report=gv.torch.check(model(), x))  # a verdict needs the recorded graph
    with pytest.raises(GradvizError, match="collapse needs the recorded graph"):
        gv.draw(out, collapse=1)


# --- 4. the command line -------------------------------------------------------------------------

def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gradviz", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.fixture
def torch_file(tmp_path):
    (tmp_path / "ops.py").write_text(textwrap.dedent('''
        import torch

        class Cube(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 3 * x * grad   # should be 3 * x**2


        class GoodCube(Cube):
            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 3 * x ** 2 * grad


        def layer(x, w):
            return torch.tanh(x @ w).sum()
    '''))
    return tmp_path


def test_cli_checks_a_custom_function_class(torch_file):
    bad = _run("check", "ops.py:Cube", "--input", "x=4,2", "--json", cwd=torch_file)
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)["reports"][0]
    assert report["subject"] == "Cube" and report["first_bad_node"]["op"] == "Cube"


def test_cli_in_process_checks_and_renders_torch_targets(torch_file, monkeypatch, capsys):
    from gradviz.cli import main

    monkeypatch.chdir(torch_file)
    assert main(["check", "ops.py:GoodCube", "--input", "x=4,2", "-q"]) == 0
    assert main(["check", "ops.py:layer", "--input", "x=2,3", "--input", "w=3,2", "-q"]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["render", "ops.py:layer", "--input", "x=2,3", "--input", "w=3,2", "-o", "layer.svg"]) == 0
    svg = (torch_file / "layer.svg").read_text()
    assert "tanh" in svg and "2x3" in svg


def test_cli_torch_checks_carry_no_sympy_twin_noise(torch_file, monkeypatch, capsys):
    from gradviz.cli import main

    monkeypatch.chdir(torch_file)
    assert main(["check", "ops.py:GoodCube", "--input", "x=4,2"]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "symbolic twin" not in out and "SymPy" not in out


# --- without torch ---------------------------------------------------------------------------------

def test_without_torch_gradviz_works_and_gv_torch_names_the_extra():
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None          # as if PyTorch were not installed
        import gradviz as gv
        assert gv.check(lambda v: v * v, gv.Value(3.0)).ok
        v = gv.Value(3.0, label="v")
        out = v * v
        out.backward()
        import pathlib, tempfile
        written = gv.render(out, pathlib.Path(tempfile.mkdtemp()) / "v.dot", dpi=150, landscape=True)
        assert "v" in gv.draw(out).source and "rankdir=LR" in written.read_text()
        assert "torch" not in sys.modules or sys.modules["torch"] is None  # drawing never imported it
        try:
            gv.torch
        except ImportError as exc:
            print("ImportError:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ImportError:" in done.stdout and "pip install torch" in done.stdout


# --- the tutorial "From numpy to PyTorch" (docs/tutorial-numpy-to-pytorch.md) ----------------------

def test_the_numpy_to_pytorch_tutorial_says_true_things():
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    sys.path.insert(0, str(docs))
    import pages

    name = "tutorial-numpy-to-pytorch.md"
    page = pages.EXECUTED.get(name) or pages.run_page(docs / name)
    ns, shown = page.namespace, [o.text() for o in page.outputs]
    assert ns["numpy_report"].ok and ns["torch_report"].ok
    assert [r.name for r in ns["torch_report"].results] == ["x", "W", "b"]
    assert ns["report"].first_bad_node.op == "Tanh" and "node #6 (Tanh)" in shown[2]
    net, xt = ns["net"], ns["xt"]
    assert torch.autograd.gradcheck(net, (xt.clone().requires_grad_(),), raise_exception=False) is False
    assert ns["kink"].results[0].status_list() == ["PASS", "NONDIFF", "PASS"]
    root, cnn, image = ns["root"], ns["cnn"], ns["image"]
    assert {n.scope for n in gv.topological_order(root)} >= {"features.0", "classifier"}
    np.testing.assert_allclose(root.data, cnn(image).detach().numpy(), atol=1e-12)
    assert shown[4].startswith("<svg") and "features.0.weight" in shown[6]
    # torchviz's habit: drawn from grad_fn, with the parameters' names (issue 25)
    assert "ConvolutionBackward0" in shown[5] and "features.0.weight" in shown[5] and "classifier.bias" in shown[5]
    assert ns["plain"].item() == pytest.approx(cnn(image).sum().item())
    assert ns["done"].returncode == 1 and "Cube" in shown[7]
    # the command line reads int ids as data, dim from --args as an int, and checks the float output only
    assert ns["top"].returncode == 0 and "TopRows: PASS" in shown[8] and "table (5, 3): PASS" in shown[8]
    assert "output 0 is checked; not checked: output 1 is" in shown[8] and "ids" not in shown[8].split("note:")[0]


# --- torchviz parity: an output computed without recording, drawn from its grad_fn ---------------------


def _grad_fn_names(output) -> set:
    """torch's own backward graph, walked here independently of gradviz: the names of its functions."""
    names, stack, seen = set(), [output.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.add(type(fn).__name__)
        stack.extend(child for child, _ in fn.next_functions)
    return names


def test_an_unrecorded_output_is_drawn_from_grad_fn_like_torchviz(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    inputs = torch.randn(2, 3)
    y = net(inputs).sum()  # no recording: torchviz's habit
    source = gv.torch.draw(y, params=dict(net.named_parameters())).source
    for name in _grad_fn_names(y) - {"AccumulateGrad"}:
        assert f"label={name} " in source, name  # every backward function, by torch's name
    for name, p in net.named_parameters():
        assert f'"{name}\\n{tuple(p.shape)}' in source, name  # named and shaped as torchviz shows them
    assert f"data {net[2].bias.item():.4g}" in source  # values where torch keeps them: a leaf
    assert f'label="output\\n()\\ndata {y.item():.4g}"' in source  # and the output
    hidden = torch.tanh(net[0](inputs)).detach().numpy()  # TanhBackward0's saved output, computed here
    assert (f'label="result\\n(2, 4)\\ndata min {hidden.min():.3g} max {hidden.max():.3g}\\n'
            f'mean {hidden.mean():.3g}"') in source
    assert "style=dotted" in source
    assert source == gv.torch.draw(y, params=dict(net.named_parameters())).source  # deterministic
    # gv.draw and gv.render take the torch tensor too, with no recording
    assert gv.draw(y).source.count("AddmmBackward0") == 2
    written = gv.render(y, tmp_path / "y.svg")
    assert written.read_text().count("<svg") == 1 and "TanhBackward0" in written.read_text()


def test_after_backward_the_leaves_show_their_gradients():
    """Values recorded where torch keeps them: a leaf's .grad, against the derivative written out here."""
    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.1, -0.2], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]], dtype=torch.float64)
    y = (x @ w + b).pow(2).sum()  # dy/dw = x^T 2(xw + b), dy/db = sum over rows of 2(xw + b)
    y.backward()
    z = x.numpy() @ w.detach().numpy() + b.detach().numpy()
    dw, db = x.numpy().T @ (2 * z), (2 * z).sum(axis=0)
    source = gv.draw(y, params={"w": w, "b": b}).source
    assert "grad " + " ".join(f"{v:.4g}" for v in dw.reshape(-1)) in source
    assert "grad " + " ".join(f"{v:.4g}" for v in db) in source


def test_a_custom_functions_saved_tensors_are_drawn():
    class Clamp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x > 0)

    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    source = gv.draw(Clamp.apply(x).sum(), params={"x": x}).source
    assert "label=ClampBackward " in source
    assert 'label="x\\n(3,)\\ndata 0.5 -1 2" fillcolor="#ffe0b2"' in source  # ctx.save_for_backward(x)


def test_a_deep_unrecorded_chain_draws_without_recursion():
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit
        y = y * 1.0001
    source = gv.draw(y).source
    assert source.count("label=MulBackward0 ") == 3000


def test_a_tensor_without_grad_fn_gets_one_message():
    with torch.no_grad():
        y = nn.Linear(3, 1)(torch.randn(2, 3)).sum()
    with pytest.raises(gv.GradvizError, match="has no grad_fn") as info:
        gv.draw(y)
    assert "requires_grad=True" in str(info.value)
    with pytest.raises(gv.GradvizError, match="params must be a dict"):
        gv.torch.draw(y, params=[1, 2])
    w = torch.tensor([1.5, -2.0], requires_grad=True)  # a leaf has no grad_fn, yet is a graph: torchviz draws it
    assert 'label="w\\n(2,)\\ndata 1.5 -2"' in gv.draw(w, params={"w": w}).source


def test_a_torch_output_renders_for_slides(tmp_path):
    w = torch.tensor([0.5, -1.5], dtype=torch.float64, requires_grad=True)
    y = torch.tanh(torch.tanh(w * 2.0).exp()).sum()  # a chain of ops: torchviz draws it taller than wide
    plain = png_size(gv.render(y, tmp_path / "plain.png", params={"w": w}))
    sharp = png_size(gv.render(y, tmp_path / "sharp.png", params={"w": w}, dpi=192))
    wide = png_size(gv.render(y, tmp_path / "wide.png", params={"w": w}, landscape=True))
    assert plain[1] > plain[0] and wide[0] > wide[1]  # laid out left to right for a slide
    assert sharp == pytest.approx((2 * plain[0], 2 * plain[1]), abs=4)
    assert "rankdir=LR" in gv.render(y, tmp_path / "wide.dot", landscape=True).read_text()


def png_size(path) -> tuple:
    """Width and height from the PNG header, read without gradviz."""
    import struct

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_torch_checks_carry_no_sympy_twin_noise():
    class Clamp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x > 0)

    x = torch.tensor([0.5, -1.0, 2.0, -0.3], dtype=torch.float64)
    report = gv.torch.check(lambda x: Clamp.apply(x).sum(), x)
    assert report.ok
    for text in (str(report), report.to_markdown(), json.dumps(report.to_dict()["warnings"])):
        assert "symbolic twin" not in text and "SymPy column composes" not in text
    torch.manual_seed(0)
    big = gv.torch.check(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double(),
                         torch.randn(2, 3, dtype=torch.float64))
    assert big.ok and not [w for w in big.warnings if "SymPy" in w]  # > 40 elements: no composing note either
    asked = gv.torch.check(lambda x: Clamp.apply(x).sum(), x, methods=("finite", "symbolic"))
    assert any("symbolic twin" in w for w in asked.warnings)  # asked for SymPy: told why it could not run

