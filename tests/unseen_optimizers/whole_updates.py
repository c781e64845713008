"""Optimizers that update every parameter in one call, and functions whose state is a nested dict made by a
builder, in the styles of course assignments and small numpy libraries (written for these tests): gradients
keyed dW/db beside parameters keyed W/b, an argument called `weights`, a `step(params, grads)` over lists, an
`apply(variables, gradients)`, a state {'step': 0, 'first': {...}, 'second': {...}}. Each is correct, with a
planted bug beside it."""

import numpy as np


class MomentumDeltas:
    """Classical momentum; the training loop calls params = opt.update(params, grads), grads keyed dW, db."""

    def __init__(self, learning_rate=0.02, momentum=0.8):
        self.learning_rate, self.momentum = learning_rate, momentum
        self.velocity = None

    def update(self, params, grads):
        if self.velocity is None:
            self.velocity = {key: np.zeros_like(value) for key, value in params.items()}
        updated = {}
        for key, value in params.items():
            self.velocity[key] = self.momentum * self.velocity[key] + self.learning_rate * grads[f"d{key}"]
            updated[key] = value - self.velocity[key]
        return updated


class MomentumDeltasBug(MomentumDeltas):
    """Planted bug: the velocity is built with -lr*g (the classic form) but still subtracted."""

    def update(self, params, grads):
        if self.velocity is None:
            self.velocity = {key: np.zeros_like(value) for key, value in params.items()}
        updated = {}
        for key, value in params.items():
            self.velocity[key] = self.momentum * self.velocity[key] - self.learning_rate * grads[f"d{key}"]
            updated[key] = value - self.velocity[key]
        return updated


class WeightsRMSProp:
    """RMSProp over a dict called `weights`, changed in place; gradients keyed like the weights."""

    def __init__(self, lr=0.005, decay=0.95, eps=1e-6):
        self.lr, self.decay, self.eps = lr, decay, eps
        self.mean_square = {}

    def update(self, weights, gradients):
        for name in weights:
            g = gradients[name]
            ms = self.mean_square.get(name, np.zeros_like(g))
            ms = self.decay * ms + (1.0 - self.decay) * g * g
            self.mean_square[name] = ms
            weights[name] -= self.lr * g / (np.sqrt(ms) + self.eps)


class WeightsRMSPropBug(WeightsRMSProp):
    """Planted bug: the running average is of |g|, not of g squared."""

    def update(self, weights, gradients):
        for name in weights:
            g = gradients[name]
            ms = self.mean_square.get(name, np.zeros_like(g))
            ms = self.decay * ms + (1.0 - self.decay) * np.abs(g)
            self.mean_square[name] = ms
            weights[name] -= self.lr * g / (np.sqrt(ms) + self.eps)


class DecoupledAdam:
    """AdamW as torch.optim computes it, over lists of arrays updated in place: opt.step(params, grads)."""

    def __init__(self, lr=0.003, betas=(0.85, 0.995), eps=1e-8, weight_decay=0.05):
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.slots = []

    def step(self, params, grads):
        b1, b2 = self.betas
        if not self.slots:
            self.slots = [{"n": 0, "m": np.zeros_like(p), "v": np.zeros_like(p)} for p in params]
        for p, g, slot in zip(params, grads, self.slots):
            slot["n"] += 1
            p -= self.lr * self.weight_decay * p
            slot["m"] = b1 * slot["m"] + (1 - b1) * g
            slot["v"] = b2 * slot["v"] + (1 - b2) * g ** 2
            m_hat = slot["m"] / (1 - b1 ** slot["n"])
            v_hat = slot["v"] / (1 - b2 ** slot["n"])
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class DecoupledAdamBug(DecoupledAdam):
    """Planted bug: the decay is also added to the gradient, so it is applied twice."""

    def step(self, params, grads):
        b1, b2 = self.betas
        if not self.slots:
            self.slots = [{"n": 0, "m": np.zeros_like(p), "v": np.zeros_like(p)} for p in params]
        for p, g, slot in zip(params, grads, self.slots):
            slot["n"] += 1
            g = g + self.weight_decay * p
            p -= self.lr * self.weight_decay * p
            slot["m"] = b1 * slot["m"] + (1 - b1) * g
            slot["v"] = b2 * slot["v"] + (1 - b2) * g ** 2
            m_hat = slot["m"] / (1 - b1 ** slot["n"])
            v_hat = slot["v"] / (1 - b2 ** slot["n"])
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class GraphRMSProp:
    """RMSProp as TensorFlow 1 writes it, eps inside the root: opt.apply(variables, gradients) over lists."""

    def __init__(self, learning_rate=0.01, rho=0.9, epsilon=1e-6):
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon
        self.ms = None

    def apply(self, variables, gradients):
        if self.ms is None:
            self.ms = [np.zeros_like(v) for v in variables]
        out = []
        for i, (var, grad) in enumerate(zip(variables, gradients)):
            self.ms[i] = self.rho * self.ms[i] + (1 - self.rho) * np.square(grad)
            out.append(var - self.learning_rate * grad / np.sqrt(self.ms[i] + self.epsilon))
        return out


class GraphRMSPropBug(GraphRMSProp):
    """Planted bug: the mean square averages |g| (eps inside the root is TF1's way, not the bug)."""

    def apply(self, variables, gradients):
        if self.ms is None:
            self.ms = [np.zeros_like(v) for v in variables]
        out = []
        for i, (var, grad) in enumerate(zip(variables, gradients)):
            self.ms[i] = self.rho * self.ms[i] + (1 - self.rho) * np.abs(grad)
            out.append(var - self.learning_rate * grad / np.sqrt(self.ms[i] + self.epsilon))
        return out


def make_adam_state(params):
    """What the training loop keeps between steps: a step count and both moments, keyed like the parameters."""
    return {"step": 0, "first": {k: np.zeros_like(p) for k, p in params.items()},
            "second": {k: np.zeros_like(p) for k, p in params.items()}}


def adam_update(params, grads, state, lr=0.002, beta1=0.9, beta2=0.99, eps=1e-8):
    state["step"] += 1
    n = state["step"]
    out = {}
    for k, p in params.items():
        g = grads["d" + k]
        state["first"][k] = beta1 * state["first"][k] + (1 - beta1) * g
        state["second"][k] = beta2 * state["second"][k] + (1 - beta2) * g * g
        step = lr * (state["first"][k] / (1 - beta1 ** n)) / (np.sqrt(state["second"][k] / (1 - beta2 ** n)) + eps)
        out[k] = p - step
    return out, state


def adam_update_bug(params, grads, state, lr=0.002, beta1=0.9, beta2=0.99, eps=1e-8):
    """Planted bug: the correction uses the step after this one (t = 2, 3, ... where the first update is t = 1)."""
    state["step"] += 1
    n = state["step"] + 1
    out = {}
    for k, p in params.items():
        g = grads["d" + k]
        state["first"][k] = beta1 * state["first"][k] + (1 - beta1) * g
        state["second"][k] = beta2 * state["second"][k] + (1 - beta2) * g * g
        step = lr * (state["first"][k] / (1 - beta1 ** n)) / (np.sqrt(state["second"][k] / (1 - beta2 ** n)) + eps)
        out[k] = p - step
    return out, state


def adagrad_step(params, grads, accum, lr=0.05, eps=1e-10):
    """Adagrad over lists; the caller keeps `accum`, the sum of squared gradients so far."""
    new_params, new_accum = [], []
    for p, g, a in zip(params, grads, accum):
        a = a + g * g
        new_accum.append(a)
        new_params.append(p - lr * g / (np.sqrt(a) + eps))
    return new_params, new_accum


def adagrad_step_bug(params, grads, accum, lr=0.05, eps=1e-10):
    """Planted bug: eps inside the square root."""
    new_params, new_accum = [], []
    for p, g, a in zip(params, grads, accum):
        a = a + g * g
        new_accum.append(a)
        new_params.append(p - lr * g / np.sqrt(a + eps))
    return new_params, new_accum


def forgetful_adagrad(params, grads, accum, lr=0.05, eps=1e-10):
    """Keeps only the last squared gradient: not a rule gradviz knows (under auto: refused, never failed)."""
    new_params, new_accum = [], []
    for p, g, a in zip(params, grads, accum):
        a = 0.5 * a + g * g
        new_accum.append(a)
        new_params.append(p - lr * g / (np.sqrt(a) + eps))
    return new_params, new_accum


def nesterov_sgd(w, dw, config=None):
    """Named after Nesterov, but it takes a plain momentum step (CS231n's convention)."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 0.01)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


class TensorsSGD:
    """Plain SGD whose arguments say nothing gradviz knows: update(tensors, deltas) over dicts, in place."""

    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, tensors, deltas):
        for key in tensors:
            tensors[key] -= self.lr * deltas[key]


class TensorsSGDBug(TensorsSGD):
    """Planted bug: the step climbs the gradient."""

    def update(self, tensors, deltas):
        for key in tensors:
            tensors[key] += self.lr * deltas[key]


def sgd_decay(w, dw, config=None):
    """SGD with L2 decay folded into the gradient, CS231n's convention."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 0.05)
    config.setdefault("weight_decay", 1e-3)
    return w - config["learning_rate"] * (dw + config["weight_decay"] * w), config


def sgd_decay_bug(w, dw, config=None):
    """Planted bug: the decay is folded into the gradient, then added to the step once more."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 0.05)
    config.setdefault("weight_decay", 1e-3)
    g = dw + config["weight_decay"] * w
    return w - config["learning_rate"] * (g + config["weight_decay"] * w), config
