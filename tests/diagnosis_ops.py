"""Course-style ops for the new causes, each correct with `bug=None` and with one planted slip otherwise.

Every op comes twice, the way students and op authors write it: a hand-written class or a
cache-style function pair (cs231n, deeplearning.ai, nnfs styles: results on self, `cache`
tuples, `hparameters` dicts, NHWC loops), and a `gv.Function` factory with the same slip.
"""

import numpy as np

import gradviz as gv


# --- the chain rule ---------------------------------------------------------------------------------------------

class TanhLayer:
    """nnfs style: results on self, backward(dvalues) sets self.dinputs."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, inputs):
        self.output = np.tanh(inputs)
        return self.output

    def backward(self, dvalues):
        local = 1 - self.output ** 2
        self.dinputs = local if self.bug == "chain_rule_forgotten" else dvalues * local
        return self.dinputs


def affine_relu_forward(x, w, b):
    """cs231n style sandwich: one cache tuple."""
    a = x @ w + b
    return np.maximum(a, 0) + 0.5 * a, (x, w, a)


def affine_relu_backward(dout, cache, bug=None):
    x, w, a = cache
    slope = (a > 0) + 0.5
    da = dout * slope
    if bug == "chain_rule_forgotten":  # the leaky part's 0.5 added without dout
        da = dout * (a > 0) + 0.5
    return da @ w.T, x.T @ da, da.sum(axis=0)


def tanh_function(bug=None):
    class Tanh(gv.Function):
        @staticmethod
        def forward(x):
            return np.tanh(x)

        @staticmethod
        def backward(grad, x, out):
            return ((1 - out ** 2) if bug == "chain_rule_forgotten" else grad * (1 - out ** 2),)

    return Tanh


# --- reductions: the bias gradient ----------------------------------------------------------------------------

class Linear:
    """A dense layer with the bias gradient summed in the student's own way."""

    def __init__(self, n_in, n_out, bug=None, seed=0):
        rng = np.random.default_rng(seed)
        self.W, self.b, self.bug = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out), bug

    def forward(self, X):
        self.X = X
        return X @ self.W + self.b

    def backward(self, dY):
        self.dW = self.X.T @ dY
        if self.bug == "broadcast_kept":
            self.db = dY.copy()
        elif self.bug == "wrong_reduction_axis":
            self.db = dY.sum(axis=1)
        else:
            self.db = dY.sum(axis=0)
        return dY @ self.W.T


def bias_forward(x, b):
    return x + b, (x.shape,)


def bias_backward(dout, cache, bug=None):
    if bug == "broadcast_kept":
        return dout, dout
    if bug == "wrong_reduction_axis":
        return dout, np.sum(dout, axis=1)
    return dout, np.sum(dout, axis=0)


def add_bias_function(bug=None):
    class AddBias(gv.Function):
        @staticmethod
        def forward(x, b):
            return x + b

        @staticmethod
        def backward(grad, x, b, out):
            return grad, grad.sum(axis=1) if bug == "wrong_reduction_axis" else grad.sum(axis=0)

    return AddBias


# --- scatter-add: word embeddings ------------------------------------------------------------------------------

def word_embedding_forward(x, W):
    """x: (N, T) word indices, W: (V, D) -> (N, T, D)."""
    return W[x], (x, W)


def word_embedding_backward(dout, cache, bug=None):
    x, W = cache
    dW = np.zeros_like(W)
    if bug == "repeated_indices_lost":
        dW[x] += dout
    else:
        np.add.at(dW, x, dout)
    return dW


def embedding_function(bug=None):
    class Embed(gv.Function):
        @staticmethod
        def forward(W, idx):
            return W[idx.astype(int)]

        @staticmethod
        def backward(grad, W, idx, out):
            dW = np.zeros_like(W)
            if bug == "repeated_indices_lost":
                dW[idx.astype(int)] += grad
            else:
                np.add.at(dW, idx.astype(int), grad)
            return dW, None

    return Embed


# --- pooling: ties and NHWC ---------------------------------------------------------------------------------------

def pool_forward(A_prev, hparameters, mode="max"):
    """deeplearning.ai style: NHWC, hparameters = {"f": ..., "stride": ...}."""
    f, stride = hparameters["f"], hparameters["stride"]
    m, h, w, c = A_prev.shape
    oh, ow = (h - f) // stride + 1, (w - f) // stride + 1
    A = np.zeros((m, oh, ow, c))
    for i in range(m):
        for y in range(oh):
            for x in range(ow):
                for ch in range(c):
                    A[i, y, x, ch] = np.max(A_prev[i, y * stride:y * stride + f, x * stride:x * stride + f, ch])
    return A, (A_prev, hparameters)


def pool_backward(dA, cache, mode="max", bug=None):
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    dA_prev = np.zeros_like(A_prev)
    m, oh, ow, c = dA.shape
    for i in range(m):
        for y in range(oh):
            for x in range(ow):
                for ch in range(c):
                    top, left = (y, x) if bug == "forgotten_stride" else (y * stride, x * stride)
                    window = A_prev[i, top:top + f, left:left + f, ch]
                    if bug == "pool_all_ties":
                        mask = window == np.max(window)
                    else:
                        mask = np.zeros_like(window, dtype=bool)
                        mask[np.unravel_index(np.argmax(window), window.shape)] = True
                    dA_prev[i, top:top + f, left:left + f, ch] += mask * dA[i, y, x, ch]
    return dA_prev


def nhwc_pool_function(bug=None, f=2, stride=2):
    class MaxPoolNHWC(gv.Function):
        @staticmethod
        def forward(x):
            return pool_forward(x, {"f": f, "stride": stride})[0]

        @staticmethod
        def backward(grad, x, out):
            return pool_backward(grad, (x, {"f": f, "stride": stride}), bug=bug)

    return MaxPoolNHWC


# --- images: padding kept, height and width swapped ----------------------------------------------------------

def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward(x, w, conv_param):
    """cs231n conv_forward_naive: x (N, C, H, W), w (F, C, HH, WW), conv_param = {"stride", "pad"}."""
    s, p = conv_param["stride"], conv_param["pad"]
    xp = zero_pad(x, p)
    F, _, HH, WW = w.shape
    oh, ow = (xp.shape[2] - HH) // s + 1, (xp.shape[3] - WW) // s + 1
    out = np.zeros((x.shape[0], F, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.tensordot(xp[:, :, i * s:i * s + HH, j * s:j * s + WW], w, ([1, 2, 3], [1, 2, 3]))
    return out, (x, w, conv_param)


def conv_backward(dout, cache, bug=None):
    x, w, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    xp = zero_pad(x, p)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    HH, WW = w.shape[2:]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.tensordot(dout[:, :, i, j], w, (1, 0))
            dw += np.tensordot(dout[:, :, i, j], xp[:, :, i * s:i * s + HH, j * s:j * s + WW], (0, 0))
    dx = dxp if bug == "padding_kept" else dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]]
    return dx, dw


class Flatten:
    """Flattens (N, C, H, W) images column by column (Fortran-like order, as in MATLAB ports)."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.shape = x.shape
        return x.transpose(0, 1, 3, 2).reshape(x.shape[0], -1)

    def backward(self, dout):
        n, c, h, w = self.shape
        if self.bug == "height_width_swapped":
            return dout.reshape(n, c, h, w)
        return dout.reshape(n, c, w, h).transpose(0, 1, 3, 2)


def flatten_function(bug=None):
    class FlattenColumns(gv.Function):
        @staticmethod
        def forward(x):
            return x.transpose(0, 1, 3, 2).reshape(x.shape[0], -1)

        @staticmethod
        def backward(grad, x, out):
            n, c, h, w = x.shape
            if bug == "height_width_swapped":
                return grad.reshape(n, c, h, w)
            return grad.reshape(n, c, w, h).transpose(0, 1, 3, 2)

    return FlattenColumns


# --- factors with a meaning: N - 1, gamma -----------------------------------------------------------------------

class Variance:
    """Per-feature variance over the batch (biased, as np.var), backward by hand."""

    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        return x.var(axis=0)

    def backward(self, dout):
        n = self.x.shape[0]
        d = n - 1 if self.bug == "n_minus_one" else n
        return dout * 2 * (self.x - self.x.mean(axis=0)) / d


def variance_function(bug=None):
    class Var(gv.Function):
        @staticmethod
        def forward(x):
            return x.var(axis=0)

        @staticmethod
        def backward(grad, x, out):
            n = x.shape[0] - (1 if bug == "n_minus_one" else 0)
            return grad * 2 * (x - x.mean(axis=0)) / n

    return Var


class BatchNorm:
    """Batch norm over (N, D), cs231n's batchnorm_backward written as a class."""

    def __init__(self, d, bug=None, eps=1e-5):
        self.gamma, self.beta, self.eps, self.bug = np.linspace(0.5, 2.0, d), np.linspace(-1, 1, d), eps, bug

    def forward(self, x):
        self.mu = x.mean(axis=0)
        self.var = x.var(axis=0)
        self.xhat = (x - self.mu) / np.sqrt(self.var + self.eps)
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        std = np.sqrt(self.var + self.eps)
        self.dgamma = (dout * self.xhat).sum(axis=0)
        self.dbeta = dout.sum(axis=0)
        dxhat = dout if self.bug == "factor_array_missing" else dout * self.gamma
        if self.bug == "dropped_mean_term":
            return (dxhat - self.xhat * (dxhat * self.xhat).mean(axis=0)) / std
        return (n * dxhat - dxhat.sum(axis=0) - self.xhat * (dxhat * self.xhat).sum(axis=0)) / (n * std)


def scale_function(bug=None):
    """y = x * gamma, gamma broadcast over the batch."""
    class Scale(gv.Function):
        @staticmethod
        def forward(x, gamma):
            return x * gamma

        @staticmethod
        def backward(grad, x, gamma, out):
            dx = grad if bug == "factor_array_missing" else grad * gamma
            if bug == "factor_array_extra":
                dx = grad * gamma * gamma
            return dx, (grad * x).sum(axis=0)

    return Scale


def layer_norm_function(bug=None, eps=1e-5):
    class LayerNormNoAffine(gv.Function):
        @staticmethod
        def forward(x):
            return (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)

        @staticmethod
        def backward(grad, x, out):
            std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
            centred = grad - grad.mean(axis=1, keepdims=True)
            if bug == "dropped_variance_term":
                return centred / std
            return (centred - out * (grad * out).mean(axis=1, keepdims=True)) / std

    return LayerNormNoAffine


# --- activations of the op table, in the wrong variable -------------------------------------------------------

class Sqrt:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x, self.y = x, np.sqrt(x)
        return self.y

    def backward(self, dout):
        at = np.sqrt(self.y) if self.bug == "output_for_input" else self.y  # sqrt'(x) = 0.5 / sqrt(x)
        return dout * 0.5 / at


def sin_function(bug=None):
    class Sin(gv.Function):
        @staticmethod
        def forward(x):
            return np.sin(x)

        @staticmethod
        def backward(grad, x, out):
            return (grad * np.cos(out if bug == "output_for_input" else x),)

    return Sin


# --- a transposed non-square gradient -----------------------------------------------------------------------------

class MatMul:
    """dlfs style: self.dW kept on the layer."""

    def __init__(self, W, bug=None):
        self.W, self.bug = W, bug

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = dout.T @ self.x if self.bug == "transposed" else self.x.T @ dout
        return dout @ self.W.T


def matmul_function(bug=None):
    class MatMulOp(gv.Function):
        @staticmethod
        def forward(x, w):
            return x @ w

        @staticmethod
        def backward(grad, x, w, out):
            return grad @ w.T, (grad.T @ x if bug == "transposed" else x.T @ grad)

    return MatMulOp


class ScaleLayer:
    """y = x * gamma with gamma a parameter (a per-feature gain)."""

    def __init__(self, gamma, bug=None):
        self.gamma, self.bug = gamma, bug

    def forward(self, x):
        self.x = x
        return x * self.gamma

    def backward(self, dout):
        self.dgamma = (dout * self.x).sum(axis=0)
        return dout * self.gamma * self.gamma if self.bug == "factor_array_extra" else dout * self.gamma


def conv_function(bug=None, pad=1):
    class Conv(gv.Function):
        @staticmethod
        def forward(x, w):
            return conv_forward(x, w, {"stride": 1, "pad": pad})[0]

        @staticmethod
        def backward(grad, x, w, out):
            return conv_backward(grad, (x, w, {"stride": 1, "pad": pad}), bug=bug)

    return Conv
