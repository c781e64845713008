"""Recurrent steps in the style of a well-known vision course: (N, D) batches, separate weight arrays,
the backward takes one upstream gradient per output and returns a tuple."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc, dc * i
    da = np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)))
    dx, dprev_h = da.dot(Wx.T), da.dot(Wh.T)
    dprev_c = dc * f
    dWx, dWh, db = x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_step_backward_bug(dnext_h, dnext_c, cache):
    """Planted bug: the output gate's derivative uses tanh(next_c) squared."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tc = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc ** 2, dc * i
    da = np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)))
    dx, dprev_h = da.dot(Wx.T), da.dot(Wh.T)
    dprev_c = dc * f
    dWx, dWh, db = x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def gru_like_forward(x, h_prev, W, U):
    """Two outputs returned (h, c) and a backward taking their gradients in the other order."""
    c = np.tanh(x @ W + h_prev @ U)
    h = 0.5 * (h_prev + c)
    return h, c, (x, h_prev, W, U, c)


def gru_like_backward(dc, dh, cache):
    x, h_prev, W, U, c = cache
    dc_total = dc + 0.5 * dh
    dz = dc_total * (1 - c ** 2)
    dx, dW = dz @ W.T, x.T @ dz
    dh_prev = 0.5 * dh + dz @ U.T
    dU = h_prev.T @ dz
    return dx, dh_prev, dW, dU


def gru_like_backward_bug(dc, dh, cache):
    """Planted bug: the direct path of h_prev into h is forgotten."""
    x, h_prev, W, U, c = cache
    dz = (dc + 0.5 * dh) * (1 - c ** 2)
    return dz @ W.T, dz @ U.T, x.T @ dz, h_prev.T @ dz


def lstm_inputs(rng):
    N, D, H = 3, 4, 5
    return (rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H)),
            rng.normal(size=(D, 4 * H)) * 0.5, rng.normal(size=(H, 4 * H)) * 0.5, rng.normal(size=4 * H)), {}


def gru_inputs(rng):
    return (rng.normal(size=(3, 4)), rng.normal(size=(3, 5)), rng.normal(size=(4, 5)) * 0.5,
            rng.normal(size=(5, 5)) * 0.5), {}
