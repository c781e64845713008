"""Checking hand-written optimizers against the reference update rules (sgd, momentum, nesterov, rmsprop,
adam, adamw): conventions are adapters, rules are written once, causes are hypotheses."""

from .check import check_optimizer
from .rules import KINDS

__all__ = ["KINDS", "check_optimizer"]
