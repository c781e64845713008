"""conv2d and pooling against slow loop references written here, and through gv.check."""

import numpy as np
import pytest

import gradviz as gv
from gradviz import F

from oracles import central_gradient

rng = np.random.default_rng(5)


def conv_reference(x, w, b, stride, padding):
    """The four nested loops of a course assignment: the independent slow reference."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, c, h, wd = xp.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, (h - kh) // sh + 1, (wd - kw) // sw + 1))
    for b_ in range(n):
        for o_ in range(o):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[b_, o_, i, j] = np.sum(xp[b_, :, i * sh:i * sh + kh, j * sw:j * sw + kw] * w[o_])
                    out[b_, o_, i, j] += 0.0 if b is None else b[o_]
    return out


def pool_reference(x, kernel, stride, reduce):
    n, c, h, w = x.shape
    out = np.zeros((n, c, (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            win = x[:, :, i * stride[0]:i * stride[0] + kernel[0], j * stride[1]:j * stride[1] + kernel[1]]
            out[:, :, i, j] = reduce(win, axis=(2, 3))
    return out


CONV_CONFIGS = [
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 0),
    ((2, 3, 7, 7), (4, 3, 3, 3), 2, 1),
    ((1, 1, 5, 6), (2, 1, 3, 2), 1, 2),  # C_in = 1, non-square kernel, padding 2
    ((2, 2, 5, 5), (3, 2, 1, 1), (2, 1), 0),  # 1x1 kernel, pair stride
    ((1, 2, 6, 5), (2, 2, 3, 3), 1, (1, 0)),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,padding", CONV_CONFIGS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_and_backward_match_loop_reference(x_shape, w_shape, stride, padding, bias):
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[0]) if bias else None
    s = stride if isinstance(stride, tuple) else (stride, stride)
    p = padding if isinstance(padding, tuple) else (padding, padding)
    ref = conv_reference(x, w, b, s, p)
    tx, tw = gv.Tensor(x), gv.Tensor(w)
    tb = gv.Tensor(b) if bias else None
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    R = rng.normal(size=ref.shape)
    (out * R).sum().backward()
    arrays = [x, w] + ([b] if bias else [])
    numeric = central_gradient(lambda *a: float(np.sum(conv_reference(a[0], a[1], a[2] if bias else None, s, p) * R)),
                               arrays)
    for t, n in zip([tx, tw] + ([tb] if bias else []), numeric):
        np.testing.assert_allclose(t.grad, n, rtol=1e-6, atol=1e-7)


POOL_CONFIGS = [((2, 3, 4, 4), 2, None), ((1, 2, 5, 5), 3, 2), ((1, 2, 5, 6), (2, 3), 1), ((2, 1, 5, 4), 2, None)]


@pytest.mark.parametrize("shape,kernel,stride", POOL_CONFIGS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_loop_reference(shape, kernel, stride, kind):
    x = rng.normal(size=shape)
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    s = k if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    reduce = np.max if kind == "max" else np.mean
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    tx = gv.Tensor(x)
    out = fn(tx, kernel, stride)
    np.testing.assert_allclose(out.data, pool_reference(x, k, s, reduce))
    R = rng.normal(size=out.shape)
    (out * R).sum().backward()
    numeric = central_gradient(lambda a: float(np.sum(pool_reference(a, k, s, reduce) * R)), [x])[0]
    np.testing.assert_allclose(tx.grad, numeric, rtol=1e-6, atol=1e-7)


def test_max_pool_tie_sends_the_gradient_to_the_first_maximum_only():
    x = gv.Tensor(np.array([[[[1.0, 2.0], [2.0, 0.0]]]]))
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 1], [0, 0]])
    report = gv.check(lambda t: F.max_pool2d(t, 2).sum(), gv.Tensor(x.data, label="x"))
    assert report.ok and "max pooling is not differentiable" in report.verdict


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, 2)])
def test_conv_and_pool_pass_all_three_oracles(stride, padding):
    x = gv.Tensor(rng.normal(size=(1, 2, 5, 5)), label="x")
    w = gv.Tensor(rng.normal(size=(2, 2, 3, 3)), label="w")
    b = gv.Tensor(rng.normal(size=2), label="b")
    report = gv.check(lambda x, w, b: F.avg_pool2d(F.conv2d(x, w, b, stride, padding).tanh(), 2, 1).sum(), x, w, b)
    assert report.ok, str(report)
    assert all(row.symbolic is not None for row in report.rows())
    assert all(n.status == "PASS" for n in report.nodes)


def test_conv_and_pool_bad_shapes_are_clear_errors():
    x = gv.Tensor(np.ones((1, 3, 4, 4)))
    with pytest.raises(gv.ShapeError, match="3 channels but weight expects 2"):
        F.conv2d(x, np.ones((4, 2, 3, 3)))
    with pytest.raises(gv.ShapeError, match="larger than the padded input"):
        F.conv2d(x, np.ones((1, 3, 5, 5)))
    with pytest.raises(gv.ShapeError, match=r"bias must have shape \(4,\)"):
        F.conv2d(x, np.ones((4, 3, 3, 3)), np.ones(3))
    with pytest.raises(gv.ShapeError, match="N, C, H, W"):
        F.max_pool2d(gv.Tensor(np.ones((4, 4))), 2)
    with pytest.raises(gv.ShapeError, match="larger than the input"):
        F.avg_pool2d(x, 5)


def test_functional_elementwise_accepts_numbers_and_rejects_text():
    assert F.tanh(0.0).data == 0.0
    assert F.exp(gv.Tensor([0.0, 1.0])).shape == (2,)
    with pytest.raises(gv.GradvizTypeError, match="log\\(\\) needs a Value, Tensor or number, got str 'abc'"):
        F.log("abc")


def test_max_pool_backward_uses_the_positions_its_forward_found():
    # Change the input between forward and backward: a backward that searched again
    # would send the gradient to the new maximum, one that reuses the forward's finds
    # sends it where the output came from.
    x = gv.Tensor(np.array([[[[1.0, 5.0], [2.0, 0.0]]]]))
    out = F.max_pool2d(x, 2)
    x.data[0, 0, 0, 1], x.data[0, 0, 1, 1] = 0.0, 5.0  # the output's value now sits elsewhere
    out.sum().backward()
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 1], [0, 0]])


@pytest.mark.parametrize("kernel,stride", [(3, 1), (2, 1), ((2, 3), (1, 2))])
def test_max_pool_with_overlapping_windows_adds_up_each_windows_gradient(kernel, stride):
    x = rng.normal(size=(2, 2, 6, 7))
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    s = stride if isinstance(stride, tuple) else (stride, stride)
    tx = gv.Tensor(x)
    out = F.max_pool2d(tx, kernel, stride)
    g = rng.normal(size=out.shape)
    out.backward(g)
    expected = np.zeros_like(x)
    for index in np.ndindex(out.shape):
        n, c, i, j = index
        window = x[n, c, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
        p, q = np.unravel_index(np.argmax(window), window.shape)
        expected[n, c, i * s[0] + p, j * s[1] + q] += g[index]
    np.testing.assert_allclose(tx.grad, expected, rtol=1e-15, atol=0)


def test_conv2d_backward_reuses_the_windows_of_its_forward():
    x = gv.Tensor(rng.normal(size=(1, 1, 4, 4)), requires_grad=False)
    w = gv.Tensor(rng.normal(size=(1, 1, 3, 3)))
    before = x.data.copy()
    out = F.conv2d(x, w)
    x.data[...] = 0.0  # a backward that rebuilt the windows from x would now give zeros
    out.sum().backward()
    # d(sum of outputs)/d w[p, q] = the sum of the 2x2 block of x that w[p, q] meets
    np.testing.assert_allclose(w.grad[0, 0], [[before[0, 0, p:p + 2, q:q + 2].sum() for q in range(3)]
                                              for p in range(3)])
