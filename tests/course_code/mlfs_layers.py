"""An optimizer-based layer library (ML-From-Scratch style): set_input_shape, initialize(optimizer),
forward_pass/backward_pass, gradients handed to self.W_opt.update(self.W, grad_w)."""
import copy
import math

import numpy as np


class Dense:
    def __init__(self, n_units, input_shape=None):
        self.layer_input = None
        self.input_shape = input_shape
        self.n_units = n_units
        self.trainable = True
        self.W = None
        self.w0 = None

    def set_input_shape(self, shape):
        self.input_shape = shape

    def initialize(self, optimizer):
        limit = 1 / math.sqrt(self.input_shape[0])
        rng = np.random.default_rng(5)
        self.W = rng.uniform(-limit, limit, (self.input_shape[0], self.n_units))
        self.w0 = rng.uniform(-limit, limit, (1, self.n_units))
        self.W_opt = copy.copy(optimizer)
        self.w0_opt = copy.copy(optimizer)

    def forward_pass(self, X, training=True):
        self.layer_input = X
        return X.dot(self.W) + self.w0

    def backward_pass(self, accum_grad):
        W = self.W
        if self.trainable:
            grad_w = self.layer_input.T.dot(accum_grad)
            grad_w0 = np.sum(accum_grad, axis=0, keepdims=True)
            self.W = self.W_opt.update(self.W, grad_w)
            self.w0 = self.w0_opt.update(self.w0, grad_w0)
        return accum_grad.dot(W.T)
