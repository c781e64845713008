"""What `gradviz check TARGET` and `gradviz render TARGET` can point at: an expression, or NAME in a Python file.

One module per job: loading (importing the file, resolving FILE:NAME and
pairs), parsing (--at, shapes, expression targets), inputs (building each
argument from the flags) and running (the check or the graph of a target).
The names below are what the command line, gv.torch and tests use.
"""

from .inputs import Given, function_inputs, user_op_inputs
from .loading import GRADIENT_SPELLINGS, PAIR_SPELLINGS, is_file_target, load, load_module, resolve, split_target
from .parsing import expression_function, parse_at, parse_shape
from .running import check_file_target, check_optimizer_target, graph_of

__all__ = ["GRADIENT_SPELLINGS", "Given", "PAIR_SPELLINGS", "check_file_target", "check_optimizer_target",
           "expression_function", "function_inputs", "graph_of", "is_file_target", "load", "load_module",
           "parse_at", "parse_shape", "resolve", "split_target", "user_op_inputs"]
