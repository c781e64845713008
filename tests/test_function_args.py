"""User ops (gv.Function, torch Functions) with 0-d values, constant arguments, index arrays and broadcast inputs.

Each op is checked twice: written correctly it must PASS, with one planted slip it must FAIL with the
right cause. Oracles are written here: closed-form derivatives and central differences of numpy code.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gradviz as gv


def central(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Our own finite differences of a scalar function of one array."""
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[j] += eps
        down[j] -= eps
        g[j] = (f(up) - f(down)) / (2 * eps)
    return g


class Cube(gv.Function):
    @staticmethod
    def forward(x):
        return x ** 3

    @staticmethod
    def backward(grad, x, out):
        return 3 * x ** 2 * grad


class CubeSlip(Cube):
    @staticmethod
    def backward(grad, x, out):
        return 2 * x ** 2 * grad


def causes(report) -> set:
    return {d.cause for r in report.results for d in r.diagnosis} | {d.cause for n in report.nodes for d in n.diagnosis}


# --- W1: 0-d inputs and outputs are deterministic, through every entry point -----------------------

def test_zero_d_tensor_through_a_user_op_passes_and_the_slip_fails():
    x = gv.Tensor(np.array(0.4), label="x")
    good = gv.check(lambda x: Cube.apply(x), x)
    assert good.status == "PASS", good.verdict
    assert good.results[0].autograd.item() == pytest.approx(3 * 0.4 ** 2)  # closed form d/dx x^3
    bad = gv.check(lambda x: CubeSlip.apply(x), x)
    assert bad.status == "FAIL" and "different outputs" not in bad.verdict


def test_zero_d_torch_function_and_plain_function():
    torch = pytest.importorskip("torch")

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class SquareSlip(Square):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return x * g

    t = torch.tensor(0.3, dtype=torch.float64)
    for fn in (Square, lambda x: x * x):
        report = gv.torch.check(fn, t)
        assert report.status == "PASS", report.verdict
        assert report.results[0].autograd.item() == pytest.approx(0.6)  # d/dx x^2 at 0.3
    bad = gv.torch.check(SquareSlip, t)
    assert bad.status == "FAIL", bad.verdict
    assert "different outputs" not in bad.verdict


def test_zero_d_input_from_the_command_line(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "ops.py").write_text(textwrap.dedent("""
        import torch

        class Softplus(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return torch.log1p(torch.exp(x))

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * torch.sigmoid(x)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-m", "gradviz", "check", "ops.py:Softplus", "--input", "x=0.3"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout and "x ()" in done.stdout
    assert f"{1 / (1 + np.exp(-0.3)):.6g}"[:6] in done.stdout  # sigmoid(0.3), the derivative of softplus


# --- W6: a float constant (eps) whose gradient backward declares None is not perturbed ---------------

class LayerNorm(gv.Function):
    @staticmethod
    def forward(x, eps):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps)

    @staticmethod
    def backward(grad, x, eps, out):
        rstd = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
        return rstd * (grad - grad.mean(-1, keepdims=True) - out * (grad * out).mean(-1, keepdims=True)), None


class LayerNormSlip(LayerNorm):
    @staticmethod
    def backward(grad, x, eps, out):  # forgets the term through the variance
        rstd = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
        return rstd * (grad - grad.mean(-1, keepdims=True)), None


def test_layernorm_with_a_float_eps_passes_and_its_slip_is_found():
    rng = np.random.default_rng(3)
    x0, weights = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    x = gv.Tensor(x0, label="x")
    good = gv.check(lambda x: (LayerNorm.apply(x, 1e-5) * weights).sum(), x)
    assert good.status == "PASS", good.verdict
    assert all(n.status == "PASS" for n in good.nodes)
    expected = central(lambda a: float(np.sum((a - a.mean(-1, keepdims=True))
                                              / np.sqrt(a.var(-1, keepdims=True) + 1e-5) * weights)), x0)
    x.zero_grad()
    (LayerNorm.apply(x, 1e-5) * weights).sum().backward()
    assert np.allclose(x.grad, expected, atol=1e-6)
    bad = gv.check(lambda x: (LayerNormSlip.apply(x, 1e-5) * weights).sum(), x)
    assert bad.status == "FAIL"
    assert [n.op for n in bad.nodes if n.status == "FAIL"][:1] == ["LayerNormSlip"]


def test_a_value_op_with_a_constant_whose_gradient_is_none():
    class Shrink(gv.Function):  # x / (1 + c), c a constant of the op
        @staticmethod
        def forward(x, c):
            return x / (1 + c)

        @staticmethod
        def backward(grad, x, c, out):
            return grad / (1 + c), None

    x = gv.Value(0.7, label="x")
    report = gv.check(lambda x: Shrink.apply(x, 0.5) * x, x)
    assert report.status == "PASS", report.verdict
    assert report.results[0].autograd.item() == pytest.approx(2 * 0.7 / 1.5)  # d/dx x^2 / 1.5


# --- W7: an integer index argument stays integer data ------------------------------------------------

class Embed(gv.Function):
    @staticmethod
    def forward(W, idx):
        return W[idx]

    @staticmethod
    def backward(grad, W, idx, out):
        dW = np.zeros_like(W)
        np.add.at(dW, idx, grad)
        return dW, None


class EmbedBuffered(Embed):
    @staticmethod
    def backward(grad, W, idx, out):
        dW = np.zeros_like(W)
        dW[idx] += grad
        return dW, None


def test_embedding_with_an_integer_index_array():
    W0 = np.random.default_rng(1).standard_normal((5, 3))
    idx = np.array([1, 1, 3, 0, 1])
    weights = np.random.default_rng(2).standard_normal((5, 3))
    W = gv.Tensor(W0, label="W")
    good = gv.check(lambda W: (Embed.apply(W, idx) * weights).sum(), W)
    assert good.status == "PASS", good.verdict
    expected = central(lambda a: float(np.sum(a[idx] * weights)), W0)
    out = (Embed.apply(W, idx) * weights).sum()
    W.zero_grad()
    out.backward()
    assert np.allclose(W.grad, expected, atol=1e-6)
    bad = gv.check(lambda W: (EmbedBuffered.apply(W, idx) * weights).sum(), W)
    assert bad.status == "FAIL"
    assert "repeated_indices_lost" in causes(bad), bad
    assert "np.add.at(dW, idx, dout)" in str(bad)


# --- W9: a user backward must return each gradient in its input's shape ------------------------------

class BiasAdd(gv.Function):
    @staticmethod
    def forward(x, b):
        return x + b

    @staticmethod
    def backward(grad, x, b, out):
        return grad, grad.sum(axis=0)


class BiasAddKept(BiasAdd):
    @staticmethod
    def backward(grad, x, b, out):
        return grad, grad


def test_a_user_op_keeping_the_broadcast_axis_fails_with_its_cause():
    rng = np.random.default_rng(4)
    x, b = gv.Tensor(rng.standard_normal((4, 3)), label="x"), gv.Tensor(rng.standard_normal(3), label="b")
    good = gv.check(lambda x, b: BiasAdd.apply(x, b), x, b)
    assert good.status == "PASS", good.verdict
    bad = gv.check(lambda x, b: BiasAddKept.apply(x, b), x, b)
    assert bad.status == "FAIL"
    b_result = next(r for r in bad.results if r.name == "b")
    assert "broadcast_kept" in {d.cause for d in b_result.diagnosis}, bad
    assert "(4, 3)" in str(bad) and "(3,)" in str(bad)
    with pytest.raises(gv.GradvizError, match="shape"):
        BiasAddKept.apply(x, b).sum().backward()
    b.zero_grad()
    (x + b).sum().backward()  # built-in broadcasting ops still sum back
    assert np.allclose(b.grad, np.full(3, 4.0))


def test_an_elementwise_user_op_is_summed_back_like_a_built_in():
    class Hypot(gv.Function):
        elementwise = True

        @staticmethod
        def forward(a, b):
            return np.sqrt(a * a + b * b)

        @staticmethod
        def backward(grad, a, b, out):
            return grad * a / out, grad * b / out

    a0, b0 = np.array([1.0, -2.0, 0.5]), np.array([[3.0], [4.0]])
    a, b = gv.Tensor(a0, label="a"), gv.Tensor(b0, label="b")
    report = gv.check(lambda a, b: Hypot.apply(a, b).sum(), a, b)
    assert report.status == "PASS", report.verdict
    assert np.allclose(report.results[0].autograd, central(lambda x: float(np.sqrt(x * x + b0 * b0).sum()), a0))


# --- the per-node diagnosis names the slip: a matmul operand without .T, a 1-D convolution's flipped kernel ---

class MatMul(gv.Function):
    @staticmethod
    def forward(a, b):
        return a @ b

    @staticmethod
    def backward(grad, a, b, out):
        return grad @ b.T, a.T @ grad


class MatMulNoT(MatMul):
    @staticmethod
    def backward(grad, a, b, out):
        return grad @ b, a.T @ grad


def test_a_matmul_operand_without_its_transpose_is_named():
    rng = np.random.default_rng(5)
    a0, b0, weights = rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    a, b = gv.Tensor(a0, label="a"), gv.Tensor(b0, label="b")
    good = gv.check(lambda a, b: (MatMul.apply(a, b) * weights).sum(), a, b)
    assert good.status == "PASS", good.verdict
    assert np.allclose(good.results[0].autograd, central(lambda x: float(np.sum(x @ b0 * weights)), a0), atol=1e-6)
    bad = gv.check(lambda a, b: (MatMulNoT.apply(a, b) * weights).sum(), a, b)
    [da] = [r for r in bad.results if r.name == "a"]
    assert da.status == "FAIL" and da.diagnosis[0].cause == "transposed", bad
    assert "dout @ b.T" in str(da.diagnosis[0])
    assert [r.status for r in bad.results if r.name == "b"] == ["PASS"]


def _conv1d(x, w):
    k = w.shape[2]
    cols = np.stack([x[:, :, j:j + x.shape[2] - k + 1] for j in range(k)], axis=-1)  # (N, C, L_out, K)
    return np.einsum("nclk,ock->nol", cols, w)


class Conv1d(gv.Function):
    flip = False

    @staticmethod
    def forward(x, w):
        return _conv1d(x, w)

    @classmethod
    def _backward(cls, grad, x, w):
        k, length = w.shape[2], grad.shape[2]
        dx = np.zeros_like(x)
        used = w[:, :, ::-1] if cls.flip else w
        for j in range(k):
            dx[:, :, j:j + length] += np.einsum("nol,oc->ncl", grad, used[:, :, j])
        cols = np.stack([x[:, :, j:j + length] for j in range(k)], axis=-1)
        return dx, np.einsum("nol,nclk->ock", grad, cols)

    @staticmethod
    def backward(grad, x, w, out):
        return Conv1d._backward(grad, x, w)


class Conv1dFlipped(Conv1d):
    flip = True

    @staticmethod
    def backward(grad, x, w, out):
        return Conv1dFlipped._backward(grad, x, w)


def test_a_flipped_kernel_in_a_1d_convolution_is_named():
    rng = np.random.default_rng(6)
    x0, w0 = rng.standard_normal((2, 3, 7)), rng.standard_normal((4, 3, 3))
    weights = rng.standard_normal((2, 4, 5))
    x, w = gv.Tensor(x0, label="x"), gv.Tensor(w0, label="w")
    good = gv.check(lambda x, w: (Conv1d.apply(x, w) * weights).sum(), x, w)
    assert good.status == "PASS", good.verdict
    assert np.allclose(good.results[0].autograd, central(lambda a: float(np.sum(_conv1d(a, w0) * weights)), x0),
                       atol=1e-6)
    bad = gv.check(lambda x, w: (Conv1dFlipped.apply(x, w) * weights).sum(), x, w)
    [dx] = [r for r in bad.results if r.name == "x"]
    assert dx.status == "FAIL" and "flipped_kernel" in {d.cause for d in dx.diagnosis}, bad


def test_a_torch_embedding_that_overwrites_repeated_indices_is_named():
    torch = pytest.importorskip("torch")

    class Embedding(torch.autograd.Function):
        @staticmethod
        def forward(ctx, weight, idx):
            ctx.save_for_backward(idx)
            ctx.rows = weight.shape[0]
            return weight[idx]

        @staticmethod
        def backward(ctx, g):
            (idx,) = ctx.saved_tensors
            gw = torch.zeros(ctx.rows, g.shape[-1], dtype=g.dtype)
            gw.index_add_(0, idx, g)
            return gw, None

    class EmbeddingOverwrite(Embedding):
        @staticmethod
        def backward(ctx, g):
            (idx,) = ctx.saved_tensors
            gw = torch.zeros(ctx.rows, g.shape[-1], dtype=g.dtype)
            gw[idx] = g  # the last of each repeated index wins
            return gw, None

    W0 = np.random.default_rng(7).standard_normal((5, 3))
    idx = torch.tensor([1, 1, 3, 0, 1, 2, 2, 4])
    good = gv.torch.check(Embedding, torch.tensor(W0), idx)
    assert good.status == "PASS", good.verdict
    counts = np.bincount(idx.numpy(), minlength=5)[:, None] * np.ones((1, 3))
    assert np.allclose(central(lambda a: float(a[idx.numpy()].sum()), W0), counts)  # the oracle for sum(out)
    bad = gv.torch.check(EmbeddingOverwrite, torch.tensor(W0), idx)
    assert bad.status == "FAIL"
    assert "repeated_indices_lost" in causes(bad), bad


def test_a_forward_whose_output_changes_shape_is_told_apart_from_randomness():
    calls = []

    def shifty(x):  # the same numbers, but the shape moves after the first call
        calls.append(1)
        return x * 2 if len(calls) == 1 else (x * 2).reshape(1, 3)

    report = gv.check(shifty, gv.Tensor(np.array([1.0, 2.0, 3.0]), label="x"))
    assert report.status == "ERROR"
    assert "shape (3,)" in report.verdict and "(1, 3)" in report.verdict
    assert "randomness" not in report.verdict
