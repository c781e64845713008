"""Optimizer classes as courses and from-scratch repositories write them, one per calling convention."""

import numpy as np


class Adam:
    """One optimizer per weight, update(w, grad_wrt_w) -> w (layers keep `self.W_opt = copy(optimizer)`)."""

    def __init__(self, learning_rate=0.001, b1=0.9, b2=0.999):
        self.learning_rate, self.b1, self.b2, self.eps = learning_rate, b1, b2, 1e-8
        self.m = self.v = None
        self.t = 0

    def update(self, w, grad_wrt_w):
        if self.m is None:
            self.m, self.v = np.zeros(np.shape(grad_wrt_w)), np.zeros(np.shape(grad_wrt_w))
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad_wrt_w
        self.v = self.b2 * self.v + (1 - self.b2) * np.power(grad_wrt_w, 2)
        m_hat = self.m / (1 - self.b1**self.t)
        v_hat = self.v / (1 - self.b2**self.t)
        return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamFixedPowerBug(Adam):
    """The correction divides by (1 - b1) and (1 - b2) at every step: t never enters it."""

    def update(self, w, grad_wrt_w):
        if self.m is None:
            self.m, self.v = np.zeros(np.shape(grad_wrt_w)), np.zeros(np.shape(grad_wrt_w))
        self.m = self.b1 * self.m + (1 - self.b1) * grad_wrt_w
        self.v = self.b2 * self.v + (1 - self.b2) * np.power(grad_wrt_w, 2)
        m_hat = self.m / (1 - self.b1)
        v_hat = self.v / (1 - self.b2)
        return w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


class SGD:
    """In place over lists: update(params, grads)."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for p, g in zip(params, grads):
            p -= self.lr * g


class SGDCopyBug(SGD):
    """The update rebinds a local name: the parameters never change."""

    def update(self, params, grads):
        for p, g in zip(params, grads):
            p = p - self.lr * g  # noqa: F841


class Momentum:
    """Over dicts keyed alike, returning the new parameters: params = opt.update(params, grads)."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum, self.v = lr, momentum, None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: np.zeros_like(val) for k, val in params.items()}
        new = {}
        for key in params:
            self.v[key] = self.momentum * self.v[key] + grads[key]
            new[key] = params[key] - self.lr * self.v[key]
        return new


class AdamEpoch:
    """A course report's Adam: update(layer_name, params, grads, epoch), the epoch passed by the training loop."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.lr, self.beta1, self.beta2, self.epsilon = lr, beta1, beta2, epsilon
        self.m, self.v, self.t = {}, {}, {}

    def update(self, layer_name, params, grads, epoch):
        if layer_name not in self.m:
            self.m[layer_name] = {k: np.zeros_like(p) for k, p in params.items()}
            self.v[layer_name] = {k: np.zeros_like(p) for k, p in params.items()}
            self.t[layer_name] = 0
        self.t[layer_name] += 1
        t = self.t[layer_name]
        new = {}
        for k in params:
            m = self.m[layer_name][k] = self.beta1 * self.m[layer_name][k] + (1 - self.beta1) * grads[k]
            v = self.v[layer_name][k] = self.beta2 * self.v[layer_name][k] + (1 - self.beta2) * grads[k] ** 2
            new[k] = params[k] - self.lr * (m / (1 - self.beta1**t)) / (np.sqrt(v / (1 - self.beta2**t)) + self.epsilon)
        return new


class AdamEpochBug(AdamEpoch):
    """The bias correction uses the epoch number: at epoch 0 it divides by zero, later the power is wrong."""

    def update(self, layer_name, params, grads, epoch):
        if layer_name not in self.m:
            self.m[layer_name] = {k: np.zeros_like(p) for k, p in params.items()}
            self.v[layer_name] = {k: np.zeros_like(p) for k, p in params.items()}
        new = {}
        for k in params:
            m = self.m[layer_name][k] = self.beta1 * self.m[layer_name][k] + (1 - self.beta1) * grads[k]
            v = self.v[layer_name][k] = self.beta2 * self.v[layer_name][k] + (1 - self.beta2) * grads[k] ** 2
            with np.errstate(divide="ignore", invalid="ignore"):
                m_hat, v_hat = m / (1 - self.beta1**epoch), v / (1 - self.beta2**epoch)
                new[k] = params[k] - self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)
        return new


class Layer:
    def __init__(self, n_in, n_out, seed):
        rng = np.random.default_rng(seed)
        self.parameters = {"W": rng.normal(size=(n_in, n_out)), "b": np.zeros(n_out)}


class RMSPropTemplate:
    """A course template: the optimizer holds the model's layers; update(grads, name, epoch) returns that layer's
    new parameters and the training loop writes them back (`layers[name].parameters = opt.update(...)`)."""

    def __init__(self, layers, learning_rate=0.01, rho=0.9, eps=1e-8):
        self.layers, self.learning_rate, self.rho, self.eps = layers, learning_rate, rho, eps
        self.cache = {name: {k: np.zeros_like(p) for k, p in layer.parameters.items()}
                      for name, layer in layers.items()}

    def update(self, grads, name, epoch):
        params, cache = self.layers[name].parameters, self.cache[name]
        new = {}
        for k, g in grads.items():
            cache[k] = self.rho * cache[k] + (1 - self.rho) * g * g
            new[k] = params[k] - self.learning_rate * g / (np.sqrt(cache[k]) + self.eps)
        return new


class RMSPropSharedStateBug(RMSPropTemplate):
    """One cache for every layer: the layers' squared gradients are averaged together."""

    def update(self, grads, name, epoch):
        params = self.layers[name].parameters
        if not hasattr(self, "shared"):
            self.shared = {k: 0.0 for k in params}
        new = {}
        for k, g in grads.items():
            self.shared[k] = self.rho * self.shared[k] + (1 - self.rho) * g * g
            new[k] = params[k] - self.learning_rate * g / (np.sqrt(self.shared[k]) + self.eps)
        return new


class StepAdam:
    """PyTorch style: Adam(params, lr).step() over parameters holding .grad (gradviz Tensors here)."""

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.state = [{"m": 0.0, "v": 0.0} for _ in self.params]
        self.t = 0

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for p, s in zip(self.params, self.state):
            s["m"] = b1 * s["m"] + (1 - b1) * p.grad
            s["v"] = b2 * s["v"] + (1 - b2) * p.grad**2
            p.data = p.data - self.lr * (s["m"] / (1 - b1**self.t)) / (np.sqrt(s["v"] / (1 - b2**self.t)) + self.eps)


class StepAdamCounterBug(StepAdam):
    """t is advanced inside the loop over parameters: the step counter is shared between them."""

    def step(self):
        b1, b2 = self.betas
        for p, s in zip(self.params, self.state):
            self.t += 1
            s["m"] = b1 * s["m"] + (1 - b1) * p.grad
            s["v"] = b2 * s["v"] + (1 - b2) * p.grad**2
            p.data = p.data - self.lr * (s["m"] / (1 - b1**self.t)) / (np.sqrt(s["v"] / (1 - b2**self.t)) + self.eps)


class Parameter(np.ndarray):
    """An array with a .grad attribute, as from-scratch frameworks define parameters."""

    def __new__(cls, value):
        obj = np.array(value, dtype=np.float64).view(cls)
        obj.grad = np.zeros_like(obj)
        return obj

    def __array_finalize__(self, obj):
        self.grad = getattr(obj, "grad", None)


class StepNesterov:
    """step() over arrays with .grad, updated in place."""

    def __init__(self, params, lr=0.01, momentum=0.9):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [np.zeros(p.shape) for p in params]

    def step(self):
        for p, v in zip(self.params, self.velocity):
            v *= self.momentum
            v += np.asarray(p.grad)
            p -= self.lr * (np.asarray(p.grad) + self.momentum * v)


class RMSPropHolding:
    """Holds the parameters: opt = RMSPropHolding(params); params = opt.update(grads, epoch)."""

    def __init__(self, params, lr=0.01, rho=0.9, eps=1e-8):
        self.params, self.lr, self.rho, self.eps = params, lr, rho, eps
        self.cache = [np.zeros_like(p) for p in params]

    def update(self, grads, epoch):
        new = []
        for p, g, c in zip(self.params, grads, self.cache):
            c[...] = self.rho * c + (1 - self.rho) * g * g
            new.append(p - self.lr * g / (np.sqrt(c) + self.eps))
        self.params = new
        return new


class RMSPropHoldingCopyBug(RMSPropHolding):
    """Each update goes to a copy the loop throws away: the parameters it holds never change."""

    def update(self, grads, epoch):
        for p, g, c in zip(self.params, grads, self.cache):
            c[...] = self.rho * c + (1 - self.rho) * g * g
            p = p - self.lr * g / (np.sqrt(c) + self.eps)  # noqa: F841
        return self.params


class KerasStyleAdam:
    """Right rule, Keras's eps = 1e-7 hard-coded (not an attribute gradviz can read)."""

    def __init__(self, learning_rate=0.001):
        self.learning_rate, self.m, self.v, self.t = learning_rate, None, None, 0

    def update(self, w, grad):
        if self.m is None:
            self.m, self.v = np.zeros_like(w), np.zeros_like(w)
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * grad
        self.v = 0.999 * self.v + 0.001 * grad**2
        return w - self.learning_rate * (self.m / (1 - 0.9**self.t)) / (np.sqrt(self.v / (1 - 0.999**self.t)) + 1e-7)
