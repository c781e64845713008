"""Layer classes whose forward takes more than one argument, or data that is not differentiated, and layers that
keep their gradients under names from lecture notes (dLdW, nabla_W). Written in the styles of small course
frameworks: a recurrent step over column vectors, an elementwise product gate, a projection with a skip input,
a dropout taking its mask for testing, a lookup table over integer ids kept in params/grads lists, a linear
layer with CMU-style dLdW / dLdb, and one with nabla_W / nabla_b. Each `...Bug` subclass plants one mistake."""

import numpy as np


class ElmanCell:
    """h = tanh(Wx x + Wh h_prev + b), column vectors; backward returns (dx, dh_prev) and keeps dWx, dWh, db."""

    def __init__(self, n_in, n_hidden, seed=0):
        rng = np.random.default_rng(seed)
        self.Wx = rng.normal(0, 0.6, (n_hidden, n_in))
        self.Wh = rng.normal(0, 0.6, (n_hidden, n_hidden))
        self.b = rng.normal(0, 0.1, (n_hidden, 1))

    def forward(self, x, h_prev):
        self.x, self.h_prev = x, h_prev
        self.h = np.tanh(self.Wx @ x + self.Wh @ h_prev + self.b)
        return self.h

    def backward(self, dh):
        da = dh * (1.0 - self.h * self.h)
        self.dWx = da @ self.x.T
        self.dWh = da @ self.h_prev.T
        self.db = np.sum(da, axis=1, keepdims=True)
        dx = self.Wx.T @ da
        dh_prev = self.Wh.T @ da
        return dx, dh_prev


class ElmanCellBug(ElmanCell):
    """Planted bug: the previous state's gradient skips the tanh derivative."""

    def backward(self, dh):
        da = dh * (1.0 - self.h * self.h)
        self.dWx = da @ self.x.T
        self.dWh = da @ self.h_prev.T
        self.db = np.sum(da, axis=1, keepdims=True)
        dx = self.Wx.T @ da
        dh_prev = self.Wh.T @ dh
        return dx, dh_prev


class ProductGate:
    """out = u * v, no parameters; backward hands back one gradient per input, in the forward's order."""

    def forward(self, u, v):
        self.u, self.v = u, v
        return u * v

    def backward(self, grad_out):
        return grad_out * self.v, grad_out * self.u


class ProductGateBug(ProductGate):
    """Planted bug: each input is given its own value instead of the other's."""

    def backward(self, grad_out):
        return grad_out * self.u, grad_out * self.v


class SkipProjection:
    """out = x @ W + skip: two inputs of different shapes; the gradients come back in a dict."""

    def __init__(self, W):
        self.W = W

    def forward(self, x, skip):
        self.x = x
        return x @ self.W + skip

    def backward(self, d_out):
        self.grad_W = self.x.T @ d_out
        return {"dskip": d_out, "dx": d_out @ self.W.T}


class SkipProjectionBug(SkipProjection):
    """Planted bug: the input's gradient uses W where its transpose belongs (W is square here)."""

    def backward(self, d_out):
        self.grad_W = self.x.T @ d_out
        return {"dskip": d_out, "dx": d_out @ self.W}


class ProjectAdd:
    """out = x @ W + h with x (2, 3) and h (2, 4): backward returns h's gradient first, then x's; only the
    shapes say which is which."""

    def __init__(self, W):
        self.W = W

    def forward(self, x, h):
        self.x = x
        return x @ self.W + h

    def backward(self, g):
        self.dW = self.x.T @ g
        return g, g @ self.W.T


class ProjectAddBug(ProjectAdd):
    """Planted bug: the input's gradient is scaled by the layer's width as if it were averaged."""

    def backward(self, g):
        self.dW = self.x.T @ g
        return g, g @ self.W.T / self.W.shape[1]


class MaskedDropout:
    """Inverted dropout; a test passes its own 0/1 mask, which is data, never differentiated."""

    def __init__(self, drop=0.5):
        self.drop = drop

    def forward(self, x, mask=None):
        if mask is None:
            mask = (np.random.rand(*x.shape) >= self.drop).astype(int)
        self.mask = mask
        return x * self.mask / (1.0 - self.drop)

    def backward(self, dout):
        return dout * self.mask / (1.0 - self.drop)


class MaskedDropoutBug(MaskedDropout):
    """Planted bug: backward forgets the 1 / (1 - drop) scale of the forward."""

    def backward(self, dout):
        return dout * self.mask


class TokenTable:
    """A lookup table over integer ids; params/grads as parallel lists, backward returns None."""

    def __init__(self, table):
        self.params = [table]
        self.grads = [np.zeros_like(table)]

    def forward(self, ids):
        self.ids = ids
        return self.params[0][ids]

    def backward(self, dout):
        dtable = self.grads[0]
        dtable[...] = 0.0
        np.add.at(dtable, self.ids, dout)


class TokenTableBug(TokenTable):
    """Planted bug: an id that occurs twice keeps only its last row's gradient (assignment, not accumulation)."""

    def backward(self, dout):
        dtable = self.grads[0]
        dtable[...] = 0.0
        dtable[self.ids] = dout


class LinearCMU:
    """Z = A W^T + 1 b^T with (out, in) weights; gradients kept as self.dLdW and self.dLdb."""

    def __init__(self, in_features, out_features, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(out_features, in_features))
        self.b = rng.normal(size=(out_features, 1))

    def forward(self, A):
        self.A = A
        self.ones = np.ones((A.shape[0], 1))
        return A @ self.W.T + self.ones @ self.b.T

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.ones
        return dLdZ @ self.W


class LinearCMUBug(LinearCMU):
    """Planted bug: the bias gradient averages over the batch instead of summing."""

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.ones / self.A.shape[0]
        return dLdZ @ self.W


class NablaLinear:
    """Nielsen-style names: backward keeps nabla_W and nabla_b, which no gradient vocabulary guesses."""

    def __init__(self, n_in, n_out, seed=0):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_in, n_out))
        self.b = rng.normal(size=n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, delta):
        self.nabla_W = self.x.T @ delta
        self.nabla_b = delta.sum(axis=0)
        return delta @ self.W.T


class NablaLinearBug(NablaLinear):
    """Planted bug: the weight gradient is halved (the 1/2 of a squared loss carried into the layer)."""

    def backward(self, delta):
        self.nabla_W = self.x.T @ delta * 0.5
        self.nabla_b = delta.sum(axis=0)
        return delta @ self.W.T


class PerSampleSquaredError:
    """A loss, not a layer, though its forward takes two arrays and returns an array (one loss per sample):
    backward(dvalues, y_true) takes the predictions and keeps self.dinputs (the nnfs book's style)."""

    def forward(self, y_pred, y_true):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    def backward(self, dvalues, y_true):
        samples, outputs = len(dvalues), len(dvalues[0])
        self.dinputs = -2 * (y_true - dvalues) / outputs / samples


class PerSampleSquaredErrorBug(PerSampleSquaredError):
    """Planted bug: the mean over the outputs is forgotten in backward."""

    def backward(self, dvalues, y_true):
        self.dinputs = -2 * (y_true - dvalues) / len(dvalues)


def elman_make(rng, cls):
    return cls(3, 4), {"x": rng.normal(size=(3, 1)), "h_prev": rng.normal(size=(4, 1))}


def gate_make(rng, cls):
    return cls(), {"u": rng.normal(size=(3, 4)), "v": rng.normal(size=(3, 4))}


def skip_make(rng, cls):
    return cls(rng.normal(size=(4, 4))), {"x": rng.normal(size=(2, 4)), "skip": rng.normal(size=(2, 4))}


def project_make(rng, cls):
    return cls(rng.normal(size=(3, 4))), {"x": rng.normal(size=(2, 3)), "h": rng.normal(size=(2, 4))}


def dropout_make(rng, cls):
    return cls(0.25), {"x": rng.normal(size=(4, 5)), "mask": rng.integers(0, 2, size=(4, 5))}


def table_make(rng, cls):
    return cls(rng.normal(size=(6, 3))), {"ids": np.array([0, 2, 0, 5])}


def cmu_make(rng, cls):
    return cls(4, 3), rng.normal(size=(5, 4))


def nabla_make(rng, cls):
    return cls(4, 3), rng.normal(size=(5, 4))
