"""NHWC convolution and pooling with explicit arguments, as in many course repositories:
conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)), pool_backward(dA, A_prev, kernel_shape, stride, mode)."""
import numpy as np


def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    m, h_prev, w_prev, c_prev = A_prev.shape
    kh, kw, _, c_new = W.shape
    sh, sw = stride
    if padding == "same":
        ph, pw = ((h_prev - 1) * sh + kh - h_prev) // 2, ((w_prev - 1) * sw + kw - w_prev) // 2
    else:
        ph, pw = 0, 0
    padded = np.pad(A_prev, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    h_new, w_new = (h_prev + 2 * ph - kh) // sh + 1, (w_prev + 2 * pw - kw) // sw + 1
    Z = np.zeros((m, h_new, w_new, c_new))
    for i in range(h_new):
        for j in range(w_new):
            window = padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            Z[:, i, j, :] = np.tensordot(window, W, axes=3)
    return activation(Z + b)


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
    dA = dA[:, ph:ph + h_prev, pw:pw + w_prev, :]
    return dA, dW, db


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode="max"):
    m, h_prev, w_prev, c = A_prev.shape
    kh, kw = kernel_shape
    sh, sw = stride
    h_new, w_new = (h_prev - kh) // sh + 1, (w_prev - kw) // sw + 1
    out = np.zeros((m, h_new, w_new, c))
    reduce = np.max if mode == "max" else np.mean
    for i in range(h_new):
        for j in range(w_new):
            out[:, i, j, :] = reduce(A_prev[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :], axis=(1, 2))
    return out


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode="max"):
    m, h_new, w_new, c = dA.shape
    kh, kw = kernel_shape
    sh, sw = stride
    dA_prev = np.zeros_like(A_prev)
    for n in range(m):
        for i in range(h_new):
            for j in range(w_new):
                for k in range(c):
                    window = A_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, k]
                    if mode == "max":
                        mask = window == np.max(window)
                        dA_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, k] += mask * dA[n, i, j, k]
                    else:
                        dA_prev[n, i * sh:i * sh + kh, j * sw:j * sw + kw, k] += dA[n, i, j, k] / (kh * kw)
    return dA_prev
