"""Adagrad with its state keyed by id(param); update(params, grads) takes two lists and changes the arrays in place."""
import numpy as np


class Adagrad:
    def __init__(self, lr=0.1, eps=1e-8):
        self.lr = lr
        self.eps = eps
        self.cache = {}

    def update(self, params, grads):
        for p, g in zip(params, grads):
            key = id(p)
            if key not in self.cache:
                self.cache[key] = np.zeros_like(p)
            self.cache[key] += g * g
            p -= self.lr * g / (np.sqrt(self.cache[key]) + self.eps)
