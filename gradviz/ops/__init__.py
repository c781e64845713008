"""The op table. Importing this package registers every built-in op."""

from . import conv, elementwise, linalg, loss, pool, reduce, shape  # noqa: F401  (registration)
from .registry import Case, OpDef, all_ops, builtin_ops, get, register

__all__ = ["Case", "OpDef", "all_ops", "builtin_ops", "get", "register"]
