"""The NHWC pair with planted bugs: the padding sliced off with [ph:-ph] (empty for ph = 0), and average
pooling that forgets to divide by the window size."""
import numpy as np

from nhwc_conv import conv_forward, pool_forward  # noqa: F401


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
    if padding == "same":
        ph, pw = ((h_prev - 1) * sh + kh - h_prev) // 2, ((w_prev - 1) * sw + kw - w_prev) // 2
    else:
        ph, pw = 0, 0
    padded = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    dA, dW = np.zeros_like(padded), np.zeros_like(W)
    db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)
    for i in range(dZ.shape[1]):
        for j in range(dZ.shape[2]):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            dW += np.tensordot(window, dZ[:, i, j, :], axes=([0], [0]))
            dA[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += np.tensordot(dZ[:, i, j, :], W, axes=([1], [3]))
    return dA[:, ph:-ph, pw:-pw, :], dW, db


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode="max"):
    m, h_new, w_new, c = dA.shape
    kh, kw = kernel_shape
    sh, sw = stride
    dA_prev = np.zeros_like(A_prev)
    for i in range(h_new):
        for j in range(w_new):
            dA_prev[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += dA[:, i:i + 1, j:j + 1, :]
    return dA_prev
