"""Layer classes in styles gradviz was not written for (our own code, written the way these courses write it).

- recurrent layers that keep their states in history lists and whose backward takes the input first, the
  upstream gradient second and an activator object third: `backward(x, delta_h, activator)` (the
  "deep learning from zero" blog-course style, column vectors, activators with forward/backward);
- a practical-course style: `backward(self, input, grad_output)`, the layer updating its own weights
  with `self.learning_rate` and returning only the input gradient;
- a class whose forward returns `(out, cache)` and whose backward takes `(dout, cache)`;
- a module whose `__call__` runs forward (PyTorch habits) beside forward/backward.
Each is correct; each `...Bug` subclass plants one mistake.
"""

import numpy as np


class TanhActivator:
    def forward(self, weighted_input):
        return np.tanh(weighted_input)

    def backward(self, output):
        """The derivative, from the activation's output."""
        return 1 - output * output


class RecurrentLayer:
    """s_t = f(U x_t + W s_{t-1} + b), states kept in self.state_list; BPTT over one step."""

    def __init__(self, U, W, b, s0):
        self.U, self.W, self.b = U, W, b
        self.activator = TanhActivator()
        self.times = 0
        self.state_list = [s0]

    def forward(self, input_array):
        self.times += 1
        state = self.U @ input_array + self.W @ self.state_list[-1] + self.b
        self.state_list.append(self.activator.forward(state))

    def backward(self, x, delta_h, activator):
        delta = delta_h * activator.backward(self.state_list[-1])
        self.W_grad = delta @ self.state_list[-2].T
        self.U_grad = delta @ x.T
        self.b_grad = delta


class RecurrentLayerBug(RecurrentLayer):
    def backward(self, x, delta_h, activator):
        """Planted bug: W's gradient uses the new state instead of the previous one."""
        delta = delta_h * activator.backward(self.state_list[-1])
        self.W_grad = delta @ self.state_list[-1].T
        self.U_grad = delta @ x.T
        self.b_grad = delta


class GatedCell:
    """A cell keeping two histories, z (pre-activation) and h; backward(x, delta_h, activator) names h."""

    def __init__(self, Wx, Wh, b, h0):
        self.Wx, self.Wh, self.b = Wx, Wh, b
        self.activator = TanhActivator()
        self.z_list, self.h_list = [], [h0]

    def forward(self, x):
        z = self.Wx @ x + self.Wh @ self.h_list[-1] + self.b
        self.z_list.append(z)
        self.h_list.append(self.activator.forward(z) * 0.5 + 0.5 * self.h_list[-1])

    def backward(self, x, delta_h, activator):
        delta_z = 0.5 * delta_h * activator.backward(self.activator.forward(self.z_list[-1]))
        self.Wx_grad = delta_z @ x.T
        self.Wh_grad = delta_z @ self.h_list[-2].T
        self.b_grad = delta_z
        self.delta_x = self.Wx.T @ delta_z
        return self.delta_x


class GatedCellBug(GatedCell):
    def backward(self, x, delta_h, activator):
        """Planted bug: the 0.5 of the gate is forgotten in the bias gradient."""
        delta_z = 0.5 * delta_h * activator.backward(self.activator.forward(self.z_list[-1]))
        self.Wx_grad = delta_z @ x.T
        self.Wh_grad = delta_z @ self.h_list[-2].T
        self.b_grad = delta_z * 2
        return self.Wx.T @ delta_z


class Dense:
    """backward(input, grad_output): updates its weights with self.learning_rate, returns grad_input."""

    def __init__(self, weights, biases, learning_rate=0.1):
        self.learning_rate = learning_rate
        self.weights, self.biases = weights, biases

    def forward(self, input):
        return input @ self.weights + self.biases

    def backward(self, input, grad_output):
        grad_input = grad_output @ self.weights.T
        grad_weights = input.T @ grad_output
        grad_biases = grad_output.sum(axis=0)
        self.weights = self.weights - self.learning_rate * grad_weights
        self.biases = self.biases - self.learning_rate * grad_biases
        return grad_input


class DenseBug(Dense):
    def backward(self, input, grad_output):
        """Planted bug: the bias gradient is averaged over the batch."""
        grad_input = grad_output @ self.weights.T
        grad_weights = input.T @ grad_output
        grad_biases = grad_output.mean(axis=0)
        self.weights = self.weights - self.learning_rate * grad_weights
        self.biases = self.biases - self.learning_rate * grad_biases
        return grad_input


class ReLU:
    def forward(self, input):
        return np.maximum(0, input)

    def backward(self, input, grad_output):
        return grad_output * (input > 0)


class ReLUBug(ReLU):
    def backward(self, input, grad_output):
        """Planted bug: a leak below zero the forward does not have."""
        return grad_output * np.where(input > 0, 1.0, 0.1)


class Affine:
    """forward returns (out, cache); backward(dout, cache) returns dx, dw, db."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def forward(self, x):
        out = x.reshape(x.shape[0], -1) @ self.w + self.b
        return out, (x, self.w)

    def backward(self, dout, cache):
        x, w = cache
        dx = (dout @ w.T).reshape(x.shape)
        dw = x.reshape(x.shape[0], -1).T @ dout
        db = dout.sum(axis=0)
        return dx, dw, db


class AffineBug(Affine):
    def backward(self, dout, cache):
        """Planted bug: dx is not reshaped back (its values are right, its shape is not)."""
        x, w = cache
        dx = dout @ w.T
        dw = x.reshape(x.shape[0], -1).T @ dout
        db = dout.sum(axis=0)
        return dx, dw, db


class Tanh:
    """__call__ runs forward, as in a PyTorch module; the output is kept on self.out."""

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        return grad * (1 - self.out ** 2)


class TanhBug(Tanh):
    def backward(self, grad):
        """Planted bug: the derivative of tanh taken as 1 - tanh."""
        return grad * (1 - self.out)


def recurrent_make(rng, cls):
    return cls(rng.normal(size=(4, 3)) * 0.5, rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 1)) * 0.1,
               rng.normal(size=(4, 1))), rng.normal(size=(3, 1))


def gated_make(rng, cls):
    return cls(rng.normal(size=(4, 3)) * 0.5, rng.normal(size=(4, 4)) * 0.5, rng.normal(size=(4, 1)) * 0.1,
               rng.normal(size=(4, 1))), rng.normal(size=(3, 1))


def dense_make(rng, cls):
    return cls(rng.normal(size=(4, 3)) * 0.5, rng.normal(size=3) * 0.1), rng.normal(size=(5, 4))


def relu_make(rng, cls):
    x = rng.normal(size=(4, 5))
    return cls(), np.where(np.abs(x) < 0.05, 0.5, x)


def affine_make(rng, cls):
    return cls(rng.normal(size=(12, 3)), rng.normal(size=3)), rng.normal(size=(2, 3, 4))


def tanh_make(rng, cls):
    return cls(), rng.normal(size=(3, 4))


# -- odd conventions: correct code whose reading cannot be confirmed from the code alone ------------------------
class GatedCellUnnamed(GatedCell):
    """Two histories and an upstream gradient named `delta`: which history is the output? (outputs="h_list")"""

    def backward(self, x, delta, activator):
        return GatedCell.backward(self, x, delta, activator)


class TwoStates:
    """Results on self, two attributes that could each be the output, backward(g): (outputs="post")"""

    def __init__(self, w):
        self.w = w

    def forward(self, x):
        self.inputs = x
        self.pre = x * self.w
        self.post = np.tanh(self.pre)

    def backward(self, g):
        dpre = g * (1 - self.post ** 2)
        self.dw = np.sum(dpre * self.inputs, axis=0)
        self.dinputs = dpre * self.w


def two_states_make(rng, cls):
    return cls(rng.normal(size=3)), rng.normal(size=(4, 3))


# (class, maker, the Python keywords that resolve it, the command-line flags that do)
ODD = [
    ("GatedCellUnnamed", "gated_make", {"outputs": "h_list"}, ["--outputs", "h_list"]),
    ("TwoStates", "two_states_make", {"outputs": "post"}, ["--outputs", "post"]),
]


class StepRule:
    """A library optimizer: update(param, param_grad, param_name) and per-parameter state in `cache`."""

    def __init__(self, lr=0.01):
        self.lr, self.cache = lr, {}

    def update(self, param, param_grad, param_name):
        self.cache[param_name] = self.cache.get(param_name, 0) + 1
        return param - self.lr * param_grad


class LayerNorm1D:
    """backward(dLdy) hands its gradients to self.optimizer.update(param, grad, name) and reads its cache."""

    def __init__(self, gamma, beta):
        self.gamma, self.beta = gamma, beta
        self.optimizer = StepRule()

    def forward(self, X):
        self.X = X
        self.mu, self.var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
        self.xhat = (X - self.mu) / np.sqrt(self.var + 1e-5)
        return self.gamma * self.xhat + self.beta

    def backward(self, dLdy):
        n = self.X.shape[1]
        dxhat = dLdy * self.gamma
        dX = (n * dxhat - dxhat.sum(axis=1, keepdims=True)
              - self.xhat * (dxhat * self.xhat).sum(axis=1, keepdims=True)) / (n * np.sqrt(self.var + 1e-5))
        steps = sum(self.optimizer.cache.values())  # reads the optimizer's own state
        self.gamma = self.optimizer.update(self.gamma, (dLdy * self.xhat).sum(axis=0), "gamma")
        self.beta = self.optimizer.update(self.beta, dLdy.sum(axis=0), "beta")
        self.steps = steps + 2
        return dX


class LayerNorm1DBug(LayerNorm1D):
    def backward(self, dLdy):
        """Planted bug: beta's gradient averaged over the batch."""
        n = self.X.shape[1]
        dxhat = dLdy * self.gamma
        dX = (n * dxhat - dxhat.sum(axis=1, keepdims=True)
              - self.xhat * (dxhat * self.xhat).sum(axis=1, keepdims=True)) / (n * np.sqrt(self.var + 1e-5))
        self.gamma = self.optimizer.update(self.gamma, (dLdy * self.xhat).sum(axis=0), "gamma")
        self.beta = self.optimizer.update(self.beta, dLdy.mean(axis=0), "beta")
        return dX


def layernorm_make(rng, cls):
    return cls(1 + 0.1 * rng.normal(size=4), 0.1 * rng.normal(size=4)), rng.normal(size=(5, 4))
