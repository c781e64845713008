"""Hand-written pooling and convolution backward passes in styles gradviz was not written for (a new-user pass).

The pass found: a correct max pool with overlapping windows (3x3, stride 2) FAILED at ties ("the gradient goes to
the minimum of each window"), because an element tied in several windows whose upstream gradients differ in sign
lies outside its own one-sided slopes while being a valid subgradient; the same pool's classic slip (`dx[...] =`
where windows overlap, also in an adaptive average pool) had no name; an adaptive average pool's slip crashed the
diagnosis with a traceback; and layers keeping a sliding_window_view on `self` (a depthwise convolution, a 1-D
convolution with a (F, 1) bias) crashed gradviz with a traceback. Each fixture (tests/unseen_code/pool_conv_styles.py)
is correct and has a planted bug; the truth of each is set here by central differences of the fixture's own
forward, and gradviz's verdict must name exactly the arrays that oracle finds wrong. A small CNN whose dense layer
computed dx from the weights its backward(dout, lr) had just updated was told "the chain rule is applied only in
part"; it is now named used_after_update.
"""

import numpy as np
import pytest

import gradviz as gv
from unseen_code import pool_conv_styles as m

FAIL, NONDIFF = "FAIL", "NONDIFF"


def _fd(f, arr, eps=1e-6):
    """Central differences of the scalar f() in every element of arr (perturbed in place and put back)."""
    g = np.zeros(arr.shape)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        up = f()
        arr[i] = old - eps
        down = f()
        arr[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def _wrong(pairs):
    """The names whose gradient disagrees with the oracle."""
    return {name for name, (yours, true) in pairs.items()
            if np.shape(yours) != true.shape or not np.allclose(yours, true, rtol=1e-5, atol=1e-7)}


def _failed(report):
    return {r.name for r in report.results if r.status == FAIL}


def _inputs(*shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


# -- function pairs: (forward, backward, names, shapes, the forward returns a cache) -----------------------------------
PAIRS = {
    "maxpool_overlap": (m.maxpool_overlap_forward, "maxpool_overlap_backward", ["x"], [(2, 2, 7, 7)], True),
    "adaptive_avgpool": (m.adaptive_avgpool_forward, "adaptive_avgpool_backward", ["x"], [(2, 2, 5, 5)], True),
    "avgpool_kron": (m.avgpool_kron_forward, "avgpool_kron_backward", ["x"], [(2, 2, 4, 4)], False),
    "dilated_conv": (m.dilated_conv_forward, "dilated_conv_backward", ["x", "w", "b"],
                     [(2, 2, 7, 7), (3, 2, 3, 3), (3,)], False),
    "same_conv": (m.same_conv_forward, "same_conv_backward", ["x", "w"], [(2, 2, 5, 5), (3, 2, 4, 4)], True),
    "einsum_conv": (m.einsum_conv_forward, "einsum_conv_backward", ["x", "w", "b"],
                    [(2, 2, 7, 7), (3, 2, 3, 3), (3,)], True),
    "upsample": (m.upsample_forward, "upsample_backward", ["x"], [(2, 2, 3, 3)], False),
}


def _pair_oracle(fwd, bwd, names, arrays, cached):
    out = fwd(*arrays)
    y = out[0] if cached else out
    R = np.random.default_rng(2).normal(size=y.shape)
    grads = bwd(R, out[1]) if cached else bwd(R, *arrays)
    grads = grads if isinstance(grads, tuple) else (grads,)

    def f():
        o = fwd(*arrays)
        return np.sum((o[0] if cached else o) * R)

    return _wrong({n: (g, _fd(f, a)) for n, g, a in zip(names, grads, arrays)})


@pytest.mark.parametrize("case", sorted(PAIRS))
@pytest.mark.parametrize("bug", [False, True])
def test_a_pair_is_judged_as_the_oracle_judges_it(case, bug):
    fwd, bwd_name, names, shapes, cached = PAIRS[case]
    bwd = getattr(m, bwd_name + ("_bug" if bug else ""))
    truth = _pair_oracle(fwd, bwd, names, _inputs(*shapes), cached)
    assert bool(truth) == bug  # the planted slip is visible to the oracle, the correct version is right
    report = gv.check_pair(fwd, bwd, *_inputs(*shapes))
    assert _failed(report) == truth, str(report)
    assert report.ok == (not bug)


@pytest.mark.parametrize("fwd, bwd, shape", [
    (m.maxpool_overlap_forward, m.maxpool_overlap_backward_bug, (2, 2, 7, 7)),
    (m.adaptive_avgpool_forward, m.adaptive_avgpool_backward_bug, (2, 2, 5, 5)),
])
def test_assigning_where_windows_overlap_is_named(fwd, bwd, shape):
    report = gv.check_pair(fwd, bwd, *_inputs(shape))
    [result] = report.results
    assert result.status == FAIL and result.diagnosis[0].cause == "overlap_assigned", str(report)
    assert "where windows overlap" in str(result.diagnosis[0]) and "+=" in str(result.diagnosis[0])


def test_a_correct_overlapping_max_pool_at_ties_is_a_valid_subgradient_not_a_failure():
    """Constant input: every window is a tie; an element shared by windows whose douts differ in sign."""
    x = np.ones((1, 2, 7, 7))
    out, cache = m.maxpool_overlap_forward(x)
    R = np.random.default_rng(0).normal(size=out.shape)
    yours = m.maxpool_overlap_backward(R, cache)
    # the oracle: yours is the exact gradient of the smooth piece where each window's first element is its maximum
    piece = x - 1e-3 * np.arange(x.size).reshape(x.shape) / x.size
    assert np.allclose(yours, _fd(lambda: np.sum(m.maxpool_overlap_forward(piece)[0] * R), piece), atol=1e-6)
    up = _fd(lambda: np.sum(m.maxpool_overlap_forward(x)[0] * R), x)  # not inside every element's own slopes:
    assert np.any(np.abs(yours - up) > 0.1)
    report = gv.check_pair(m.maxpool_overlap_forward, m.maxpool_overlap_backward, x)
    assert report.results[0].status == NONDIFF and report.ok, str(report)
    assert not report.results[0].diagnosis


def test_every_tied_maximum_getting_the_gradient_still_fails_at_ties():
    x = np.ones((2, 2, 4, 4))
    layer = m.MaxPoolMaskBug()
    R = np.random.default_rng(0).normal(size=layer.forward(x).shape)
    assert np.allclose(layer.backward(R).reshape(2, 2, 2, 2, 2, 2).sum(axis=(3, 5)), 4 * R)  # 4x the upstream total
    report = gv.check_layer(m.MaxPoolMaskBug(), x)
    assert report.results[0].status == FAIL and report.results[0].diagnosis[0].cause == "pool_all_ties"
    assert gv.check_layer(m.MaxPoolMask(), x).results[0].status == NONDIFF


# -- layer classes: (make, input shape, parameter attributes, their gradients' attributes) -------------------------------
LAYERS = {
    "MaxPoolArgmax": (lambda bug: (m.MaxPoolArgmaxBug if bug else m.MaxPoolArgmax)(), (2, 2, 4, 4), {}),
    "GlobalAvgPool": (lambda bug: (m.GlobalAvgPoolBug if bug else m.GlobalAvgPool)(), (2, 3, 4, 4), {}),
    "Flatten": (lambda bug: (m.FlattenBug if bug else m.Flatten)(), (2, 3, 2, 2), {}),
    "DepthwiseConv": (lambda bug: (m.DepthwiseConvBug if bug else m.DepthwiseConv)(2), (2, 2, 5, 5),
                      {"W": "dW", "b": "db"}),
    "Conv1D": (lambda bug: (m.Conv1DBug if bug else m.Conv1D)(2, 3), (2, 2, 6), {"W": "dW", "b": "db"}),
}


def _layer_oracle(layer, x, params):
    R = np.random.default_rng(2).normal(size=layer.forward(x).shape)
    dx = layer.backward(R)
    pairs = {"x": (dx, _fd(lambda: np.sum(layer.forward(x) * R), x))}
    for name, grad in params.items():
        pairs[name] = (getattr(layer, grad), _fd(lambda: np.sum(layer.forward(x) * R), getattr(layer, name)))
    return _wrong(pairs)


@pytest.mark.parametrize("case", sorted(LAYERS))
@pytest.mark.parametrize("bug", [False, True])
def test_a_layer_is_judged_as_the_oracle_judges_it(case, bug):
    make, shape, params = LAYERS[case]
    truth = _layer_oracle(make(bug), *_inputs(shape), params)
    assert bool(truth) == bug
    report = gv.check_layer(make(bug), *_inputs(shape))
    assert {"x" if r.name in ("x", "X", "input", "inputs") else r.name for r in report.results
            if r.status == FAIL} == truth, str(report)
    assert report.ok == (not bug)


def test_a_layer_keeping_a_read_only_window_view_on_self_is_checked():
    """sliding_window_view is read-only: putting the layer back between calls must not write through it."""
    layer, x = m.Conv1D(2, 3), _inputs((2, 2, 6))[0]
    assert not (layer.forward(x), layer.cols)[1].flags.writeable
    report = gv.check_layer(layer, x)
    assert report.ok and {r.name for r in report.results} >= {"W", "b"}, str(report)
    assert np.array_equal(layer.forward(x), m.Conv1D(2, 3).forward(x))  # the layer is left as it was made


@pytest.mark.parametrize("bug", [False, True])
def test_a_small_cnn_of_lr_updating_layers(bug):
    """conv -> relu -> pool -> flatten -> dense, each backward(dout, lr) updating its weights."""
    net, x = (m.SmallCNNBug if bug else m.SmallCNN)(), _inputs((2, 1, 6, 6))[0]
    R = np.random.default_rng(2).normal(size=net.forward(x).shape)
    conv, dense = net.layers[0], net.layers[4]
    f = lambda: np.sum(net.forward(x) * R)  # noqa: E731
    true = {"x": _fd(f, x), "layers[0].kernels": _fd(f, conv.kernels), "layers[0].biases": _fd(f, conv.biases),
            "layers[4].weights": _fd(f, dense.weights), "layers[4].bias": _fd(f, dense.bias)}
    before = {"layers[0].kernels": conv.kernels.copy(), "layers[0].biases": conv.biases.copy(),
              "layers[4].weights": dense.weights.copy(), "layers[4].bias": dense.bias.copy()}
    net.forward(x)
    lr = 1e-3
    dx = net.backward(R, lr)
    after = {"layers[0].kernels": conv.kernels, "layers[0].biases": conv.biases,
             "layers[4].weights": dense.weights, "layers[4].bias": dense.bias}
    yours = {"x": dx, **{k: (before[k] - after[k]) / lr for k in before}}
    truth = _wrong({k: (yours[k], true[k]) for k in true})
    assert truth == ({"x", "layers[0].kernels", "layers[0].biases"} if bug else set())
    report = gv.check_layer((m.SmallCNNBug if bug else m.SmallCNN)(), x)
    assert _failed(report) == truth, str(report)
    if bug:  # quadratic in dout, its linear part right: named as dx computed after the update, not as dout ignored
        assert {r.diagnosis[0].cause for r in report.results if r.status == FAIL} == {"used_after_update"}


def test_dx_from_weights_updated_in_the_same_backward_is_named():
    layer, x = m.DenseLayerLate(4, 3), _inputs((5, 4))[0]
    R = np.random.default_rng(2).normal(size=(5, 3))
    true = _fd(lambda: np.sum(layer.forward(x) * R), x)
    layer.forward(x)
    yours = m.DenseLayerLate.backward(layer, R, 1.0)  # lr = 1: the step gradviz reads the update at
    assert not np.allclose(yours, true) and np.allclose(m.DenseLayer(4, 3).backward.__func__(
        _fresh_forward(x), R, 1.0), true)
    report = gv.check_layer(m.DenseLayerLate(4, 3), x)
    assert _failed(report) == {"x"} and report.results[0].diagnosis[0].cause == "used_after_update", str(report)
    assert gv.check_layer(m.DenseLayer(4, 3), x).ok


def _fresh_forward(x):
    layer = m.DenseLayer(4, 3)
    layer.forward(x)
    return layer


@pytest.mark.parametrize("bug", [False, True])
def test_a_signal_style_conv_on_one_image_with_an_output_shaped_bias(bug):
    cls = m.SignalConvBug if bug else m.SignalConv
    layer, x = cls(), _inputs((2, 5, 5))[0]
    R = np.random.default_rng(2).normal(size=layer.forward(x).shape)
    f = lambda: np.sum(layer.forward(x) * R)  # noqa: E731
    true = {"input": _fd(f, x), "kernels": _fd(f, layer.kernels), "biases": _fd(f, layer.biases)}
    kernels, biases = layer.kernels.copy(), layer.biases.copy()
    layer.forward(x)
    yours = {"input": layer.backward(R, 1.0), "kernels": kernels - layer.kernels, "biases": biases - layer.biases}
    truth = _wrong({k: (yours[k], true[k]) for k in true})
    assert truth == ({"input"} if bug else set())
    report = gv.check_layer(cls(), x)
    assert _failed(report) == truth, str(report)
    if bug:
        assert report.results[0].diagnosis[0].cause == "flipped_kernel"


def test_a_gradient_unflattened_channels_last_is_named():
    report = gv.check_layer(m.FlattenBug(), *_inputs((2, 3, 2, 2)))
    [finding] = report.results[0].diagnosis[:1]
    assert finding.cause == "reshape_for_transpose" and "channels-last" in str(finding), str(report)
    assert "no simple pattern" not in report.verdict


def test_the_way_out_of_integer_data_works_on_the_command_line():
    """Tied values come from randint; the refusal of integer data says .astype(float), which --input now reads."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root, code = Path(__file__).resolve().parents[1], Path(m.__file__)
    target = f"{code}:maxpool_overlap_forward,maxpool_overlap_backward"
    env = {**os.environ, "PYTHONPATH": str(root)}

    def run(spec):
        return subprocess.run([sys.executable, "-m", "gradviz", "check", target, "--input", f"x={spec}", "--json"],
                              capture_output=True, text=True, env=env, timeout=120)

    refused = run("randint(0, 2, size=(2, 2, 7, 7))")
    assert refused.returncode == 2 and "astype(float)" in refused.stderr
    done = run("randint(0, 2, size=(2, 2, 7, 7)).astype(float)")
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"NONDIFF"' in done.stdout  # ties everywhere, and a correct overlapping pool is no failure there
    assert run("randint(0, 2, size=(2, 2, 7, 7)).astype(int)").returncode == 2


def test_a_depthwise_filter_gradient_summed_over_the_channels_is_named():
    report = gv.check_layer(m.DepthwiseConvBug(2), *_inputs((2, 2, 5, 5)))
    [result] = [r for r in report.results if r.status == FAIL]
    assert result.name == "W" and result.diagnosis[0].cause == "summed_as_shared", str(report)
    assert "axis 0" in str(result.diagnosis[0])


def test_a_global_average_pool_divided_by_the_height_only_is_a_factor_of_the_width():
    """The true gradient is constant over each image: a sum over one of its axes is a factor, and named as one."""
    report = gv.check_layer(m.GlobalAvgPoolBug(), *_inputs((2, 3, 4, 4)))
    finding = report.results[0].diagnosis[0]
    assert finding.cause != "summed_as_shared" and "4" in str(finding), str(report)
