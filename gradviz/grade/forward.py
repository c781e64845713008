"""Full marks mean the work was done: the student's forward compared with the teacher's reference.

A gradient check compares a backward with its own forward, so a forward that is wrong (an
identity "sigmoid", a constant) with a backward that matches it passes. A target that names a
reference (`reference = "solution.py:Dense"` in the spec) also gets a forward check: the
teacher's code is read here, in the grader, exactly as the student's is read in the worker; the
student's arrays take the reference's values (matched by name, else by shape), and both forwards
are evaluated at the checked point and at random points around it. The reference never reaches
the sandbox and its numbers are never shown, only where and by how much the student's differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cli.check_command import file_target_report
from ..checking import served
from ..checking.report import ERROR, FAIL, PASS, Report
from ..checking.subject import INPUT, Subject, UserCodeError
from ..errors import GradvizError
from .spec import parse_check_args

POINTS = 3  # the checked point and two random points around it
RTOL, ATOL = 1e-6, 1e-8


def reference_subject(reference: str, argv: list[str], label: str) -> Subject:
    """The teacher's code read with the target's own flags, as a Subject (nothing is checked)."""
    args = parse_check_args(label, [reference, *argv[1:]])
    captured: list[Subject] = []

    def capture(subject: Subject, options) -> Report:
        captured.append(subject)
        return Report(subject=subject.name, results=[], settings=options.settings(options.mode))

    with served.served_by(capture):
        file_target_report(args)
    if not captured:
        raise GradvizError(f"the reference {reference} could not be read with this target's settings")
    return captured[0]


def compare_forward(student: Subject, reference: Subject, seed: int) -> dict[str, Any]:
    """The outcome of comparing the two forwards (PASS, FAIL with where they differ, or ERROR)."""
    matched, unmatched = match_arrays(student, reference)
    if unmatched:
        message = (f"your code holds no array that matches the reference's {', '.join(unmatched)}, so the forwards "
                   f"cannot be compared with the same values (your arrays: {', '.join(student.names)})")
        return _outcome(ERROR, message, "forward_unmatched")
    rng = np.random.default_rng(seed + 7919)
    for point in range(POINTS):
        theirs = [i.data.copy() for i in reference.inputs]
        if point:
            theirs = [a + rng.normal(size=a.shape) * max(1.0, float(np.abs(a).mean()) if a.size else 1.0)
                      for a in theirs]
        mine = [i.data.copy() for i in student.inputs]
        for k, j in matched.items():
            mine[j] = theirs[k].reshape(mine[j].shape).copy()
        expected = np.asarray(reference.output(theirs), dtype=np.float64)
        try:
            yours = np.asarray(student.output(mine), dtype=np.float64)
        except UserCodeError as exc:
            return _outcome(exc.status if exc.status in (ERROR, FAIL) else ERROR, str(exc), "raised")
        where = "at the checked point" if point == 0 else "at a random point near it"
        if yours.shape != expected.shape:
            return _outcome(FAIL, f"your forward differs from the expected output {where}: it returns shape "
                                  f"{yours.shape}, expected {expected.shape}", "forward_differs")
        close = np.isclose(yours, expected, rtol=RTOL, atol=ATOL)
        if not close.all():
            worst = np.unravel_index(int(np.argmax(np.abs(yours - expected))), yours.shape) if yours.ndim else ()
            count = int((~close).sum())
            return _outcome(FAIL, f"your forward differs from the expected output {where}: {count} of {yours.size} "
                                  f"values differ, the most at index {tuple(int(i) for i in worst)} "
                                  f"(yours {float(yours[worst]):.6g}{_ratio(yours, expected, reference)})",
                            "forward_differs")
    swapped = _swapped_order(student, reference)
    if swapped:
        return _outcome(FAIL, swapped, "return_order")
    return _outcome(PASS, f"your forward matches the expected output at {POINTS} points", None)


def _ratio(yours: np.ndarray, expected: np.ndarray, reference: Subject) -> str:
    """'; yours is 6x the reference: a sum where the mean belongs' when every value is off by a count of the input.

    Only a factor equal to the batch size or the element count of an input is named (a sum over the batch, or
    over every element, where the mean belongs, and the other way round); any other factor is left unsaid."""
    if yours.size == 0 or np.any(expected == 0):
        return ""
    ratios = (yours / expected).ravel()
    data = [i.data for i in reference.inputs if i.role == INPUT and i.data.ndim] or \
        [i.data for i in reference.inputs if i.data.ndim]
    counts = {n for a in data for n in (a.shape[0], a.shape[-1], a.size) if n >= 2}
    for n in sorted(counts):
        if np.allclose(ratios, n, rtol=1e-6):
            return f"; yours is {n}x the reference: a sum where the mean belongs"
        if np.allclose(ratios, 1 / n, rtol=1e-6):
            return f"; yours is 1/{n} of the reference: a mean where the sum belongs"
    return ""


def _swapped_order(student: Subject, reference: Subject) -> str | None:
    """A loss whose values are right but returned in another order than the reference's: the student's interface.

    Confirmed, not guessed: gradviz read the student's loss wherever it is among the returned values, that loss
    matched the reference's at every point, and only its position differs (the gradient check, a target of its
    own, judges the gradient). A swapped (dlogits, loss) breaks every caller written for (loss, dlogits)."""
    mine, theirs = student.cost_index, reference.cost_index
    if not (student.loss and reference.loss) or mine is None or theirs is None or mine == theirs:
        return None
    grad = reference.grad_name(reference.inputs[0].name) if reference.inputs else "the gradient"
    if {mine, theirs} == {0, 1}:
        order = ("loss", grad) if theirs == 0 else (grad, "loss")
        said, wanted = f"returns ({order[1]}, {order[0]}); the assignment's returns ({order[0]}, {order[1]})", \
            f"({order[0]}, {order[1]})"
    else:
        said, wanted = (f"returns the loss as value {mine + 1}; the assignment's returns it as value {theirs + 1}",
                        "the assignment's order")
    return (f"{student.name} {said}. Your values are right once swapped (your loss matches the expected one at "
            f"{POINTS} points), but code that unpacks the assignment's order gets them the wrong way round: "
            f"return {wanted}")


def match_arrays(student: Subject, reference: Subject) -> tuple[dict[int, int], list[str]]:
    """reference index -> student index, for arrays of the same role holding the same numbers' layout.

    The same name first; else the only array of a compatible shape (equal once axes of length 1 are
    dropped: a bias of shape (1, n) is the reference's (n,)); among several, the ones the student's
    output depends on (momentum buffers, caches and running statistics beside the weights are not).
    """
    matched: dict[int, int] = {}
    unmatched = []
    used: dict[int, bool] = {}
    for k, ref in enumerate(reference.inputs):
        free = [j for j, s in enumerate(student.inputs) if j not in matched.values()
                and (s.role == ref.role or student.loss and reference.loss)  # a cost's arguments have no roles
                and _compatible(s.data.shape, ref.data.shape)]
        same = [j for j in free if student.inputs[j].name == ref.name] or free
        if len(same) > 1:
            same = [j for j in same if used.setdefault(j, _output_depends_on(student, j))]
        if len(same) == 1:
            matched[k] = same[0]
        else:
            unmatched.append(f"{ref.name} (shape {ref.data.shape})")
    return matched, unmatched


def _compatible(shape: tuple, other: tuple) -> bool:
    return tuple(n for n in shape if n != 1) == tuple(n for n in other if n != 1)


def _output_depends_on(student: Subject, j: int) -> bool:
    """Whether changing the student's j-th array changes its output (one extra evaluation of theirs)."""
    arrays = [i.data.copy() for i in student.inputs]
    try:
        before = np.asarray(student.output(arrays), dtype=np.float64)
        arrays[j] = arrays[j] + np.random.default_rng(j).normal(size=arrays[j].shape) + 1.0
        after = np.asarray(student.output(arrays), dtype=np.float64)
    except UserCodeError:
        return True  # not known to be unused: it stays a candidate
    return before.shape != after.shape or not np.allclose(before, after, rtol=0, atol=0)


def _outcome(status: str, message: str, cause: str | None) -> dict[str, Any]:
    return {"status": status, "ok": status == PASS, "verdict": message, "cause": cause,
            "problems": [], "markdown": "", "svg": ""}
