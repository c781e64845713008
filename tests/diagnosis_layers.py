"""Small course-style layers for the diagnosis tests: each correct, and with one planted bug.

Written the way course code is written: results cached on `self`, loops over
windows, (N, C, H, W) images, `dout` passed to backward. `bug=None` is the
correct layer; every other value plants one classic mistake.
"""

import numpy as np


class Tanh:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        y = self.out
        if self.bug == "one_minus_y":
            return dout * (1 - y)
        if self.bug == "pre_activation":
            return dout * (1 - self.x ** 2)
        if self.bug == "output_for_input":
            return dout * (1 - np.tanh(y) ** 2)
        return dout * (1 - y ** 2)


class Sigmoid:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, Z):
        self.Z = Z
        self.A = 1 / (1 + np.exp(-Z))
        return self.A

    def backward(self, dA):
        s = self.A
        if self.bug == "pre_activation":  # Z used where sigmoid(Z) belongs
            return dA * self.Z * (1 - self.Z)
        if self.bug == "dropped_product_term":
            return dA * s
        return dA * s * (1 - s)


class Log:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.y = np.log(x)
        return self.y

    def backward(self, dout):
        return dout / self.y if self.bug == "output_for_input" else dout / self.x


class Exp:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, dout):
        return dout * np.exp(self.out) if self.bug == "output_for_input" else dout * self.out


class ReLU:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dout):
        if self.bug == "mask_forgotten":
            return dout.copy()
        if self.bug == "mask_inverted":
            return dout * (self.x <= 0)
        if self.bug == "mask_wrong_tensor":
            return dout * (dout > 0)
        return dout * (self.x > 0)


class Abs:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, dout):
        return dout.copy() if self.bug == "sign" else dout * np.sign(self.x)


class MaxPool2x2:
    """A 2x2, stride-2 max pool over (N, C, H, W), written with loops as in cs231n."""

    def __init__(self, bug=None, stride=2):
        self.bug, self.k, self.s = bug, 2, stride

    def forward(self, x):
        self.x = x
        n, c, h, w = x.shape
        oh, ow = (h - self.k) // self.s + 1, (w - self.k) // self.s + 1
        out = np.zeros((n, c, oh, ow))
        for i in range(oh):
            for j in range(ow):
                window = x[:, :, i * self.s:i * self.s + self.k, j * self.s:j * self.s + self.k]
                out[:, :, i, j] = window.max(axis=(2, 3))
        return out

    def backward(self, dout):
        x, k, s = self.x, self.k, self.s
        dx = np.zeros_like(x)
        n, c, oh, ow = dout.shape
        for b in range(n):
            for ch in range(c):
                for i in range(oh):
                    for j in range(ow):
                        r, q = (i, j) if self.bug == "forgotten_stride" else (i * s, j * s)
                        window = x[b, ch, r:r + k, q:q + k]
                        g = dout[b, ch, i, j]
                        if self.bug == "pool_every_element":
                            dx[b, ch, r:r + k, q:q + k] += g
                        elif self.bug == "pool_averaged":
                            dx[b, ch, r:r + k, q:q + k] += g / (k * k)
                        elif self.bug == "pool_wrong_element":
                            dx[b, ch, r, q] += g  # always the top-left element
                        else:
                            a, bb = np.unravel_index(np.argmax(window), window.shape)
                            dx[b, ch, r + a, q + bb] += g
        return dx


class Conv:
    """A naive conv layer (cs231n conv_forward_naive style): x (N, C, H, W), w (F, C, HH, WW)."""

    def __init__(self, w, b, stride=1, pad=0, bug=None):
        self.w, self.b, self.stride, self.pad, self.bug = w, b, stride, pad, bug

    def forward(self, x):
        self.x = x
        s, p = self.stride, self.pad
        F, C, HH, WW = self.w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        oh, ow = (xp.shape[2] - HH) // s + 1, (xp.shape[3] - WW) // s + 1
        out = np.zeros((x.shape[0], F, oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
                out[:, :, i, j] = np.tensordot(patch, self.w, axes=([1, 2, 3], [1, 2, 3])) + self.b
        return out

    def backward(self, dout):
        s, p = self.stride, self.pad
        x, w = self.x, self.w
        F, C, HH, WW = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        dxp = np.zeros_like(xp)
        dw = np.zeros_like(w)
        kernel = w[:, :, ::-1, ::-1] if self.bug == "flipped_kernel" else w
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                r, q = (i, j) if self.bug == "forgotten_stride" else (i * s, j * s)
                patch = xp[:, :, r:r + HH, q:q + WW]
                g = dout[:, :, i, j]  # (N, F)
                dxp[:, :, r:r + HH, q:q + WW] += np.tensordot(g, kernel, axes=([1], [0]))
                dw += np.tensordot(g, patch, axes=([0], [0]))
        if self.bug == "dw_flipped":
            dw = dw[:, :, ::-1, ::-1]
        self.dw = dw
        self.db = dout.sum(axis=(0, 2, 3))
        top = p + 1 if self.bug == "crop_off_by_one" else p
        return dxp[:, :, top:top + x.shape[2], p:p + x.shape[3]]


class Softmax:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.s = e / e.sum(axis=1, keepdims=True)
        return self.s

    def backward(self, dout):
        s = self.s
        if self.bug == "diagonal":
            return dout * s * (1 - s)
        return s * (dout - (dout * s).sum(axis=1, keepdims=True))


class LayerNorm:
    def __init__(self, features, bug=None):
        self.gamma = np.linspace(0.5, 1.5, features)
        self.beta = np.linspace(-0.2, 0.2, features)
        self.bug = bug

    def forward(self, x):
        self.mu = x.mean(axis=1, keepdims=True)
        self.std = np.sqrt(x.var(axis=1, keepdims=True) + 1e-5)
        self.xhat = (x - self.mu) / self.std
        return self.gamma * self.xhat + self.beta

    def backward(self, dout):
        n = dout.shape[1]
        dxhat = dout * self.gamma
        self.dgamma = (dout * self.xhat).sum(axis=0)
        self.dbeta = dout.sum(axis=0)
        if self.bug == "constants":
            return dxhat / self.std
        return (dxhat - dxhat.mean(axis=1, keepdims=True)
                - self.xhat * (dxhat * self.xhat).mean(axis=1, keepdims=True)) / self.std


class Dense:
    """x @ W + b with results on self (nnfs style), optionally with L2 regularization in backward."""

    def __init__(self, n_in, n_out, seed=0, bug=None, reg=0.1):
        r = np.random.default_rng(seed)
        self.weights = r.normal(size=(n_in, n_out))
        self.biases = r.normal(size=n_out)
        self.bug, self.reg = bug, reg

    def forward(self, inputs):
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases
        return self.output

    def backward(self, dvalues):
        x = self.inputs
        if self.bug == "first_sample_only":
            self.dweights = x[:1].T @ dvalues[:1]
        elif self.bug == "last_sample_skipped":
            self.dweights = np.zeros_like(self.weights)
            for i in range(x.shape[0] - 1):
                self.dweights += np.outer(x[i], dvalues[i])
        else:
            self.dweights = x.T @ dvalues
        if self.bug == "regularization":  # the loss has no L2 term, the gradient does
            self.dweights = self.dweights + self.reg * self.weights
        self.dbiases = dvalues.sum(axis=0)
        dinputs = dvalues @ self.weights.T
        if self.bug == "dx_last_row_skipped":
            dinputs[-1] = 0.0
        self.dinputs = dinputs
        return dinputs


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(scores) against integer labels; backward(scores, y)."""

    def __init__(self, bug=None):
        self.bug = bug

    def compute(self, scores, y):
        z = scores - scores.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(y)), y].mean()

    def backward(self, scores, y):
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        onehot = np.zeros_like(p)
        onehot[np.arange(len(y)), y] = 1
        if self.bug == "sign_of_one_term":
            return (p + onehot) / len(y)
        return (p - onehot) / len(y)
