"""Checking hand-written optimizers against the reference update rules (sgd, momentum, nesterov, rmsprop,
adam, adamw): conventions are adapters, rules are written once, causes are hypotheses."""

from .rules import KINDS


def __getattr__(name: str):
    """check_optimizer is imported on first use: the command line needs KINDS for --help, not the checker."""
    if name == "check_optimizer":
        from .check import check_optimizer

        return check_optimizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KINDS", "check_optimizer"]
