"""A recurrent-network assignment in the style of a popular specialization: cells over a parameters dict,
(features, batch) layout, gradients returned in a dict keyed dxt, da_prev, dWax..."""

import numpy as np


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def rnn_cell_forward(xt, a_prev, parameters):
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_cell_backward(da_next, cache):
    (a_next, a_prev, xt, parameters) = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    da_prev = np.dot(Waa.T, dtanh)
    dWaa = np.dot(dtanh, a_prev.T)
    dba = np.sum(dtanh, axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def rnn_cell_backward_bug(da_next, cache):
    """Planted bug: dWaa multiplies by the new state instead of the previous one."""
    (a_next, a_prev, xt, parameters) = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dtanh = (1 - a_next ** 2) * da_next
    gradients = {"dxt": np.dot(Wax.T, dtanh), "da_prev": np.dot(Waa.T, dtanh),
                 "dWax": np.dot(dtanh, xt.T), "dWaa": np.dot(dtanh, a_next.T),
                 "dba": np.sum(dtanh, axis=1, keepdims=True)}
    return gradients


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    Wf, bf = parameters["Wf"], parameters["bf"]
    Wi, bi = parameters["Wi"], parameters["bi"]
    Wc, bc = parameters["Wc"], parameters["bc"]
    Wo, bo = parameters["Wo"], parameters["bo"]
    Wy, by = parameters["Wy"], parameters["by"]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(Wf, concat) + bf)
    it = sigmoid(np.dot(Wi, concat) + bi)
    cct = np.tanh(np.dot(Wc, concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(Wo, concat) + bo)
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(Wy, a_next) + by)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def _lstm_backward(da_next, dc_next, cache, forget_in_dc_prev=True):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a = a_next.shape[0]
    dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate((a_prev, xt), axis=0).T
    dWf, dWi, dWc, dWo = np.dot(dft, concat), np.dot(dit, concat), np.dot(dcct, concat), np.dot(dot, concat)
    dbf, dbi = np.sum(dft, axis=1, keepdims=True), np.sum(dit, axis=1, keepdims=True)
    dbc, dbo = np.sum(dcct, axis=1, keepdims=True), np.sum(dot, axis=1, keepdims=True)
    Wf, Wi, Wc, Wo = parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]
    dconcat = np.dot(Wf.T, dft) + np.dot(Wi.T, dit) + np.dot(Wc.T, dcct) + np.dot(Wo.T, dot)
    da_prev, dxt = dconcat[:n_a, :], dconcat[n_a:, :]
    dc_prev = dc * ft if forget_in_dc_prev else dc
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf, "dWi": dWi,
            "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}


def lstm_cell_backward(da_next, dc_next, cache):
    gradients = _lstm_backward(da_next, dc_next, cache)
    return gradients


def lstm_cell_backward_bug(da_next, dc_next, cache):
    """Planted bug: the cell-state gradient skips the forget gate."""
    gradients = _lstm_backward(da_next, dc_next, cache, forget_in_dc_prev=False)
    return gradients


def rnn_inputs(rng):
    n_x, n_a, n_y, m = 3, 5, 2, 4
    parameters = {"Wax": rng.normal(size=(n_a, n_x)), "Waa": rng.normal(size=(n_a, n_a)) * 0.5,
                  "Wya": rng.normal(size=(n_y, n_a)), "ba": rng.normal(size=(n_a, 1)), "by": rng.normal(size=(n_y, 1))}
    return (rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), parameters), {}


def lstm_inputs(rng):
    n_x, n_a, n_y, m = 3, 4, 2, 3
    parameters = {k: rng.normal(size=(n_a, n_a + n_x)) * 0.5 for k in ("Wf", "Wi", "Wc", "Wo")}
    parameters.update({k: rng.normal(size=(n_a, 1)) for k in ("bf", "bi", "bc", "bo")})
    parameters.update({"Wy": rng.normal(size=(n_y, n_a)), "by": rng.normal(size=(n_y, 1))})
    return (rng.normal(size=(n_x, m)), rng.normal(size=(n_a, m)), rng.normal(size=(n_a, m)), parameters), {}
