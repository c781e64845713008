"""Per-node checks: each node's backward rule against its op's twin, where it ran.

Walking the recorded graph in backward order and checking every node's
vector-Jacobian product locally (at the inputs that node actually saw, with a
random cotangent) pinpoints the first node whose rule is wrong. An op with no
symbolic twin is checked against a local directional finite difference of its
own forward instead, so user ops are localized too.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from ..graph import topological_order
from ..tensor import unbroadcast
from . import finite as fd
from .adapters.reading import where
from ..errors import GradvizError
from .streams import DIRECTIONS, stream
from .report import ERROR, FAIL, NONDIFF, PASS, NodeCheck
from .diagnosis import Context, diagnose
from .diagnosis.geometry import complete as complete_geometry
from .symbolic import SymbolicUnavailable, symbolic_vjp


TWIN_BUG = "twin bug"
KINK_ORACLE = "one-sided pieces (local)"


def _as_input(x):
    return float(x) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) else np.asarray(x, dtype=np.float64)


class BackwardProblem(GradvizError):
    """A node's backward raised or returned gradients that cannot belong to its inputs.

    `status` is ERROR (it raised) or FAIL (wrong number or shape of gradients);
    the message names the op, the input index and both shapes.
    """

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


def node_vjp(op, inputs: list, attrs: dict | None, out, cotangent) -> list:
    """The op's hand-written VJP, reduced to each input's shape.

    Raises BackwardProblem when a user op's backward raises or returns the
    wrong number or shape of gradients.
    """
    from ..function import normalize_grads

    try:
        try:
            grads = op.backward(cotangent, *inputs, out, **(attrs or {}))
        except ZeroDivisionError:  # Python floats divide by zero where IEEE gives inf (sqrt at 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                grads = op.backward(np.float64(cotangent), *[np.float64(x) if np.ndim(x) == 0 else x
                                                             for x in inputs], out, **(attrs or {}))
    except Exception as exc:
        at = where(exc)  # the user's own line, never gradviz's or a library's
        raise BackwardProblem(ERROR, f"{op.display}.backward raised {type(exc).__name__}: {exc}"
                              + (f" (at {at})" if at else "")) from exc
    try:
        grads = normalize_grads(op, grads, len(inputs), None if op.builtin else tuple(np.shape(x) for x in inputs))
    except GradvizError as exc:
        raise BackwardProblem(FAIL, str(exc)) from None
    reduced = []
    for i, (g, x) in enumerate(zip(grads, inputs)):
        if g is None:
            reduced.append(None)
            continue
        try:
            reduced.append(unbroadcast(np.asarray(g, dtype=np.float64), np.shape(x)))
        except (GradvizError, TypeError, ValueError):
            raise BackwardProblem(FAIL, f"{op.display}.backward returned a gradient of shape {np.shape(g)} for "
                                        f"input {i}, which has shape {np.shape(x)}; return one gradient per "
                                        "input, shaped like that input") from None
    return reduced


def _local_directional(op, inputs, attrs, cotangent, hand, rng, eps, held=()) -> tuple[float, float]:
    """(analytic, finite) derivative of sum(forward * cotangent) along one random direction.

    `held`: inputs not moved (constants whose gradient backward declares None by design)."""
    direction = [rng.normal(size=np.shape(x)) * (k not in held) for k, x in enumerate(inputs)]

    def f(shift):
        moved = [_as_input(np.asarray(x) + shift * d) for x, d in zip(inputs, direction)]
        return float(np.sum(np.asarray(op.forward(*moved, **(attrs or {}))) * cotangent))

    finite = (f(eps) - f(-eps)) / (2 * eps)
    analytic = sum(float(np.sum(h * d)) for h, d in zip(hand, direction) if h is not None)
    return analytic, finite


class _LocalFunction:
    """phi(z) = sum(forward(inputs) * cotangent) of one node, over its inputs flattened into one vector z."""

    def __init__(self, op, inputs, attrs, cotangent):
        self.op, self.attrs, self.cot = op, attrs or {}, cotangent
        self.shapes = [np.shape(x) for x in inputs]
        self.scalar = [np.ndim(x) == 0 and not isinstance(x, np.ndarray) for x in inputs]
        self.z = np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in inputs])

    def split(self, z) -> list:
        parts, start = [], 0
        for shape, scalar in zip(self.shapes, self.scalar):
            size = int(np.prod(shape))
            part = z[start:start + size].reshape(shape)
            parts.append(float(part) if scalar else part)
            start += size
        return parts

    def contributions(self, z) -> np.ndarray:
        return np.asarray(self.op.forward(*self.split(z), **self.attrs), dtype=np.float64) * self.cot

    def __call__(self, z) -> float:
        return float(np.sum(self.contributions(z)))

    def elementwise_slopes(self, eps: float, base_parts: np.ndarray):
        """One-sided slopes of every coordinate from 2 evaluations per input (an elementwise op, equal shapes)."""
        fwd, bwd, start = np.empty(self.z.size), np.empty(self.z.size), 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            bump = np.zeros(self.z.size)
            bump[start:start + size] = eps
            fwd[start:start + size] = ((self.contributions(self.z + bump) - base_parts) / eps).ravel()
            bwd[start:start + size] = ((base_parts - self.contributions(self.z - bump)) / eps).ravel()
            start += size
        return fwd, bwd


def _kink_check(op, inputs, attrs, cot, hand, rng, eps, atol, rtol):
    """At a kink or tie: is the node's vector-Jacobian product a valid subgradient? None when smooth here.

    Kinks are found from the op's own kinks() declaration or, for ops that do
    not declare them, from one-sided differences of the node's forward along a
    random direction; validity is fd.clarke_check's piece enumeration.
    """
    phi = _LocalFunction(op, inputs, attrs, cot)
    base = phi(phi.z)
    declared = op.kinks is not None and bool(np.any(op.kinks(inputs, attrs or {}, 10 * eps)))
    if not declared:
        d = rng.normal(size=phi.z.size)
        d /= np.linalg.norm(d) or 1.0
        fwd, bwd = (phi(phi.z + eps * d) - base) / eps, (base - phi(phi.z - eps * d)) / eps
        if not fd.kink_mask(np.array([fwd]), np.array([bwd]), atol, rtol)[0]:
            return None
    v = np.concatenate([np.zeros(int(np.prod(np.shape(x)))) if h is None else np.ravel(h)
                        for h, x in zip(hand, inputs)])
    slopes = groups = None
    if op.elementwise and len(set(phi.shapes)) == 1 and phi.contributions(phi.z).shape == phi.shapes[0]:
        size = int(np.prod(phi.shapes[0]))
        slopes = phi.elementwise_slopes(eps, phi.contributions(phi.z))
        groups = [[k * size + i for k in range(len(inputs))] for i in range(size)]  # equal positions interact
    return fd.clarke_check(phi, phi.z, v, eps, atol, rtol, rng, slopes=slopes, groups=groups)


def _upstream_text(cot: float, real: bool) -> str:
    return f"upstream gradient {cot:.6g}, the real one" if real else "upstream gradient 1 (the real one is 0)"


def _comparison_text(i: int, j: tuple, hand: float, other: float, cot, scalar: bool, real: bool, what: str) -> str:
    """One disagreement in numbers a student can match: local derivatives for scalars, a stated VJP for arrays."""
    if scalar:
        return (f"input {i}: backward gives the local derivative {hand / cot:.6g}, {what} gives {other / cot:.6g} "
                f"({_upstream_text(cot, real)})")
    return (f"input {i}{list(j) if j else ''}: the vector-Jacobian product along a random upstream gradient R "
            f"(seeded) is {hand:.6g} from backward, {other:.6g} from {what}")


def _scalar_partials_text(op, inputs, attrs, cot, hand, eps, real, atol, rtol) -> str:
    """For a scalar node: each input's local derivative from backward and from central differences of forward."""
    for i, x in enumerate(inputs):
        def f(shift):
            moved = list(inputs)
            moved[i] = x + shift
            return float(op.forward(*moved, **(attrs or {})))

        finite = (f(eps) - f(-eps)) / (2 * eps)
        mine = 0.0 if hand[i] is None else float(hand[i]) / cot
        if abs(mine - finite) > atol + rtol * abs(finite):
            return (f"input {i}: backward gives the local derivative {mine:.6g}, central differences of forward "
                    f"give {finite:.6g} ({_upstream_text(cot, real)})")
    return "backward disagrees with central differences of forward along a random direction"


def check_nodes(root: Any, *, eps: float, atol: float, rtol: float, seed: int = 0,
                use_symbolic: bool = True) -> list[NodeCheck]:
    """Check every op node's backward rule locally, in backward order.

    With use_symbolic=False every node is checked by a local directional finite
    difference of its own forward (no SymPy at all).
    """
    rng = stream(seed, DIRECTIONS)  # local cotangents and probe directions, never the inputs' stream
    results = []
    recorded = topological_order(root)
    number = {node.id: i for i, node in enumerate(recorded)}  # graph-local, deterministic
    order = [n for n in reversed(recorded) if n._op is not None]
    for position, node in enumerate(order):
        op = node._op
        inputs = [_as_input(p.data) for p in node._parents]
        out = node.data
        scalar = isinstance(out, float) and all(isinstance(x, float) for x in inputs)
        cot = rng.normal(size=np.shape(out))
        real_upstream = False
        if scalar:  # a Value node: its real upstream gradient, so per-node numbers are local derivatives
            real_upstream = isinstance(node.grad, float) and np.isfinite(node.grad) and node.grad != 0.0
            cot = node.grad if real_upstream else 1.0
        elif np.ndim(out) == 0 and not isinstance(out, np.ndarray):
            cot = float(cot)
        base = dict(node_id=number[node.id], position=position, op=op.display, label=node.label, scope=node.scope)
        try:
            hand = node_vjp(op, inputs, node._attrs, out, cot)
        except BackwardProblem as problem:  # a user op's backward that crashes is a finding, not a crash
            misshapen = [] if problem.status != FAIL or _failed(results) else _diagnose_misshapen(
                node, op, inputs, out, cot, eps, atol, rtol)
            results.append(NodeCheck(**base, status=problem.status, oracle="", message=str(problem),
                                     diagnosis=misshapen))
            continue
        held = {k for k, (h, p) in enumerate(zip(hand, node._parents)) if h is None and not p.requires_grad}
        try:
            kink = _kink_check(op, inputs, node._attrs, cot, hand, rng, eps, atol, rtol)
        except Exception:  # noqa: BLE001 - a forward that fails off the point: judged without the kink test
            kink = None
        if kink is not None:
            reason = op.kink_reason or "not differentiable at this point (found from one-sided differences)"
            message = (f"{reason}; backward gives a valid subgradient (tested: {kink.tested})" if kink.valid else
                       f"{reason}; backward's result is not a valid subgradient: {kink.problem} "
                       f"(tested: {kink.tested})")
            results.append(NodeCheck(**base, status=NONDIFF if kink.valid else FAIL, oracle=KINK_ORACLE,
                                     message=message,
                                     diagnosis=[] if kink.valid or _failed(results) else _diagnose_without_twin(
                                         node, op, inputs, out, cot, hand, eps, atol, rtol)))
            continue
        try:
            if not use_symbolic:
                raise SymbolicUnavailable("symbolic checks were not requested")
            sym = symbolic_vjp(op, inputs, node._attrs, cot)
        except SymbolicUnavailable as why:
            analytic, finite = _local_directional(op, inputs, node._attrs, cot, hand, rng, eps, held)
            err = abs(analytic - finite)
            ok = err <= atol + rtol * abs(finite)
            message = "" if ok else (_scalar_partials_text(op, inputs, node._attrs, cot, hand, eps, real_upstream, atol, rtol)
                                     if scalar else
                                     f"backward gives the vector-Jacobian product along a random upstream R and a "
                                     f"random direction d as {analytic:.6g}; finite differences of forward give "
                                     f"{finite:.6g} ({why})")
            results.append(NodeCheck(**base, status=PASS if ok else FAIL,
                                     oracle="finite (local, directional)", abs_err=err, message=message,
                                     diagnosis=[] if ok or _failed(results) else _diagnose_without_twin(
                                         node, op, inputs, out, cot, hand, eps, atol, rtol)))
            continue
        err, worst = 0.0, ""
        ok = True
        for i, (h, s, x) in enumerate(zip(hand, sym, inputs)):
            if i in held:
                continue
            s = unbroadcast(s, np.shape(x))
            h = np.zeros(np.shape(x)) if h is None else h
            diff = np.abs(h - s)
            bad = diff > atol + rtol * np.abs(s)
            if diff.size and float(diff.max()) > err:
                err = float(diff.max())
            if np.any(bad) and ok:
                ok = False
                first_wrong = (i, h, s)
                j = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.where(bad, diff, -1.0))), np.shape(x))) if np.ndim(x) else ()
                worst = _comparison_text(i, j, float(np.asarray(h)[j]), float(np.asarray(s)[j]), cot, scalar,
                                         real_upstream, "the derivative of its symbolic twin")
        if not ok:
            # Backward and twin disagree: a local finite difference of the op's own
            # forward decides which of the two is wrong.
            analytic, finite = _local_directional(op, inputs, node._attrs, cot, hand, rng, eps, held)
            if abs(analytic - finite) <= atol + rtol * abs(finite):
                results.append(NodeCheck(**base, status=PASS, oracle="finite (local, directional)", abs_err=err,
                                         message=f"{TWIN_BUG}: backward agrees with finite differences of forward, "
                                                 f"the symbolic twin does not ({worst})"))
                continue
        results.append(NodeCheck(**base, status=PASS if ok else FAIL, oracle="symbolic", abs_err=err,
                                 message=worst,
                                 diagnosis=[] if ok else _diagnose_node(node, inputs, out, cot, first_wrong,
                                                                         atol, rtol)))
    return results


def _failed(results: list) -> bool:
    """A node earlier in backward order already failed: only the first wrong node pays for a local reference."""
    return any(r.status == FAIL for r in results)


MAX_LOCAL_REFERENCE = 4096  # elements: a node without a twin gets per-element finite differences up to this size


def _diagnose_without_twin(node, op, inputs, out, cot, hand, eps, atol, rtol) -> list:
    """A wrong node with no SymPy twin: its reference is central differences of its own forward, element by element.

    Only small nodes (the cost is two forwards per element), and only on a FAIL."""
    phi = _LocalFunction(op, inputs, node._attrs, cot)
    if phi.z.size > MAX_LOCAL_REFERENCE:
        return []
    try:
        reference = np.concatenate([_local_reference(phi, eps, phi.shapes, i).ravel() for i in range(len(inputs))])
    except Exception:  # noqa: BLE001 - the user's forward raised off the point: no reference, no diagnosis
        return []
    for i, (h, ref) in enumerate(zip(hand, phi.split(reference))):
        if h is None and not node._parents[i].requires_grad:  # held fixed (a constant, torch's wrt=): no gradient
            continue
        h = np.zeros(np.shape(inputs[i])) if h is None else np.asarray(h, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        if h.shape == ref.shape and np.any(np.abs(h - ref) > atol + rtol * np.abs(ref)):
            return _diagnose_node(node, inputs, out, cot, (i, h, ref), atol, rtol)
    return []


def _diagnose_misshapen(node, op, inputs, out, cot, eps, atol, rtol) -> list:
    """A backward that returned a gradient of the wrong shape (a transpose, a kept broadcast axis): what it is."""
    try:
        raw = op.backward(cot, *inputs, out, **(node._attrs or {}))
    except Exception:  # noqa: BLE001 - it raised: the node's message says so, nothing to diagnose
        return []
    raw = raw if isinstance(raw, (tuple, list)) else (raw,)
    phi = _LocalFunction(op, inputs, node._attrs, cot)
    for i, (grad, x) in enumerate(zip(raw, inputs)):
        grad = None if grad is None else np.asarray(grad, dtype=np.float64)
        if grad is None or grad.shape == np.shape(x) or np.size(x) > MAX_LOCAL_REFERENCE:
            continue
        try:
            reference = _local_reference(phi, eps, phi.shapes, i)
        except Exception:  # noqa: BLE001 - the user's forward raised off the point: no reference, no diagnosis
            return []
        return _diagnose_node(node, inputs, out, cot, (i, grad, reference), atol, rtol)
    return []


def _local_reference(phi, eps: float, shapes, i: int) -> np.ndarray:
    """Central differences of the node's sum(forward * cotangent) for input i alone."""
    start = sum(int(np.prod(s)) for s in shapes[:i])
    size = int(np.prod(shapes[i]))
    reference = np.empty(size)
    for j in range(size):
        step = np.zeros(phi.z.size)
        step[start + j] = eps
        reference[j] = (phi(phi.z + step) - phi(phi.z - step)) / (2 * eps)
    return reference.reshape(shapes[i])


def _diagnose_node(node, inputs, out, cot, first_wrong, atol, rtol) -> list:
    """Why the node's backward is wrong for its first wrong input, from what the node saw."""
    i, hand, sym = first_wrong
    names = [p.label or f"input {k}" for k, p in enumerate(node._parents)]
    names = [n if names.count(n) == 1 else f"{n} ({k})" for k, n in enumerate(names)]
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs]
    op, attrs = node._op, node._attrs or {}
    twin = (lambda *xs: op.symbolic(*xs, **attrs)) if op.symbolic is not None and op.elementwise else None
    context = Context(name=names[i], kind=op.display, wrt=arrays[i], inputs={**dict(zip(names, arrays)),
                                                                            **_held_fixed(op, attrs)},
                      output=np.asarray(out, dtype=np.float64), cotangent=np.asarray(cot, dtype=np.float64),
                      attrs={k: v for k, v in attrs.items() if not k.startswith("_fixed")}, twin=twin,
                      atol=atol, rtol=rtol,
                      code=() if op.builtin else (op.forward, op.backward), framework=op.framework,
                      vjp=lambda dout: _input_vjp(op, inputs, attrs, out, dout, i))
    complete_geometry(context)
    return diagnose(np.asarray(hand, dtype=np.float64), np.asarray(sym, dtype=np.float64), context)


def _held_fixed(op, attrs: dict) -> dict:
    """A gv.Function's arguments held fixed (an index array, an eps), by the names its forward gives them."""
    try:
        params = list(inspect.signature(op.forward.__wrapped__).parameters)
    except (AttributeError, TypeError, ValueError):
        params = []
    held = {params[k] if k < len(params) else f"input {k}": v
            for k, v in zip(attrs.get("_fixed_at", ()), attrs.get("_fixed", ()))}
    call = attrs.get("call")  # a recorded torch call: its integer tensor arguments (indices) stay in `flat`
    if call is not None:
        owner = getattr(call.func, "__self__", None)
        try:
            params = list(inspect.signature(owner.forward).parameters)[1:]  # after ctx
        except (AttributeError, TypeError, ValueError):
            params = []
        for k, x in enumerate(getattr(call, "flat", ())):
            dtype = getattr(x, "dtype", None)
            if hasattr(x, "numpy") and dtype is not None and not (x.is_floating_point() or x.is_complex()):
                held[params[k] if k < len(params) else f"input {k}"] = x.detach().cpu().numpy()
    return held


def _input_vjp(op, inputs, attrs, out, cot, i):
    """Input i's gradient from the node's backward for another upstream gradient (None if it cannot be had)."""
    try:
        grad = node_vjp(op, inputs, attrs, out, cot)[i]
    except BackwardProblem:
        return None
    return None if grad is None else np.asarray(grad, dtype=np.float64)
