"""Hand-written numpy layers in course and textbook styles no earlier fixture has (third new-user pass).

Each style comes as a correct version and a version with one planted slip (the `...Bug` / `..._bug` name).
Written for the tests, in the manner of: Nielsen's network.py (column vectors, `backprop(x, y)` returning
`(nabla_b, nabla_w)`), the nnfs book (results on `self`, a softmax whose backward builds each sample's
Jacobian, an L2 regularizer folded into `dweights`), deeplearning.ai's `L_model_forward`/`L_model_backward`,
CS231n's `TwoLayerNet.loss(X, y)`, a GRU step with a cache, an im2col convolution with stride and padding,
a transposed 1-D convolution, RMSNorm with a (1, D) gain, a focal loss and a label-smoothing cross-entropy, a
Keras-like `Layer` built lazily on its first call, PReLU with a Python-float slope, and a Sequential container
whose parameters live in its sub-layers.
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


# -- Nielsen: a whole network, column vectors, backprop(x, y) -> (nabla_b, nabla_w) for 0.5 * ||a - y||^2 --------
class Network:
    def __init__(self, sizes):
        rng = np.random.default_rng(0)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) for m, n in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.output_delta(activations[-1], y, zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T
        for layer in range(2, self.num_layers):
            delta = (self.weights[-layer + 1].T @ delta) * sigmoid_prime(zs[-layer])
            nabla_b[-layer] = delta
            nabla_w[-layer] = delta @ activations[-layer - 1].T
        return nabla_b, nabla_w

    def output_delta(self, a, y, z):
        return self.cost_derivative(a, y) * sigmoid_prime(z)

    def cost_derivative(self, output_activations, y):
        return output_activations - y


class NetworkBug(Network):
    def output_delta(self, a, y, z):
        return self.cost_derivative(a, y)  # bug: the quadratic cost needs sigmoid_prime(z) here


# -- nnfs: softmax whose backward builds each sample's Jacobian; results on self -------------------------------
class Activation_Softmax:
    def forward(self, inputs):
        self.inputs = inputs
        e = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = e / np.sum(e, axis=1, keepdims=True)

    def backward(self, dvalues):
        self.dinputs = np.empty_like(dvalues)
        for index, (single_output, single_dvalues) in enumerate(zip(self.output, dvalues)):
            single_output = self.column(single_output)
            jacobian = np.diagflat(single_output) - np.dot(single_output, single_output.T)
            self.dinputs[index] = np.dot(jacobian, single_dvalues)

    def column(self, s):
        return s.reshape(-1, 1)


class Activation_SoftmaxBug(Activation_Softmax):
    def column(self, s):
        return s  # bug: without the reshape, s . s is a number, not the outer product


# -- nnfs: a dense layer with L1/L2 regularizers whose gradients are folded into dweights/dbiases ---------------
class Layer_Dense_Reg:
    def __init__(self, n_inputs, n_neurons, weight_regularizer_l2=0.0, bias_regularizer_l2=0.0):
        rng = np.random.default_rng(0)
        self.weights = 0.5 * rng.standard_normal((n_inputs, n_neurons))
        self.biases = 0.1 * rng.standard_normal((1, n_neurons))
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l2 > 0:
            self.dweights += self.l2_factor() * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)

    def l2_factor(self):
        return 2


class Layer_Dense_RegBug(Layer_Dense_Reg):
    def l2_factor(self):
        return 1  # bug: d(lambda * sum W^2)/dW is 2 * lambda * W


# -- deeplearning.ai: L_model_forward(X, parameters) / L_model_backward(AL, Y, caches), (features, batch) ----------
def compute_cost(AL, Y):
    m = Y.shape[1]
    return float(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def L_model_forward(X, parameters):
    caches, A = [], X
    L = len(parameters) // 2
    for layer in range(1, L + 1):
        W, b = parameters["W" + str(layer)], parameters["b" + str(layer)]
        Z = W @ A + b
        A_prev, A = A, (sigmoid(Z) if layer == L else np.maximum(0, Z))
        caches.append(((A_prev, W, b), Z))
    return A, caches


def _dlai_backward(AL, Y, caches, db_scale):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for layer in reversed(range(1, L + 1)):
        (A_prev, W, b), Z = caches[layer - 1]
        dZ = dA * sigmoid_prime(Z) if layer == L else dA * (Z > 0)
        grads["dW" + str(layer)] = dZ @ A_prev.T / m
        grads["db" + str(layer)] = np.sum(dZ, axis=1, keepdims=True) * db_scale(m)
        dA = W.T @ dZ
        grads["dA" + str(layer - 1)] = dA
    return grads


def L_model_backward(AL, Y, caches):
    return _dlai_backward(AL, Y, caches, lambda m: 1.0 / m)


def L_model_backward_bug(AL, Y, caches):
    return _dlai_backward(AL, Y, caches, lambda m: 1.0)  # bug: db without 1/m


# -- CS231n: TwoLayerNet.loss(X, y) -> (loss, grads), self.params, reg * sum(W^2) ----------------------------------
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, std=0.5):
        rng = np.random.default_rng(0)
        self.params = {"W1": std * rng.standard_normal((input_size, hidden_size)),
                       "b1": np.zeros(hidden_size),
                       "W2": std * rng.standard_normal((hidden_size, output_size)),
                       "b2": np.zeros(output_size)}

    def loss(self, X, y=None, reg=0.05):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        N = X.shape[0]
        h = np.maximum(0, X @ W1 + b1)
        scores = h @ W2 + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        grads = {"W2": h.T @ dscores + self.reg_grad(reg, W2), "b2": dscores.sum(axis=0)}
        dh = dscores @ W2.T * (h > 0)
        grads["W1"] = X.T @ dh + 2 * reg * W1
        grads["b1"] = dh.sum(axis=0)
        return loss, grads

    def reg_grad(self, reg, W):
        return 2 * reg * W


class TwoLayerNetBug(TwoLayerNet):
    def reg_grad(self, reg, W):
        return reg * W  # bug: the factor 2 of the square is lost


# -- a GRU step as a function pair with a cache; gates packed in W (D, 3H), U (H, 3H), b (3H,) -----------------
def gru_step_forward(x, h_prev, W, U, b):
    H = h_prev.shape[1]
    a = x @ W[:, :2 * H] + h_prev @ U[:, :2 * H] + b[:2 * H]
    z, r = sigmoid(a[:, :H]), sigmoid(a[:, H:])
    hh = np.tanh(x @ W[:, 2 * H:] + (r * h_prev) @ U[:, 2 * H:] + b[2 * H:])
    h_next = (1 - z) * h_prev + z * hh
    return h_next, (x, h_prev, W, U, z, r, hh)


def _gru_backward(dh_next, cache, keep_direct):
    x, h_prev, W, U, z, r, hh = cache
    H = h_prev.shape[1]
    dhh = dh_next * z
    dz = dh_next * (hh - h_prev)
    dh_prev = dh_next * (1 - z) if keep_direct else np.zeros_like(h_prev)
    dah = dhh * (1 - hh ** 2)
    drh = dah @ U[:, 2 * H:].T
    dr = drh * h_prev
    dh_prev = dh_prev + drh * r
    da = np.hstack([dz * z * (1 - z), dr * r * (1 - r)])
    dh_prev = dh_prev + da @ U[:, :2 * H].T
    dx = da @ W[:, :2 * H].T + dah @ W[:, 2 * H:].T
    dW = np.hstack([x.T @ da, x.T @ dah])
    dU = np.hstack([h_prev.T @ da, (r * h_prev).T @ dah])
    db = np.concatenate([da.sum(axis=0), dah.sum(axis=0)])
    return dx, dh_prev, dW, dU, db


def gru_step_backward(dh_next, cache):
    return _gru_backward(dh_next, cache, True)


def gru_step_backward_bug(dh_next, cache):
    return _gru_backward(dh_next, cache, False)  # bug: the (1 - z) * h_prev path is dropped


# -- an im2col convolution, NCHW, with stride and padding; backward returns dX and keeps self.dW, self.db --------
def _im2col_indices(shape, k, stride, pad):
    N, C, H, W = shape
    out_h, out_w = (H + 2 * pad - k) // stride + 1, (W + 2 * pad - k) // stride + 1
    i0 = np.tile(np.repeat(np.arange(k), k), C)
    i1 = stride * np.repeat(np.arange(out_h), out_w)
    j0 = np.tile(np.arange(k), k * C)
    j1 = stride * np.tile(np.arange(out_w), out_h)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    c = np.repeat(np.arange(C), k * k).reshape(-1, 1)
    return c, i, j, out_h, out_w


class ConvIm2Col:
    def __init__(self, in_channels, n_filters, filter_size=3, stride=2, padding=1):
        rng = np.random.default_rng(0)
        self.W = 0.3 * rng.standard_normal((n_filters, in_channels, filter_size, filter_size))
        self.b = 0.1 * rng.standard_normal((n_filters, 1))
        self.stride, self.padding = stride, padding

    def forward(self, X):
        self.X_shape = X.shape
        k, p = self.W.shape[2], self.padding
        c, i, j, out_h, out_w = _im2col_indices(X.shape, k, self.stride, p)
        X_pad = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)))
        self.X_col = X_pad[:, c, i, j].transpose(1, 2, 0).reshape(k * k * X.shape[1], -1)
        out = self.W.reshape(self.W.shape[0], -1) @ self.X_col + self.b
        return out.reshape(self.W.shape[0], out_h, out_w, X.shape[0]).transpose(3, 0, 1, 2)

    def backward(self, dout):
        F = self.W.shape[0]
        dout_flat = dout.transpose(1, 2, 3, 0).reshape(F, -1)
        self.db = dout_flat.sum(axis=1, keepdims=True)
        self.dW = (dout_flat @ self.X_col.T).reshape(self.W.shape)
        dX_col = self.W.reshape(F, -1).T @ dout_flat
        return self.col2im(dX_col)

    def col2im(self, cols):
        N, C, H, W = self.X_shape
        k, p = self.W.shape[2], self.padding
        c, i, j, _, _ = _im2col_indices(self.X_shape, k, self.stride, p)
        X_pad = np.zeros((N, C, H + 2 * p, W + 2 * p))
        cols = cols.reshape(C * k * k, -1, N).transpose(2, 0, 1)
        self.scatter(X_pad, (slice(None), c, i, j), cols)
        return X_pad[:, :, p:p + H, p:p + W]

    def scatter(self, target, index, values):
        np.add.at(target, index, values)


class ConvIm2ColBug(ConvIm2Col):
    def scatter(self, target, index, values):
        target[index] = values  # bug: overlapping windows overwrite instead of adding


# -- a transposed 1-D convolution, function pair with a cache: x (N, C_in, L), w (C_in, C_out, K) ----------------
def conv1d_transpose_forward(x, w, stride=2):
    N, C_in, L = x.shape
    _, C_out, K = w.shape
    out = np.zeros((N, C_out, (L - 1) * stride + K))
    for t in range(L):
        out[:, :, t * stride:t * stride + K] += np.einsum("nc,cok->nok", x[:, :, t], w)
    return out, (x, w, stride)


def _conv1d_transpose_backward(dout, cache, accumulate):
    x, w, stride = cache
    K = w.shape[2]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for t in range(x.shape[2]):
        window = dout[:, :, t * stride:t * stride + K]
        dx[:, :, t] = np.einsum("nok,cok->nc", window, w)
        step = np.einsum("nc,nok->cok", x[:, :, t], window)
        dw = dw + step if accumulate else step
    return dx, dw


def conv1d_transpose_backward(dout, cache):
    return _conv1d_transpose_backward(dout, cache, True)


def conv1d_transpose_backward_bug(dout, cache):
    return _conv1d_transpose_backward(dout, cache, False)  # bug: dw keeps only the last position


# -- RMSNorm with a gain of shape (1, D) ---------------------------------------------------------------------------
class RMSNorm:
    def __init__(self, dim, eps=1e-6):
        self.gamma = np.ones((1, dim)) + 0.1 * np.arange(dim)
        self.eps = eps

    def forward(self, x):
        self.x = x
        self.rms = np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + self.eps)
        self.x_hat = x / self.rms
        return self.gamma * self.x_hat

    def backward(self, dout):
        self.dgamma = np.sum(dout * self.x_hat, axis=0, keepdims=True)
        g = dout * self.gamma
        return g / self.rms - self.correction(g)

    def correction(self, g):
        D = self.x.shape[-1]
        return self.x_hat * np.sum(g * self.x_hat, axis=-1, keepdims=True) / (D * self.rms)


class RMSNormBug(RMSNorm):
    def correction(self, g):
        return 0.0  # bug: the rms depends on x too


# -- a binary focal loss on logits returning (loss, dlogits) -------------------------------------------------------
def focal_loss(logits, y, gamma=2.0):
    p = sigmoid(logits)
    pt = np.where(y == 1, p, 1 - p)
    loss = -np.mean((1 - pt) ** gamma * np.log(pt))
    dpt = gamma * (1 - pt) ** (gamma - 1) * np.log(pt) - (1 - pt) ** gamma / pt
    dlogits = dpt * np.where(y == 1, 1.0, -1.0) * p * (1 - p) / logits.size
    return loss, dlogits


def focal_loss_bug(logits, y, gamma=2.0):
    p = sigmoid(logits)
    pt = np.where(y == 1, p, 1 - p)
    loss = -np.mean((1 - pt) ** gamma * np.log(pt))
    dpt = -(1 - pt) ** gamma / pt  # bug: the modulating factor (1 - pt)^gamma is treated as a constant
    dlogits = dpt * np.where(y == 1, 1.0, -1.0) * p * (1 - p) / logits.size
    return loss, dlogits


# -- label-smoothing cross-entropy as a loss class: forward(logits, labels) -> loss, backward() -> dlogits -------
class LabelSmoothingCrossEntropy:
    def __init__(self, smoothing=0.1):
        self.smoothing = smoothing

    def forward(self, logits, labels):
        N, C = logits.shape
        shifted = logits - logits.max(axis=1, keepdims=True)
        self.log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.target = np.full((N, C), self.smoothing / C)
        self.target[np.arange(N), labels] += 1 - self.smoothing
        return -np.sum(self.target * self.log_probs) / N

    def backward(self):
        N = self.target.shape[0]
        return (np.exp(self.log_probs) - self.targets_for_grad()) / N

    def targets_for_grad(self):
        return self.target


class LabelSmoothingCrossEntropyBug(LabelSmoothingCrossEntropy):
    def targets_for_grad(self):
        hard = np.zeros_like(self.target)
        hard[np.arange(hard.shape[0]), self.target.argmax(axis=1)] = 1.0
        return hard  # bug: the gradient uses the hard one-hot labels, not the smoothed ones


# -- Keras-like: weights made in build() on the first call; call() and get_gradients() ---------------------------
class Layer:
    def __init__(self):
        self.built = False

    def __call__(self, inputs):
        if not self.built:
            self.build(inputs.shape)
            self.built = True
        return self.call(inputs)


class Dense(Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        rng = np.random.default_rng(0)
        self.kernel = 0.5 * rng.standard_normal((input_shape[-1], self.units))
        self.bias = 0.1 * rng.standard_normal(self.units)

    def call(self, inputs):
        self.inputs = inputs
        return np.tanh(inputs @ self.kernel + self.bias)

    def get_gradients(self, output_gradient):
        out = np.tanh(self.inputs @ self.kernel + self.bias)
        dz = output_gradient * (1 - out ** 2)
        return dz @ self.kernel.T, [self.inputs.T @ dz, self.bias_gradient(dz)]

    def bias_gradient(self, dz):
        return dz.sum(axis=0)


class DenseBug(Dense):
    def bias_gradient(self, dz):
        return dz.mean(axis=0)  # bug: the bias is added to every row, its gradient sums them


# -- PReLU with a learnable slope kept as a Python float ------------------------------------------------------------
class PReLU:
    def __init__(self, alpha=0.25):
        self.alpha = alpha

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        self.dalpha = float(np.sum(dout * self.slope_mask(self.x)))
        return dout * np.where(self.x > 0, 1.0, self.alpha)

    def slope_mask(self, x):
        return np.where(x > 0, 0.0, x)


class PReLUBug(PReLU):
    def slope_mask(self, x):
        return np.where(x > 0, x, 0.0)  # bug: the slope multiplies the negative side, not the positive one


# -- a Sequential container: the parameters live in its sub-layers, each keeping its own dW, db -----------------
class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = 0.5 * rng.standard_normal((n_in, n_out))
        self.b = 0.1 * rng.standard_normal(n_out)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class Tanh:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        return dout * self.derivative()

    def derivative(self):
        return 1 - self.out ** 2


class TanhBug(Tanh):
    def derivative(self):
        return 1 - self.out  # bug: tanh' is 1 - tanh^2


class Sequential:
    activation = Tanh

    def __init__(self, n_in=4, n_hidden=5, n_out=3):
        rng = np.random.default_rng(0)
        self.layers = [Linear(n_in, n_hidden, rng), self.activation(), Linear(n_hidden, n_out, rng)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


class SequentialBug(Sequential):
    activation = TanhBug
