"""A whole model as functions over a dict of parameters (course style): cost(...) and model_backward(...)
returning grads with keys dW1, db1, dW2, db2."""
import numpy as np


def cost(parameters, X, Y):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    return 0.5 * np.mean((Z2 - Y) ** 2)


def model_backward(parameters, X, Y, bug=False):
    m = X.shape[1]
    A1 = np.tanh(parameters["W1"] @ X + parameters["b1"])
    Z2 = parameters["W2"] @ A1 + parameters["b2"]
    dZ2 = (Z2 - Y) / (m * Y.shape[0])
    dW2 = dZ2 @ A1.T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = parameters["W2"].T @ dZ2 * (1 - (A1 if bug else A1 ** 2))
    dW1 = dZ1 @ X.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
