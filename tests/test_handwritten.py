"""check_layer / check_loss / check_grad_fn on correct and buggy numpy code written here."""

import math

import numpy as np
import pytest

import gradviz as gv
from gradviz.checking.diagnosis import diagnose

rng = np.random.default_rng(0)


class Dense:
    """Course style: forward(A_prev) -> Z, backward(dZ, A_prev) -> (dA_prev, [dW, db])."""

    def __init__(self, n_in, n_out, bug=None):
        self.weights = rng.normal(size=(n_in, n_out))
        self.biases = rng.normal(size=(n_out,))
        self.bug = bug

    def forward(self, A_prev):
        return A_prev @ self.weights + self.biases

    def backward(self, dZ, A_prev):
        dW = A_prev.T @ dZ
        if self.bug == "batch":
            dW = dW / A_prev.shape[0]
        if self.bug == "transpose":
            dW = dW.T
        return dZ @ self.weights.T, [dW, dZ.sum(axis=0)]


class StoresGrads:
    """Returns only dx and stores self.dW / self.db, another common style."""

    def __init__(self):
        self.W = rng.normal(size=(3, 3))
        self.b = np.zeros(3)

    def forward(self, x):
        return np.tanh(x @ self.W + self.b)

    def backward(self, dZ, x):
        y = self.forward(x)
        d = dZ * (1 - y * y)
        self.dW, self.db = x.T @ d, d.sum(axis=0)
        return d @ self.W.T


class ConvNHWC:
    """A student's NHWC conv with padding; bug="pad0" slices the padding off as [pad:-pad]."""

    def __init__(self, pad, bug=None):
        self.W = rng.normal(size=(3, 3, 2, 2)) * 0.5  # kh, kw, C_in, C_out
        self.b = rng.normal(size=(2,))
        self.pad, self.bug = pad, bug

    def forward(self, A):
        p = self.pad
        Ap = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
        m, H, W_, _ = Ap.shape
        out = np.zeros((m, H - 2, W_ - 2, 2))
        for i in range(H - 2):
            for j in range(W_ - 2):
                out[:, i, j, :] = np.tensordot(Ap[:, i:i + 3, j:j + 3, :], self.W, axes=3) + self.b
        return out

    def backward(self, dZ, A):
        p = self.pad
        Ap = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
        dAp, dW = np.zeros_like(Ap), np.zeros_like(self.W)
        for i in range(dZ.shape[1]):
            for j in range(dZ.shape[2]):
                dAp[:, i:i + 3, j:j + 3, :] += np.tensordot(dZ[:, i, j, :], self.W, axes=([1], [3]))
                dW += np.tensordot(Ap[:, i:i + 3, j:j + 3, :], dZ[:, i, j, :], axes=([0], [0]))
        if self.bug == "pad0":
            dA = dAp[:, p:-p, p:-p, :]
        else:
            dA = dAp[:, p:Ap.shape[1] - p, p:Ap.shape[2] - p, :]
        return dA, [dW, dZ.sum(axis=(0, 1, 2))]


class MaxPool1D:
    """Windows of 2; bug="all_ties" sends the full gradient to every tied maximum."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        return x.reshape(-1, 2).max(axis=1)

    def backward(self, dZ, x):
        w = x.reshape(-1, 2)
        if self.bug == "all_ties":
            mask = (w == w.max(axis=1, keepdims=True)).astype(float)
        else:
            mask = np.zeros_like(w)
            mask[np.arange(len(w)), w.argmax(axis=1)] = 1.0
        return (mask * dZ[:, None]).reshape(x.shape)


class MSE:
    def __init__(self, bug=None):
        self.bug = bug

    def compute(self, y_hat, y):
        return np.mean((y_hat - y) ** 2)

    def backward(self, y_hat, y):
        g = 2 * (y_hat - y)
        if self.bug == "sign":
            return -g / y_hat.size
        return g if self.bug == "batch" else g / y_hat.size


class Log2Loss:
    def compute(self, y_hat, y):
        return -np.sum(y * np.log2(y_hat))

    def backward(self, y_hat, y):
        return -y / y_hat  # derivative of the natural log: off by 1/ln 2


def test_correct_dense_layer_passes_input_and_parameters():
    report = gv.check_layer(Dense(4, 3), rng.normal(size=(5, 4)))
    assert report.ok, str(report)
    assert [r.name for r in report.results] == ["A_prev", "weights", "biases"]


def test_dense_with_an_extra_batch_division_is_diagnosed():
    report = gv.check_layer(Dense(4, 3, bug="batch"), rng.normal(size=(5, 4)))
    weights = next(r for r in report.results if r.name == "weights")
    assert weights.status == "FAIL"
    assert "batch size (5)" in weights.diagnosis[0] and "too often" in weights.diagnosis[0]
    assert {r.name: r.status for r in report.results}["A_prev"] == "PASS"


def test_transposed_gradient_is_diagnosed():
    report = gv.check_layer(Dense(3, 3, bug="transpose"), rng.normal(size=(4, 3)))
    weights = next(r for r in report.results if r.name == "weights")
    assert weights.status == "FAIL" and "transposed" in weights.diagnosis[0]


def test_gradients_stored_on_the_layer_are_found():
    assert gv.check_layer(StoresGrads(), rng.normal(size=(2, 3))).ok


def test_padded_conv_is_correct_and_the_pad_zero_slicing_bug_fails_clearly():
    x = rng.normal(size=(2, 4, 4, 2))
    for pad in (1, 2):
        assert gv.check_layer(ConvNHWC(pad), x, layout="NHWC").ok
    assert gv.check_layer(ConvNHWC(0), x, layout="NHWC").ok
    broken = gv.check_layer(ConvNHWC(0, bug="pad0"), x, layout="NHWC")
    assert not broken.ok
    assert "ConvNHWC.backward returned dA of shape (2, 0, 0, 2); A has shape (2, 4, 4, 2)" in broken.verdict


def test_border_only_mistakes_are_diagnosed():
    numeric = rng.normal(size=(1, 2, 5, 5))
    analytic = numeric.copy()
    analytic[:, :, 0, :] = 0.0
    assert "border" in diagnose(analytic, numeric)[0]


def test_max_pool_ties_pass_with_one_winner_and_fail_with_all_winners():
    x = np.array([1.0, 3.0, 2.0, 2.0, -1.0, 0.5])
    good = gv.check_layer(MaxPool1D(), x)
    assert good.ok and good.results[0].counts().get("NONDIFF") == 2
    bad = gv.check_layer(MaxPool1D(bug="all_ties"), x)
    assert not bad.ok
    assert "not a valid subgradient" in bad.results[0].diagnosis[0]


def test_losses_missing_batch_factor_sign_and_log_base():
    y_hat, y = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    assert gv.check_loss(MSE(), y_hat, y).ok
    batch = gv.check_loss(MSE(bug="batch"), y_hat, y)
    assert not batch.ok and "division by the batch size (8) is missing" in batch.results[0].diagnosis[0]
    sign = gv.check_loss(MSE(bug="sign"), y_hat, y)
    assert "sign is flipped" in sign.results[0].diagnosis[0]
    p = rng.uniform(0.1, 0.9, size=(4, 3))
    log2 = gv.check_loss(Log2Loss(), p, np.eye(4, 3))
    assert "log2" in log2.results[0].diagnosis[0]
    assert math.isclose(log2.results[0].autograd[0, 0] / log2.results[0].finite[0, 0], math.log(2), rel_tol=1e-4)


def test_check_grad_fn():
    f = lambda x: float(np.sum(np.sin(x) * x))
    assert gv.check_grad_fn(f, lambda x: np.cos(x) * x + np.sin(x), rng.normal(size=5)).ok
    wrong = gv.check_grad_fn(f, lambda x: np.cos(x) * x, rng.normal(size=5))
    assert not wrong.ok and wrong.results[0].status == "FAIL"
    zero = gv.check_grad_fn(f, lambda x: np.zeros_like(x), rng.normal(size=5))
    assert "nothing reached this input" in zero.results[0].diagnosis[0]


class Misbehaves:
    def __init__(self, how):
        self.how = how
        self.W = np.ones((2, 2))

    def forward(self, x):
        if self.how == "mutates":
            x *= 2
        if self.how == "float32":
            return (x @ self.W).astype(np.float32)
        return x @ self.W

    def backward(self, dZ, x):
        if self.how == "raises":
            raise KeyError("oops")
        if self.how == "none":
            return None
        if self.how == "shape":
            return np.ones((5, 5)), [np.ones((2, 2))]
        if self.how == "loops":
            while True:
                pass
        return dZ @ self.W.T, [x.T @ dZ]


@pytest.mark.parametrize("how,message,status", [
    ("raises", "Misbehaves.backward raised KeyError: 'oops' (at ", "ERROR"),
    ("none", "returned None", "FAIL"),
    ("shape", "Misbehaves.backward returned dx of shape (5, 5); x has shape (3, 2)", "FAIL"),
    ("mutates", "Misbehaves modified its input array x in place", "FAIL"),
    ("float32", "float32", "FAIL"),
    ("loops", "did not finish within 0.5 s", "ERROR"),
])
def test_user_code_that_misbehaves_becomes_an_entry_and_arrays_are_restored(how, message, status):
    layer = Misbehaves(how)
    x = rng.normal(size=(3, 2))
    x_before, w_before = x.copy(), layer.W.copy()
    report = gv.check_layer(layer, x, timeout=0.5)
    assert not report.ok
    assert message in report.verdict
    assert {r.name: r.status for r in report.results}["x"] == status
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(layer.W, w_before)


def test_parameters_are_restored_after_a_successful_check():
    layer = Dense(3, 2)
    before = layer.weights.copy()
    gv.check_layer(layer, rng.normal(size=(2, 3)))
    np.testing.assert_array_equal(layer.weights, before)


def test_named_params_and_bad_names():
    layer = Dense(3, 2)
    assert [r.name for r in gv.check_layer(layer, rng.normal(size=(2, 3)), params=["weights"]).results] == \
        ["A_prev", "weights"]
    with pytest.raises(gv.GradvizError, match="not a numpy array"):
        gv.check_layer(layer, rng.normal(size=(2, 3)), params=["nothing"])
