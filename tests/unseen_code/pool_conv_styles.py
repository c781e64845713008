"""Hand-written convolution and pooling backward passes in styles no earlier fixture has (a pool/conv new-user pass).

Each style comes as a correct version and a version with one planted slip (the `...Bug` / `..._bug` name).
Written for the tests, in the manner of course solutions and small numpy CNN libraries: a max pool with
overlapping windows (3x3, stride 2) whose backward assigns where windows overlap, a max pool that keeps its
argmax, a max pool that keeps a mask of the maximum (every tie gets the gradient), an average pool upsampled
back with np.kron, global and adaptive average pooling, a dilated convolution, a depthwise convolution, a
'same' convolution with an even kernel (asymmetric padding), a convolution on sliding_window_view and einsum,
a 1-D convolution in (N, C, L) with a bias of shape (F, 1), nearest-neighbour upsampling, a flatten layer, and
a small CNN built from layer classes whose backward(dout, lr) updates the weights.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


# -- max pool, overlapping windows (kernel 3, stride 2), a cache pair with loops ---------------------------------
def maxpool_overlap_forward(x, pool=3, stride=2):
    N, C, H, W = x.shape
    Ho, Wo = (H - pool) // stride + 1, (W - pool) // stride + 1
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            out[:, :, i, j] = patch.max(axis=(2, 3))
    return out, (x, pool, stride)


def _maxpool_overlap_backward(dout, cache, add):
    x, pool, stride = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    patch = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
                    r, s = np.unravel_index(np.argmax(patch), patch.shape)
                    if add:
                        dx[n, c, i * stride + r, j * stride + s] += dout[n, c, i, j]
                    else:
                        dx[n, c, i * stride + r, j * stride + s] = dout[n, c, i, j]
    return dx


def maxpool_overlap_backward(dout, cache):
    return _maxpool_overlap_backward(dout, cache, True)


def maxpool_overlap_backward_bug(dout, cache):
    return _maxpool_overlap_backward(dout, cache, False)  # bug: '=' where overlapping windows share a maximum


# -- max pool keeping its argmax, a layer class (non-overlapping, reshape trick) ---------------------------------
class MaxPoolArgmax:
    def __init__(self, size=2):
        self.size = size

    def forward(self, x):
        N, C, H, W = x.shape
        k = self.size
        self.x_shape = x.shape
        blocks = x.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, k * k)
        self.arg = blocks.argmax(axis=-1)
        return blocks.max(axis=-1)

    def backward(self, dout):
        N, C, H, W = self.x_shape
        k = self.size
        blocks = np.zeros((N, C, H // k, W // k, k * k))
        np.put_along_axis(blocks, self.arg[..., None], dout[..., None], axis=-1)
        return self.unblock(blocks, N, C, H, W, k)

    def unblock(self, blocks, N, C, H, W, k):
        return blocks.reshape(N, C, H // k, W // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


class MaxPoolArgmaxBug(MaxPoolArgmax):
    def unblock(self, blocks, N, C, H, W, k):
        return blocks.reshape(N, C, H // k, W // k, k, k).transpose(0, 1, 2, 5, 3, 4).reshape(N, C, H, W)  # bug: axes


# -- max pool keeping a mask of the maximum (np.repeat upsampling), a layer class ------------------------------------
class MaxPoolMask:
    def __init__(self, size=2):
        self.size = size

    def forward(self, x):
        N, C, H, W = x.shape
        k = self.size
        out = x.reshape(N, C, H // k, k, W // k, k).max(axis=(3, 5))
        up = out.repeat(k, axis=2).repeat(k, axis=3)
        self.mask = self.make_mask(x, up)
        return out

    def make_mask(self, x, up):
        N, C, H, W = x.shape
        k = self.size
        hit = (x == up).reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, -1)
        first = np.zeros_like(hit)
        np.put_along_axis(first, hit.argmax(axis=-1)[..., None], True, axis=-1)  # one maximum per window
        return first.reshape(N, C, H // k, W // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)

    def backward(self, dout):
        k = self.size
        return self.mask * dout.repeat(k, axis=2).repeat(k, axis=3)


class MaxPoolMaskBug(MaxPoolMask):
    def make_mask(self, x, up):
        return x == up  # bug: every tied maximum of a window gets the gradient


# -- average pool, backward upsampled with np.kron, explicit arguments --------------------------------------------
def avgpool_kron_forward(x, k=2):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // k, k, W // k, k).mean(axis=(3, 5))


def avgpool_kron_backward(dout, x, k=2):
    return np.kron(dout, np.ones((1, 1, k, k))) / (k * k)


def avgpool_kron_backward_bug(dout, x, k=2):
    return np.kron(dout, np.ones((1, 1, k, k)))  # bug: 1/(k*k) forgotten


# -- global average pooling (N, C, H, W) -> (N, C), a layer class ---------------------------------------------------
class GlobalAvgPool:
    def forward(self, x):
        self.shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        N, C, H, W = self.shape
        return np.broadcast_to(dout[:, :, None, None], self.shape) / (H * W)


class GlobalAvgPoolBug(GlobalAvgPool):
    def backward(self, dout):
        N, C, H, W = self.shape
        return np.broadcast_to(dout[:, :, None, None], self.shape) / H  # bug: divides by H only


# -- adaptive average pooling to (2, 2) with uneven bins (floor/ceil edges, bins may overlap) --------------------
def _bins(n, out):
    return [(int(np.floor(i * n / out)), int(np.ceil((i + 1) * n / out))) for i in range(out)]


def adaptive_avgpool_forward(x, out_size=2):
    N, C, H, W = x.shape
    out = np.zeros((N, C, out_size, out_size))
    for i, (h0, h1) in enumerate(_bins(H, out_size)):
        for j, (w0, w1) in enumerate(_bins(W, out_size)):
            out[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return out, (x.shape, out_size)


def adaptive_avgpool_backward(dout, cache):
    shape, out_size = cache
    dx = np.zeros(shape)
    for i, (h0, h1) in enumerate(_bins(shape[2], out_size)):
        for j, (w0, w1) in enumerate(_bins(shape[3], out_size)):
            dx[:, :, h0:h1, w0:w1] += dout[:, :, i, j][:, :, None, None] / ((h1 - h0) * (w1 - w0))
    return dx


def adaptive_avgpool_backward_bug(dout, cache):
    shape, out_size = cache
    dx = np.zeros(shape)
    for i, (h0, h1) in enumerate(_bins(shape[2], out_size)):
        for j, (w0, w1) in enumerate(_bins(shape[3], out_size)):
            dx[:, :, h0:h1, w0:w1] = dout[:, :, i, j][:, :, None, None] / ((h1 - h0) * (w1 - w0))  # bug: '='
    return dx


# -- dilated convolution, explicit arguments: conv_backward(dout, x, w, b, dilation) -------------------------------
def dilated_conv_forward(x, w, b, dilation=2):
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    span = dilation * (k - 1) + 1
    Ho, Wo = H - span + 1, W - span + 1
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = x[:, :, i:i + span:dilation, j:j + span:dilation]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def _dilated_conv_backward(dout, x, w, b, dilation, step):
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    span = step * (k - 1) + 1
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            patch = x[:, :, i:i + span:step, j:j + span:step]
            dw += np.tensordot(dout[:, :, i, j], patch, axes=([0], [0]))
            dx[:, :, i:i + span:step, j:j + span:step] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dx, dw, dout.sum(axis=(0, 2, 3))


def dilated_conv_backward(dout, x, w, b, dilation=2):
    return _dilated_conv_backward(dout, x, w, b, dilation, dilation)


def dilated_conv_backward_bug(dout, x, w, b, dilation=2):
    F, _, k, _ = w.shape
    dx, dw, db = _dilated_conv_backward(dout, x, w, b, dilation, dilation)
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i:i + k, j:j + k] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))  # bug: dilation forgotten
    return dx, dw, db


# -- depthwise convolution (one k x k filter per channel), a layer class with a cache ---------------------------------
class DepthwiseConv:
    def __init__(self, channels, k=3):
        rng = np.random.default_rng(3)
        self.W = rng.standard_normal((channels, k, k)) * 0.5
        self.b = rng.standard_normal(channels) * 0.1

    def forward(self, x):
        self.cols = sliding_window_view(x, self.W.shape[1:], axis=(2, 3))  # (N, C, Ho, Wo, k, k)
        self.x_shape = x.shape
        return np.einsum("nchwij,cij->nchw", self.cols, self.W) + self.b[None, :, None, None]

    def backward(self, dout):
        self.dW = np.einsum("nchwij,nchw->cij", self.cols, dout)
        self.db = dout.sum(axis=(0, 2, 3))
        k = self.W.shape[1]
        dx = np.zeros(self.x_shape)
        for i in range(k):
            for j in range(k):
                dx[:, :, i:i + dout.shape[2], j:j + dout.shape[3]] += dout * self.W[None, :, i, j, None, None]
        return dx


class DepthwiseConvBug(DepthwiseConv):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = np.einsum("nchwij,nchw->cij", self.cols, dout).sum(axis=0, keepdims=True).repeat(self.W.shape[0], 0)
        return dx  # bug: dW summed over every channel, as if the filter were shared


# -- 'same' convolution with an even kernel: asymmetric padding (top/left k//2 - 1... here (k-1)//2 and k//2) -------
def same_conv_forward(x, w):
    k = w.shape[2]
    lo, hi = (k - 1) // 2, k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (lo, hi), (lo, hi)))
    cols = sliding_window_view(xp, (k, k), axis=(2, 3))  # (N, C, H, W, k, k)
    return np.einsum("nchwij,fcij->nfhw", cols, w), (x, w)


def same_conv_backward(dout, cache):
    x, w = cache
    k = w.shape[2]
    lo, hi = (k - 1) // 2, k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (lo, hi), (lo, hi)))
    cols = sliding_window_view(xp, (k, k), axis=(2, 3))
    dw = np.einsum("nchwij,nfhw->fcij", cols, dout)
    dxp = np.zeros_like(xp)
    H, W = x.shape[2:]
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + H, j:j + W] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, lo:lo + H, lo:lo + W], dw


def same_conv_backward_bug(dout, cache):
    x, w = cache
    k = w.shape[2]
    lo, hi = (k - 1) // 2, k // 2
    _, dw = same_conv_backward(dout, cache)
    xp = np.pad(x, ((0, 0), (0, 0), (lo, hi), (lo, hi)))
    dxp = np.zeros_like(xp)
    H, W = x.shape[2:]
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + H, j:j + W] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, hi:hi + H, hi:hi + W], dw  # bug: cropped with the bottom padding at the top


# -- strided convolution on sliding_window_view + einsum, a cache pair with a bias -------------------------------------
def einsum_conv_forward(x, w, b, stride=2):
    k = w.shape[2]
    cols = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", cols, w) + b[None, :, None, None], (x, w, cols, stride)


def einsum_conv_backward(dout, cache):
    x, w, cols, stride = cache
    k = w.shape[2]
    dw = np.einsum("nchwij,nfhw->fcij", cols, dout)
    db = dout.sum(axis=(0, 2, 3))
    dx = np.zeros_like(x)
    Ho, Wo = dout.shape[2:]
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return dx, dw, db


def einsum_conv_backward_bug(dout, cache):
    dx, dw, db = einsum_conv_backward(dout, cache)
    x, w, cols, stride = cache
    dw = np.einsum("nchwij,nfhw->cfij", cols, dout).reshape(w.shape)  # bug: in and out channels exchanged
    return dx, dw, db


# -- 1-D convolution in (N, C, L) with a bias of shape (F, 1), a layer class ------------------------------------------
class Conv1D:
    def __init__(self, c_in, c_out, k=3):
        rng = np.random.default_rng(4)
        self.W = rng.standard_normal((c_out, c_in, k)) * 0.4
        self.b = rng.standard_normal((c_out, 1)) * 0.1

    def forward(self, x):
        self.x = x
        k = self.W.shape[2]
        self.cols = sliding_window_view(x, k, axis=2)  # (N, C, Lo, k)
        return np.einsum("nclk,fck->nfl", self.cols, self.W) + self.b

    def backward(self, dout):
        self.dW = np.einsum("nclk,nfl->fck", self.cols, dout)
        self.db = self.bias_grad(dout)
        dx = np.zeros_like(self.x)
        for t in range(self.W.shape[2]):
            dx[:, :, t:t + dout.shape[2]] += np.einsum("nfl,fc->ncl", dout, self.W[:, :, t])
        return dx

    def bias_grad(self, dout):
        return dout.sum(axis=(0, 2))[:, None]


class Conv1DBug(Conv1D):
    def bias_grad(self, dout):
        return dout.sum(axis=2).T[:, :1]  # bug: the first example's sum only


# -- nearest-neighbour upsampling by 2, a function pair with explicit arguments -----------------------------------------
def upsample_forward(x, scale=2):
    return x.repeat(scale, axis=2).repeat(scale, axis=3)


def upsample_backward(dout, x, scale=2):
    N, C, H, W = x.shape
    return dout.reshape(N, C, H, scale, W, scale).sum(axis=(3, 5))


def upsample_backward_bug(dout, x, scale=2):
    return dout[:, :, ::scale, ::scale]  # bug: one copy's gradient taken, the others dropped


# -- a flatten layer between conv and dense -----------------------------------------------------------------------------
class Flatten:
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class FlattenBug(Flatten):
    def backward(self, dout):
        N, C, H, W = self.shape
        return dout.reshape(N, H, W, C).transpose(0, 3, 1, 2)  # bug: unflattened as channels-last


# -- a small CNN from layer classes with backward(dout, lr) that update their weights -----------------------------------
class ConvLayer:
    def __init__(self, c_in, c_out, k=3, seed=5):
        rng = np.random.default_rng(seed)
        self.kernels = rng.standard_normal((c_out, c_in, k, k)) * 0.3
        self.biases = np.zeros(c_out) + 0.1

    def forward(self, x):
        self.input = x
        k = self.kernels.shape[2]
        self.cols = sliding_window_view(x, (k, k), axis=(2, 3))
        return np.einsum("nchwij,fcij->nfhw", self.cols, self.kernels) + self.biases[None, :, None, None]

    def backward(self, dout, lr):
        k = self.kernels.shape[2]
        dk = np.einsum("nchwij,nfhw->fcij", self.cols, dout)
        dx = np.zeros_like(self.input)
        for i in range(k):
            for j in range(k):
                dx[:, :, i:i + dout.shape[2], j:j + dout.shape[3]] += np.einsum("nfhw,fc->nchw", dout, self.kernels[:, :, i, j])
        self.kernels -= lr * dk
        self.biases -= lr * dout.sum(axis=(0, 2, 3))
        return dx


class ReLULayer:
    def forward(self, x):
        self.input = x
        return np.maximum(x, 0)

    def backward(self, dout, lr):
        return dout * (self.input > 0)


class PoolLayer:
    def forward(self, x):
        N, C, H, W = x.shape
        self.input = x
        return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))

    def backward(self, dout, lr):
        N, C, H, W = self.input.shape
        blocks = self.input.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
        d = np.zeros_like(blocks)
        np.put_along_axis(d, blocks.argmax(-1)[..., None], dout[..., None], axis=-1)
        return d.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


class FlattenLayer:
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout, lr):
        return dout.reshape(self.shape)


class DenseLayer:
    def __init__(self, n_in, n_out, seed=6):
        rng = np.random.default_rng(seed)
        self.weights = rng.standard_normal((n_in, n_out)) * 0.2
        self.bias = np.zeros(n_out)

    def forward(self, x):
        self.input = x
        return x @ self.weights + self.bias

    def backward(self, dout, lr):
        dx = dout @ self.weights.T
        self.weights -= lr * self.input.T @ dout
        self.bias -= lr * dout.sum(axis=0)
        return dx


class DenseLayerLate(DenseLayer):
    def backward(self, dout, lr):
        self.weights -= lr * self.input.T @ dout
        self.bias -= lr * dout.sum(axis=0)
        return dout @ self.weights.T  # bug: dx from the weights already updated


class SmallCNN:
    dense = DenseLayer

    def __init__(self):
        self.layers = [ConvLayer(1, 2), ReLULayer(), PoolLayer(), FlattenLayer(), self.dense(2 * 2 * 2, 3)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, lr):
        for layer in reversed(self.layers):
            dout = layer.backward(dout, lr)
        return dout


class SmallCNNBug(SmallCNN):
    dense = DenseLayerLate


# -- one image (C, H, W), a bias the shape of the output, signal-style correlate/convolve helpers, backward(g, lr) --------
def _correlate(a, k, mode="valid"):
    if mode == "full":
        a = np.pad(a, ((k.shape[0] - 1,) * 2, (k.shape[1] - 1,) * 2))
    return np.einsum("hwij,ij->hw", sliding_window_view(a, k.shape), k)


def _convolve(a, k, mode="valid"):
    return _correlate(a, k[::-1, ::-1], mode)


class SignalConv:
    def __init__(self, input_shape=(2, 5, 5), kernel_size=3, depth=2):
        rng = np.random.default_rng(7)
        c, h, w = input_shape
        self.kernels = rng.standard_normal((depth, c, kernel_size, kernel_size))
        self.biases = rng.standard_normal((depth, h - kernel_size + 1, w - kernel_size + 1))

    def forward(self, input):
        self.input = input
        self.output = np.copy(self.biases)
        for i in range(self.kernels.shape[0]):
            for j in range(self.kernels.shape[1]):
                self.output[i] += _correlate(self.input[j], self.kernels[i, j], "valid")
        return self.output

    def backward(self, output_gradient, learning_rate):
        kernels_gradient = np.zeros(self.kernels.shape)
        input_gradient = np.zeros(self.input.shape)
        for i in range(self.kernels.shape[0]):
            for j in range(self.kernels.shape[1]):
                kernels_gradient[i, j] = _correlate(self.input[j], output_gradient[i], "valid")
                input_gradient[j] += self.spread(output_gradient[i], self.kernels[i, j])
        self.kernels -= learning_rate * kernels_gradient
        self.biases -= learning_rate * output_gradient
        return input_gradient

    def spread(self, g, k):
        return _convolve(g, k, "full")


class SignalConvBug(SignalConv):
    def spread(self, g, k):
        return _correlate(g, k, "full")  # bug: correlated where the full convolution (the flipped kernel) belongs
