"""`gradviz check` with no target: every op, layer, loss and optimizer at its default points.

Ops are checked at their table's kink-free sample points and also at points
on a kink or tie (relu and abs at 0, clip at a bound, max and max-pool ties),
where the right answer is NONDIFF, never FAIL. Optimizers are checked against
their textbook update written out here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from . import functional as F
from . import nn, optim
from .checking.core import check
from .checking.streams import INPUTS, stream
from .checking.report import FAIL, NONDIFF, PASS, SKIPPED, Report
from .ops import builtin_ops
from .ops.registry import OpDef
from .tensor import Tensor, apply
from .value import Value


@dataclass
class Item:
    """One self-test line: a name, the shapes involved, and a function producing a Report or a verdict."""

    name: str
    shapes: str
    run: Callable[[], "Outcome"]
    expect: str = PASS  # NONDIFF for the points on kinks and ties


@dataclass
class Outcome:
    status: str
    abs_err: dict  # oracle -> worst abs err
    rel_err: dict
    report: Report | None = None
    message: str = ""


def _from_report(report: Report) -> Outcome:
    abs_err, rel_err = {}, {}
    for oracle in ("finite", "symbolic"):
        errs = [(abs(r.autograd - getattr(r, oracle)), abs(r.autograd - getattr(r, oracle)) /
                 max(abs(getattr(r, oracle)), 1e-12)) for r in report.rows() if getattr(r, oracle) is not None]
        if errs:
            abs_err[oracle] = max(e[0] for e in errs)
            rel_err[oracle] = max(e[1] for e in errs)
    return Outcome(report.status, abs_err, rel_err, report)


def _shape_text(inputs) -> str:
    return " ".join("x".join(map(str, np.shape(x))) or "()" for x in inputs)


def _op_item(op: OpDef, inputs: tuple, attrs: dict, label: str, expect: str = PASS, strict: bool = False) -> Item:
    def run():
        tensors = [Tensor(np.asarray(x, dtype=np.float64), label=f"x{i}") for i, x in enumerate(inputs)]
        return _from_report(check(lambda *ts: apply(op, ts, attrs), *tensors, seed=1, name=op.name, strict=strict))

    return Item(label, _shape_text(inputs), run, expect)


def _kink_items(strict: bool = False) -> list[Item]:
    from .ops import elementwise as ew
    from .ops import pool, reduce

    return [
        _op_item(ew.RELU, (np.array([0.0, 1.5, -2.0]),), {}, "relu at 0", NONDIFF, strict),
        _op_item(ew.ABS, (np.array([0.0, -0.5]),), {}, "abs at 0", NONDIFF, strict),
        _op_item(ew.CLIP, (np.array([1.0, 0.2]),), {"lo": -1.0, "hi": 1.0}, "clip at its bound", NONDIFF, strict),
        _op_item(ew.MAXIMUM, (np.array([1.0, 2.0]), np.array([1.0, 0.5])), {}, "max(a, b) at a tie", NONDIFF, strict),
        _op_item(reduce.MAX, (np.array([[1.0, 3.0, 3.0], [0.0, 1.0, 2.0]]),), {"axis": 1}, "max over a tie",
                 NONDIFF, strict),
        _op_item(pool.MAX_POOL2D, (np.array([[[[1.0, 2.0], [2.0, 0.0]]]]),), {"kernel": (2, 2), "stride": (2, 2)},
                 "max_pool2d with a tie", NONDIFF, strict),
    ]


def _layer_items(rng: np.random.Generator, strict: bool = False) -> list[Item]:
    def model_item(name, module, x_shape, loss=None):
        def run():
            x = Tensor(rng.normal(size=x_shape), label="x")
            fn = (lambda t: loss(module(t))) if loss else (lambda t: module(t).sum())
            return _from_report(check(fn, x, params=module.parameters(), seed=1, name=name, strict=strict))

        return Item(name, "x".join(map(str, x_shape)), run)

    def mlp_run():
        mlp = nn.MLP(3, [3, 2, 1], seed=0)
        inputs = [Value(float(v), label=f"x{i}") for i, v in enumerate(rng.normal(size=3))]
        return _from_report(check(lambda *xs: mlp(list(xs)), *inputs, params=mlp.parameters(), seed=1, name="MLP",
                                      strict=strict))

    targets = np.array([0, 2, 1])
    return [
        Item("nn.MLP(3, [3, 2, 1])", "3", mlp_run),
        model_item("nn.Linear(4, 3)", nn.Linear(4, 3, seed=0), (2, 4)),
        model_item("nn.Conv2d(2, 3, 3, padding=1)", nn.Conv2d(2, 3, 3, padding=1, seed=0), (1, 2, 4, 4)),
        model_item("nn.MaxPool2d(2)", nn.MaxPool2d(2), (1, 2, 4, 4)),
        model_item("nn.AvgPool2d(2, 1)", nn.AvgPool2d(2, 1), (1, 2, 3, 3)),
        model_item("F.cross_entropy", nn.Identity(), (3, 4), lambda z: F.cross_entropy(z, targets)),
        model_item("F.mse_loss", nn.Identity(), (3, 2), lambda z: F.mse_loss(z, np.ones((3, 2)))),
        model_item("F.binary_cross_entropy", nn.Identity(), (4, 1),
                   lambda z: F.binary_cross_entropy(z.sigmoid(), np.array([[1.0], [0.0], [1.0], [0.0]]))),
    ]


def _optimizer_items() -> list[Item]:
    def sgd():
        p = Value(0.5)
        opt = optim.SGD([p], lr=0.1, momentum=0.9)
        w, v = 0.5, 0.0
        worst = 0.0
        for step in range(3):
            opt.zero_grad()
            ((p - 3.0) ** 2).backward()
            opt.step()
            g = 2 * (w - 3.0)
            v = g if step == 0 else 0.9 * v + g
            w -= 0.1 * v
            worst = max(worst, abs(p.data - w))
        return Outcome(PASS if worst < 1e-12 else FAIL, {"closed form": worst}, {})

    def adam():
        p = Value(0.5)
        opt = optim.Adam([p], lr=0.1)
        w, m, v, worst = 0.5, 0.0, 0.0, 0.0
        for t in range(1, 4):
            opt.zero_grad()
            ((p - 3.0) ** 2).backward()
            opt.step()
            g = 2 * (w - 3.0)
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
            w -= 0.1 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
            worst = max(worst, abs(p.data - w))
        return Outcome(PASS if worst < 1e-12 else FAIL, {"closed form": worst}, {})

    return [Item("optim.SGD(momentum=0.9)", "()", sgd), Item("optim.Adam", "()", adam)]


def _reference_optimizer_items() -> list[Item]:
    """gv.optim driven by check_optimizer against the independent reference rules (float64, every step)."""
    from .checking.optimizers import check_optimizer

    def item(name: str, kind: str, make: Callable):
        def run():
            report = check_optimizer(make([Tensor(np.ones((2, 3)), label="W"), Value(0.5, label="b")]), kind=kind)
            return Outcome(report.status, {}, {}, report, "" if report.ok else report.verdict)

        return Item(f"reference rule: {name}", "2x3 ()", run)

    return [item("optim.SGD (sgd)", "sgd", lambda ps: optim.SGD(ps, lr=0.1)),
            item("optim.SGD (momentum)", "momentum", lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)),
            item("optim.Adam (adam)", "adam", lambda ps: optim.Adam(ps, lr=0.1))]


def items(seed: int = 0, strict: bool = False) -> list[Item]:
    """Everything the self-test checks, in order."""
    rng = stream(seed, INPUTS)  # check() draws cotangents and directions from streams of their own
    out = []
    for op in builtin_ops():
        cases = op.test_cases(rng)
        for k, case in enumerate(cases):
            label = op.name + (f" {k + 1}" if len(cases) > 1 else "")
            out.append(_op_item(op, case.inputs, case.attrs, label, strict=strict))
    return out + _kink_items(strict) + _layer_items(rng, strict) + _optimizer_items() + _reference_optimizer_items()


def run(seed: int = 0, strict: bool = False) -> Iterator[tuple[Item, Outcome]]:
    for item in items(seed, strict):
        try:
            outcome = item.run()
        except Exception as exc:  # a crash in the self-test is a failure to report, not to hide
            outcome = Outcome(FAIL, {}, {}, message=f"{type(exc).__name__}: {exc}")
        if item.expect == NONDIFF and outcome.status == PASS:
            outcome.status, outcome.message = FAIL, "expected a kink or tie to be detected (NONDIFF)"
        yield item, outcome


def passed(item: Item, outcome: Outcome) -> bool:
    return outcome.status in (PASS, NONDIFF, SKIPPED) and not (item.expect == NONDIFF and outcome.status != NONDIFF)
