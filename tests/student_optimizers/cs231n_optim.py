"""Update rules written as CS231n's optim.py writes them: next_w, config = rule(w, dw, config).

The correct rules follow the assignment; each `*_bug` function has one bug planted, named in its docstring.
"""

import numpy as np


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def sgd_lr_twice_bug(w, dw, config=None):
    """lr applied twice: the step is scaled by lr, then scaled again."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    step = config["learning_rate"] * dw
    w -= config["learning_rate"] * step
    return w, config


def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def sgd_momentum_sign_bug(w, dw, config=None):
    """Momentum sign mixed: the classic velocity (v = mu*v - lr*dw) subtracted as if it were PyTorch's."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w - v
    config["velocity"] = v
    return next_w, config


def sgd_momentum_mixed_bug(w, dw, config=None):
    """The two conventions mixed: classic velocity, PyTorch's p -= lr*v."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w - config["learning_rate"] * v
    config["velocity"] = v
    return next_w, config


def nesterov_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v_prev = v
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w - config["momentum"] * v_prev + (1 + config["momentum"]) * v
    config["velocity"] = v
    return next_w, config


def rmsprop(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    config["cache"] = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return next_w, config


def rmsprop_eps_inside(w, dw, config=None):
    """eps inside the square root, as TensorFlow 1 writes RMSProp: a convention, not a bug."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    config["cache"] = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw**2
    next_w = w - config["learning_rate"] * dw / np.sqrt(config["cache"] + config["epsilon"])
    return next_w, config


def rmsprop_not_squared_bug(w, dw, config=None):
    """The squared gradient is not squared: np.abs(dw) where dw**2 belongs."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    config["cache"] = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * np.abs(dw)
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return next_w, config


def adam(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["t"] += 1
    b1, b2 = config["beta1"], config["beta2"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    return next_w, config


def adam_no_bias_correction_bug(w, dw, config=None):
    """No bias correction at all, and eps = 1e-7 (a course report's Adam): its first step is ~3.16 x lr."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-7)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


def adam_t_from_zero_bug(w, dw, config=None):
    """The step counter is incremented after the correction, so the first step corrects with t = 0."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = config["m"] / (1 - b1**t)
        v_hat = config["v"] / (1 - b2**t)
        next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["t"] += 1
    return next_w, config


def adam_m_only_bug(w, dw, config=None):
    """Bias correction applied to the first moment only."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    b1, b2 = config["beta1"], config["beta2"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


def adam_eps_before_correction_bug(w, dw, config=None):
    """eps added before the bias correction (the corrections folded into the learning rate)."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    lr_t = config["learning_rate"] * np.sqrt(1 - b2**t) / (1 - b1**t)
    next_w = w - lr_t * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config


def adam_not_squared_bug(w, dw, config=None):
    """The second moment averages dw, not dw**2 (its square root then goes nan where it turns negative)."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw
    with np.errstate(invalid="ignore"):
        next_w = w - config["learning_rate"] * (config["m"] / (1 - b1**t)) / (
            np.sqrt(config["v"] / (1 - b2**t)) + config["epsilon"])
    return next_w, config


def adamw(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("weight_decay", 0.1)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    t = config["t"]
    w = w - config["learning_rate"] * config["weight_decay"] * w
    config["m"] = 0.9 * config["m"] + 0.1 * dw
    config["v"] = 0.999 * config["v"] + 0.001 * dw**2
    next_w = w - config["learning_rate"] * (config["m"] / (1 - 0.9**t)) / (np.sqrt(config["v"] / (1 - 0.999**t)) + 1e-8)
    return next_w, config


def adamw_coupled_bug(w, dw, config=None):
    """'AdamW' with the decay added to the gradient (L2, coupled) instead of to the weights."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("weight_decay", 0.1)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    t = config["t"]
    dw = dw + config["weight_decay"] * w
    config["m"] = 0.9 * config["m"] + 0.1 * dw
    config["v"] = 0.999 * config["v"] + 0.001 * dw**2
    next_w = w - config["learning_rate"] * (config["m"] / (1 - 0.9**t)) / (np.sqrt(config["v"] / (1 - 0.999**t)) + 1e-8)
    return next_w, config
