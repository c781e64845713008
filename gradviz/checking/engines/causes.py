"""Why an operation of the student's engine is wrong, in the student's words.

Engine-specific causes are recomputed and compared, never guessed: a missing
factor is named only when the true derivative is yours times that factor at
every point; swapped operands only when yours is the derivative of the
swapped form. Anything else goes to gradviz's general hypothesis library
(diagnosis/), which names 1 - x**2 for tanh (`pre_activation`), an inverted
mask, a sign, a constant factor, with the op's points as one array.
"""

from __future__ import annotations

import numpy as np

from ..diagnosis import Context, diagnose
from ..diagnosis.finding import Finding
from ..tolerance import Tolerance
from .battery import FormRun, forward_ok, reference

TOL = Tolerance()


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and a.size > 0 and bool(np.all(TOL.agree(a, b)))


def forward_cause(run: FormRun) -> Finding | None:
    """The forward computes something else (or, for a reflected op, the operands' other order)."""
    form = run.form
    bad = [p for p in run.points if not forward_ok(p)]
    if not bad:
        return None
    p = bad[0]
    if form.reflected and len(p.values) == 2:
        swapped = form.table.forward(p.values[1], p.values[0], **form.attrs)
        if _close(p.out, swapped):
            return Finding(f"{form.method} computes {_swap_text(form.key)} where {form.key} was asked: the "
                           "operands of the reflected op are swapped (other is on the left in "
                           f"{form.key})", cause="swapped_reflected_operands",
                           evidence=f"at a = {p.values[1]:g}: yours {p.out:.6g}, {form.key} = {p.ref_out:.6g}, "
                                    f"{_swap_text(form.key)} = {swapped:.6g}", confidence=0.95)
    return Finding(f"the forward of {form.method} computes something else: {form.key} at {at(run, p)} gives "
                   f"{p.out:.6g} where the true value is {p.ref_out:.6g}", cause="forward_mismatch",
                   evidence=f"{len(bad)} of {len(run.points)} points differ", confidence=0.95)


def at(run: FormRun, p) -> str:
    names = iter("ab")
    return ", ".join(f"{next(names)} = {v:g}" for v, node in zip(p.values, run.form.nodes) if node)


def built_on(method: str, key: str, inner: str) -> Finding:
    return Finding(f"{method} is built on {inner}, which is wrong alone: fix {inner} first ({key} runs its rule)",
                   cause="built_on_wrong_op", evidence=f"{inner}'s rule ran in backward() of {key}",
                   confidence=0.95)


def _swap_text(key: str) -> str:
    left, op, right = key.split()
    return f"{right} {op} {left}"


def gradient_causes(run: FormRun, operand: int, operand_name: str) -> list[Finding]:
    """Findings for one node operand's gradient across the op's points (kinks left out)."""
    form = run.form
    yours, true = run.column("grads", operand), run.column("ref", operand)
    if yours.size == 0 or _close(yours, true):
        return []
    pts = [p for p in run.points if not p.kink]
    if form.reflected and len(form.nodes) == 2:
        swapped = np.array([reference(form, (p.values[1], p.values[0]))[1][0] for p in pts])
        if _close(yours, swapped):
            return [Finding(f"{form.method} backpropagates as if the op were {_swap_text(form.key)}: the operands of "
                            f"the reflected op are swapped", cause="swapped_reflected_operands",
                            evidence=f"yours {yours[0]:.6g}, d({form.key})/da = {true[0]:.6g}, "
                                     f"d({_swap_text(form.key)})/da = {swapped[0]:.6g}", confidence=0.95)]
    if len(form.nodes) == 2 and all(form.nodes):
        crossed = np.array([reference(form, (p.values[1], p.values[0]))[1][operand] for p in pts])
        if _close(yours, crossed):
            other = "b" if operand == 0 else "a"
            return [Finding(f"{form.method}'s rule for {operand_name} reads the wrong operand: it is the derivative "
                            f"with {operand_name} and {other} swapped (self.data where other.data belongs, or the "
                            "reverse)", cause="wrong_operand",
                            evidence=f"yours {yours[0]:.6g}, true {true[0]:.6g}, with the operands swapped "
                                     f"{crossed[0]:.6g} (at all {len(pts)} points)", confidence=0.9)]
    if np.all(yours == 0) and np.any(true != 0):
        return [Finding(f"{form.method} gives {operand_name} no gradient: its grad stays 0 after backward() "
                        f"in {form.key}", cause="operand_without_gradient",
                        evidence=f"{operand_name}.grad = 0 at all {yours.size} points; the true one is "
                                 f"{true[0]:.6g}, ...", confidence=0.95)]
    missing = _missing_factor(run, operand, yours, true) or _power_precedence(run, operand, yours)
    if missing is not None:
        return [missing]
    i = run.node_index(operand)
    x = np.array([p.values[i] for p in pts])
    out = np.array([p.ref_out for p in pts])
    ctx = Context(name=f"{operand_name}.grad", kind=form.op, wrt=x, output=out, cotangent=np.ones_like(out),
                  inputs={operand_name: x}, eps=TOL.eps, atol=TOL.atol, rtol=TOL.rtol)
    return [_in_words(f, form.method) for f in diagnose(yours, true, ctx)]


def _missing_factor(run: FormRun, operand: int, yours: np.ndarray, true: np.ndarray) -> Finding | None:
    """True = yours * f for a factor the rule needs: the exponent, the output, the other operand."""
    form = run.form
    pts = [p for p in run.points if not p.kink]
    candidates = []
    if "exponent" in form.attrs:
        candidates.append((f"the exponent n = {form.attrs['exponent']:g} (d/da a**n = n * a**(n-1))",
                           np.full(len(pts), form.attrs["exponent"])))
    candidates.append((f"the output {form.table.display}(a)" if len(form.nodes) == 1 else "the output",
                       np.array([p.ref_out for p in pts])))
    for j, value in enumerate(form.nodes):
        if j != run.node_index(operand):
            name = "other" if value else "the constant"
            candidates.append((f"{name}'s value", np.array([p.values[j] for p in pts])))
    for what, factor in candidates:
        if np.all(np.abs(factor - 1.0) < 1e-9):
            continue
        if _close(yours * factor, true) and not _close(yours, true):
            return Finding(f"{form.method}'s rule is missing a factor: {what}", cause="missing_factor",
                           evidence=f"yours {yours[0]:.6g} times {factor[0]:.6g} is the true {true[0]:.6g} "
                                    f"(at all {len(pts)} points)", confidence=0.9)
    return None


# the power rule n * a**(n - 1) with its parentheses misplaced, as typed: (what, yours as a function of a, n)
PRECEDENCE = (("n * a**n - 1", lambda a, n: n * a ** n - 1), ("n * a**(n - 1) - 1", lambda a, n: n * a ** (n - 1) - 1),
              ("(n * a)**(n - 1)", lambda a, n: (n * a) ** (n - 1)))


def _power_precedence(run: FormRun, operand: int, yours: np.ndarray) -> Finding | None:
    """a ** n's rule typed without its parentheses (`n * a ** n - 1`): recomputed at every point and compared."""
    form = run.form
    if "exponent" not in form.attrs:
        return None
    n = form.attrs["exponent"]
    a = np.array([p.values[run.node_index(operand)] for p in run.points if not p.kink])
    for what, typed in PRECEDENCE:
        with np.errstate(all="ignore"):
            candidate = typed(a, n)
        if np.all(np.isfinite(candidate)) and _close(yours, candidate):
            return Finding(f"{form.method}'s power rule has its parentheses misplaced: it computes {what} where "
                           f"n * a**(n - 1) belongs (n = {n:g})", cause="power_rule_precedence",
                           evidence=f"at a = {a[0]:g}: yours {yours[0]:.6g}, {what} = {candidate[0]:.6g}, "
                                    f"n * a**(n - 1) = {n * a[0] ** (n - 1):.6g} (at all {a.size} points)",
                           confidence=0.9)
    return None


def _in_words(finding: Finding, method: str) -> Finding:
    """A general finding, said about the student's method."""
    return Finding(f"{method}: {finding}", cause=finding.cause, evidence=finding.evidence,
                   confidence=finding.confidence)


def twice_cause(method: str, key: str, yours: float, true: float, line: str) -> Finding:
    return Finding(f"{method} assigns the gradient instead of accumulating it: in {key} the node used twice "
                   f"keeps one contribution ({line if line.startswith('in ') else 'rule at ' + line}; write += so "
                   "every use adds its part)",
                   cause="assignment_not_accumulation", evidence=f"yours {yours:.6g}, true {true:.6g}",
                   confidence=0.9)


def order_cause(method: str, key: str, yours: float, true: float) -> Finding:
    return Finding(f"{method} runs the rules in a wrong order: every op is right alone and with a node used "
                   f"twice, but in {key} a node's rule runs before all of its uses have added to its gradient "
                   "(walk a topological order of the graph, output first)", cause="topological_order",
                   evidence=f"yours {yours:.6g}, true {true:.6g}", confidence=0.85)


def nested_cause(method: str, key: str, yours: float, true: float) -> Finding:
    return Finding(f"{method} is right alone but wrong in {key}: its rule is kept on the wrong node (the input's "
                   "rule is replaced when the input feeds another op: store it on the result, out._backward = ...)",
                   cause="own_output", evidence=f"yours {yours:.6g}, true {true:.6g}", confidence=0.8)


def overflow_cause(method: str, key: str, what: str) -> Finding:
    return Finding(f"{method} breaks on a large input: {key} {what}; compute it in a form that cannot "
                   "overflow (math.tanh, or exp of a negative number only)", cause="overflow",
                   evidence=what, confidence=0.9)
