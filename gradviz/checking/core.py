"""gv.check: autograd against finite differences and SymPy, one verdict.

    report = gv.check(fn, *inputs)      # fn builds a graph from Values/Tensors

The function becomes a recorded-graph Subject (recorded.py) and goes through
the one pipeline (pipeline.py), like hand-written code and torch functions.
A non-scalar output is checked through a random cotangent R (seeded): the
checked quantity is sum(fn(...) * R), whose gradient is the vector-Jacobian
product with R.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..errors import GradvizError
from . import pipeline
from .arguments import in_order
from .probe import DIRECTIONS, FULL_MODE_LIMIT
from .recorded import NUMPY_FUNCTION_HINT, UserCodeRaised, graph_subject
from .report import Report
from .tolerance import ATOL, EPS, RTOL, Tolerance, validate_tolerances

__all__ = ["ATOL", "DIRECTIONS", "EPS", "FULL_MODE_LIMIT", "NUMPY_FUNCTION_HINT", "RTOL", "UserCodeRaised", "check",
           "validate_tolerances"]


def check(
    fn: Callable,
    *inputs: Any,
    eps: float | str = EPS,
    atol: float = ATOL,
    rtol: float = RTOL,
    methods: Sequence[str] = ("finite", "symbolic"),
    mode: str = "auto",
    seed: int = 0,
    params: Sequence | None = None,
    directions: int = DIRECTIONS,
    name: str | None = None,
    strict: bool = False,
    **named: Any,
) -> Report:
    """Check the gradients of `fn(*inputs)` with autograd, finite differences and SymPy.

    Inputs come in order or by `fn`'s own names (`gv.check(f, x=x, w=w)`).

    `inputs` may be Values, Tensors, floats or arrays; `params` are Values or
    Tensors that `fn` uses from outside (a model's weights): they are checked
    too, perturbed in place and always restored. `mode` is "full" (perturb every
    element), "directional" (compare along `directions` random unit directions:
    O(1) evaluations whatever the size) or "auto" (full up to FULL_MODE_LIMIT
    elements). `eps="sweep"` also tabulates the error against the step size.

    `strict=True` also fails any element whose discrepancy exceeds 10x the
    measured error of the finite differences themselves (Richardson across
    h, 2h and h/2): it catches bugs of 1e-5 relative size (a layer norm that
    drops eps) that the default tolerances let through.

    Numeric warnings raised while the check probes the function (overflow,
    log(0), division by zero) are part of the verdict: they are listed in the
    report's warnings instead of being printed with gradviz's source lines.
    """
    methods = tuple(methods)
    unknown = set(methods) - {"finite", "symbolic"}
    if unknown or not methods:
        raise GradvizError(f"methods must be among 'finite' and 'symbolic', got {methods}")
    if mode not in ("auto", "full", "directional"):
        raise GradvizError(f"mode must be 'auto', 'full' or 'directional', got {mode!r}")
    tolerance = Tolerance.of(eps, atol, rtol, strict)
    if strict and "finite" not in methods:
        raise GradvizError("strict=True measures the finite differences' own error: include 'finite' in methods")
    inputs = in_order(fn, inputs, named, "gv.check")
    subject = graph_subject(fn, inputs, params, name)
    if not subject.inputs:
        name = getattr(fn, "__name__", "fn").replace("<lambda>", "fn")
        raise GradvizError(f"gv.check needs the inputs to differentiate with respect to, after the function: "
                           f"gv.check({name}, x, w) checks {name}(x, w)")
    options = pipeline.Options(tolerance, mode=mode, methods=methods, seed=seed, directions=directions)
    return pipeline.run(subject, options)
