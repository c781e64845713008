"""Optimizers over lists of a network's arrays, the gradients as a backward pass collects them: last layer first
(written for these tests, in the style of small from-scratch numpy libraries)."""

import numpy as np


def init_velocity(params):
    return [np.zeros_like(p) for p in params]


def momentum_update(velocity, params, grads, lr, mu):
    """params = [W1, b1, W2, b2]; grads = [dW2, db2, dW1, db1] (backprop order); updated in place."""
    n_layers = len(params) // 2
    for layer in range(n_layers):
        back = n_layers - 1 - layer
        for j in range(2):
            k = 2 * layer + j
            velocity[k] = mu * velocity[k] - lr * grads[2 * back + j]
            params[k] += velocity[k]


def momentum_update_bug(velocity, params, grads, lr, mu):
    """Planted bug: the velocity is subtracted, so the step climbs the gradient."""
    n_layers = len(params) // 2
    for layer in range(n_layers):
        back = n_layers - 1 - layer
        for j in range(2):
            k = 2 * layer + j
            velocity[k] = mu * velocity[k] - lr * grads[2 * back + j]
            params[k] -= velocity[k]


def nesterov_step(weights, gradients, velocities, learning_rate, momentum):
    """weights = [[W1, b1], [W2, b2]]; gradients = [(dW2, db2), (dW1, db1)]; returns the new weights and velocities.

    Nesterov momentum on the look-ahead point: v = mu*v - lr*g; w += -mu*v_prev + (1 + mu)*v.
    """
    new_weights, new_velocities = [], []
    for layer, (ws, vs) in enumerate(zip(weights, velocities)):
        gs = gradients[len(weights) - 1 - layer]
        layer_w, layer_v = [], []
        for w, v, g in zip(ws, vs, gs):
            v_new = momentum * v - learning_rate * g
            layer_w.append(w - momentum * v + (1 + momentum) * v_new)
            layer_v.append(v_new)
        new_weights.append(layer_w)
        new_velocities.append(layer_v)
    return new_weights, new_velocities


def nesterov_step_bug(weights, gradients, velocities, learning_rate, momentum):
    """Planted bug: plain momentum's step where the look-ahead belongs."""
    new_weights, new_velocities = [], []
    for layer, (ws, vs) in enumerate(zip(weights, velocities)):
        gs = gradients[len(weights) - 1 - layer]
        layer_w, layer_v = [], []
        for w, v, g in zip(ws, vs, gs):
            v_new = momentum * v - learning_rate * g
            layer_w.append(w + v_new)
            layer_v.append(v_new)
        new_weights.append(layer_w)
        new_velocities.append(layer_v)
    return new_weights, new_velocities
