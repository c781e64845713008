"""Optimizers over a dict of parameters keyed W1, b1, ... with the state kept by the caller, in the style of a
major deep-learning course's "Optimization methods" assignment (written for these tests)."""

import numpy as np


def initialize_velocity(parameters):
    """v["dW1"], v["db1"], ...: zeros shaped like each parameter."""
    n_layers = len(parameters) // 2
    v = {}
    for layer in range(1, n_layers + 1):
        v[f"dW{layer}"] = np.zeros_like(parameters[f"W{layer}"])
        v[f"db{layer}"] = np.zeros_like(parameters[f"b{layer}"])
    return v


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """v = beta*v + (1-beta)*grad; W -= lr*v: momentum as an exponentially weighted average."""
    n_layers = len(parameters) // 2
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            v[f"d{p}{layer}"] = beta * v[f"d{p}{layer}"] + (1 - beta) * grads[f"d{p}{layer}"]
            parameters[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * v[f"d{p}{layer}"]
    return parameters, v


def update_parameters_with_momentum_bug(parameters, grads, v, beta, learning_rate):
    """Planted bug: the velocity is updated for W but the bias uses the raw gradient."""
    n_layers = len(parameters) // 2
    for layer in range(1, n_layers + 1):
        v[f"dW{layer}"] = beta * v[f"dW{layer}"] + (1 - beta) * grads[f"dW{layer}"]
        v[f"db{layer}"] = beta * v[f"db{layer}"] + (1 - beta) * grads[f"db{layer}"]
        parameters[f"W{layer}"] = parameters[f"W{layer}"] - learning_rate * v[f"dW{layer}"]
        parameters[f"b{layer}"] = parameters[f"b{layer}"] - learning_rate * grads[f"db{layer}"]
    return parameters, v


def initialize_adam(parameters):
    n_layers = len(parameters) // 2
    v, s = {}, {}
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            v[f"d{p}{layer}"] = np.zeros(parameters[f"{p}{layer}"].shape)
            s[f"d{p}{layer}"] = np.zeros(parameters[f"{p}{layer}"].shape)
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """The caller counts t = 1, 2, ... and passes it in."""
    n_layers = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - beta1 ** t)
            s[key] = beta2 * s[key] + (1 - beta2) * np.square(grads[key])
            s_corrected[key] = s[key] / (1 - beta2 ** t)
            parameters[f"{p}{layer}"] -= learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s


def update_parameters_with_adam_bug(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                    epsilon=1e-8):
    """Planted bug: the second moment is corrected with beta2**2 instead of beta2**t."""
    n_layers = len(parameters) // 2
    v_corrected, s_corrected = {}, {}
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - beta1 ** t)
            s[key] = beta2 * s[key] + (1 - beta2) * np.square(grads[key])
            s_corrected[key] = s[key] / (1 - beta2 ** 2)
            parameters[f"{p}{layer}"] -= learning_rate * v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s


def update_parameters_with_adam_corrected(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                          epsilon=1e-8):
    """The course's later version: builds new state dicts and also returns the bias-corrected moments."""
    n_layers = len(parameters) // 2
    v_new, s_new, v_corrected, s_corrected = {}, {}, {}, {}
    new_parameters = {}
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v_new[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s_new[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            v_corrected[key] = v_new[key] / (1 - np.power(beta1, t))
            s_corrected[key] = s_new[key] / (1 - np.power(beta2, t))
            new_parameters[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * v_corrected[key] / (
                np.sqrt(s_corrected[key]) + epsilon)
    return new_parameters, v_new, s_new, v_corrected, s_corrected


def update_parameters_with_adam_corrected_bug(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9,
                                              beta2=0.999, epsilon=1e-8):
    """Planted bug: the bias correction is left out of the step (the corrected moments are only returned)."""
    n_layers = len(parameters) // 2
    v_new, s_new, v_corrected, s_corrected = {}, {}, {}, {}
    new_parameters = {}
    for layer in range(1, n_layers + 1):
        for p in ("W", "b"):
            key = f"d{p}{layer}"
            v_new[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s_new[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            v_corrected[key] = v_new[key] / (1 - np.power(beta1, t))
            s_corrected[key] = s_new[key] / (1 - np.power(beta2, t))
            new_parameters[f"{p}{layer}"] = parameters[f"{p}{layer}"] - learning_rate * v_new[key] / (
                np.sqrt(s_new[key]) + epsilon)
    return new_parameters, v_new, s_new, v_corrected, s_corrected
