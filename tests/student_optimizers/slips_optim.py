"""Adam as from-scratch repositories write it, with a counter off by one step or two slips at once."""

import numpy as np


class AdamOptimizer:
    """Keyed by parameter name: update(params, grads) changes the dict's arrays in place."""

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, bugs=()):
        self.lr, self.beta_1, self.beta_2, self.epsilon, self.bugs = lr, beta_1, beta_2, epsilon, set(bugs)
        self.m, self.v = {}, {}
        self.t = 1 if "counter_starts_at_2" in self.bugs else 0  # the slip: counted from 1, then incremented

    def update(self, params, grads):
        self.t += 1
        for key in params:
            g = grads[key]
            self.m[key] = self.beta_1 * self.m.get(key, 0) + (1 - self.beta_1) * g
            self.v[key] = self.beta_2 * self.v.get(key, 0) + (1 - self.beta_2) * g ** 2
            if "no_bias_correction" in self.bugs:
                m_hat, v_hat = self.m[key], self.v[key]
            else:
                m_hat = self.m[key] / (1 - self.beta_1 ** self.t)
                v_hat = self.v[key] / (1 - self.beta_2 ** self.t)
            if "eps_inside_root" in self.bugs:
                params[key] -= self.lr * m_hat / np.sqrt(v_hat + self.epsilon)
            else:
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.epsilon)
