"""Per-parameter optimizer objects whose argument names say nothing gradviz knows: roles read by structure
(written for these tests, in the style of numpy deep-learning libraries)."""

import numpy as np


class RMSProp:
    """update(param, param_grad, param_name, cur_loss=None) -> new param; state kept per name."""

    def __init__(self, lr=0.001, decay=0.9, eps=1e-7):
        self.cache = {}
        self.hyperparameters = {"lr": lr, "decay": decay, "eps": eps}

    def update(self, param, param_grad, param_name, cur_loss=None):
        H = self.hyperparameters
        if param_name not in self.cache:
            self.cache[param_name] = np.zeros_like(param_grad)
        C = self.cache[param_name] = H["decay"] * self.cache[param_name] + (1 - H["decay"]) * param_grad ** 2
        return param - H["lr"] * param_grad / (np.sqrt(C) + H["eps"])


class RMSPropBug(RMSProp):
    """Planted bug: one running average for every parameter (the name is ignored)."""

    def update(self, param, param_grad, param_name, cur_loss=None):
        H = self.hyperparameters
        C = self.cache.get("all", 0.0)
        C = self.cache["all"] = H["decay"] * C + (1 - H["decay"]) * param_grad ** 2
        return param - H["lr"] * param_grad / (np.sqrt(C) + H["eps"])


class AdamSlots:
    """update(slot, tensor, delta): a slot number keys the state; the tensor is updated in place."""

    def __init__(self, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.state = {}

    def update(self, slot, tensor, delta):
        m, v, k = self.state.get(slot, (0.0, 0.0, 0))
        k += 1
        m = self.beta1 * m + (1 - self.beta1) * delta
        v = self.beta2 * v + (1 - self.beta2) * delta ** 2
        self.state[slot] = (m, v, k)
        tensor -= self.lr * (m / (1 - self.beta1 ** k)) / (np.sqrt(v / (1 - self.beta2 ** k)) + self.eps)


class AdamSlotsBug(AdamSlots):
    """Planted bug: one step counter for all slots, so it advances once per parameter."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.k = 0

    def update(self, slot, tensor, delta):
        m, v, _ = self.state.get(slot, (0.0, 0.0, 0))
        self.k += 1
        m = self.beta1 * m + (1 - self.beta1) * delta
        v = self.beta2 * v + (1 - self.beta2) * delta ** 2
        self.state[slot] = (m, v, self.k)
        tensor -= self.lr * (m / (1 - self.beta1 ** self.k)) / (np.sqrt(v / (1 - self.beta2 ** self.k)) + self.eps)


class AdamIteration:
    """update(theta, g_theta, iteration): the training loop passes its loop index, 0, 1, 2, ...; the bias
    correction counts from iteration + 1."""

    def __init__(self, lr=0.002, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = self.v = None

    def update(self, theta, g_theta, iteration):
        if self.m is None:
            self.m, self.v = np.zeros_like(theta), np.zeros_like(theta)
        t = iteration + 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g_theta
        self.v = self.beta2 * self.v + (1 - self.beta2) * g_theta ** 2
        return theta - self.lr * (self.m / (1 - self.beta1 ** t)) / (np.sqrt(self.v / (1 - self.beta2 ** t)) + self.eps)


class AdamIterationBug(AdamIteration):
    """Planted bug: no bias correction of the first moment."""

    def update(self, theta, g_theta, iteration):
        if self.m is None:
            self.m, self.v = np.zeros_like(theta), np.zeros_like(theta)
        t = iteration + 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * g_theta
        self.v = self.beta2 * self.v + (1 - self.beta2) * g_theta ** 2
        return theta - self.lr * self.m / (np.sqrt(self.v / (1 - self.beta2 ** t)) + self.eps)
