"""`gradviz check file.py:MyFunction`: torch code from the command line reads its arguments as gradcheck does.

Arrays become tensors (float ones differentiated, integer and boolean ones data: indices, targets, masks);
defaults, --args values and plain numbers reach forward as Python numbers and are held constant; a
`gradviz_inputs` dict in the file named is used; several outputs are each checked. Every Function here is
checked twice: correct, it must PASS; with a planted bug, it must FAIL on the input the bug is in. The
oracle is torch.autograd.gradcheck in float64 (or a derivative written out in the test). Skipped, with
the reason, where torch is not installed.
"""

import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: pip install torch "
                                            "(or GRADVIZ_DEV_EXTRAS=torch python3 dev.py test)")

import gradviz as gv  # noqa: E402
from gradviz.targets import check_file_target  # noqa: E402  (the CLI's one entry point for file targets)

ROOT = Path(__file__).resolve().parent.parent

OPS = textwrap.dedent('''
    import torch


    class HardTanh(torch.autograd.Function):
        """Clip to [low, high]: the bounds are plain numbers with defaults."""

        @staticmethod
        def forward(ctx, x, low=-1.0, high=1.0):
            ctx.save_for_backward(x)
            ctx.low, ctx.high = low, high
            return x.clamp(low, high)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * ((x > ctx.low) & (x < ctx.high)), None, None


    class HardTanhNoLowerBound(HardTanh):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * (x < ctx.high), None, None      # planted: the lower bound is forgotten


    class RMSNorm(torch.autograd.Function):
        """x / sqrt(mean(x**2) + eps) over the last axis; eps a float default."""

        @staticmethod
        def forward(ctx, x, eps=1e-6):
            inv = torch.rsqrt((x * x).mean(-1, keepdim=True) + eps)
            ctx.save_for_backward(x, inv)
            return x * inv

        @staticmethod
        def backward(ctx, grad):
            x, inv = ctx.saved_tensors
            return inv * grad - x * inv ** 3 * (grad * x).sum(-1, keepdim=True) / x.shape[-1], None


    class RMSNormNoScaleTerm(RMSNorm):
        @staticmethod
        def backward(ctx, grad):
            x, inv = ctx.saved_tensors
            return inv * grad, None                        # planted: the path through the mean is dropped


    class TemperedSoftmax(torch.autograd.Function):
        """softmax(x / tau) along dim: dim an int, tau a float, both without defaults."""

        @staticmethod
        def forward(ctx, x, dim, tau):
            y = torch.softmax(x / tau, dim=dim)
            ctx.save_for_backward(y)
            ctx.dim, ctx.tau = dim, tau
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)) / ctx.tau, None, None


    class TemperedSoftmaxForgetsTau(TemperedSoftmax):
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None, None   # planted: no 1/tau


    class Lookup(torch.autograd.Function):
        """Rows of a table picked by integer ids: an embedding."""

        @staticmethod
        def forward(ctx, table, ids):
            ctx.save_for_backward(ids)
            ctx.rows = table.shape[0]
            return table[ids]

        @staticmethod
        def backward(ctx, grad):
            (ids,) = ctx.saved_tensors
            dtable = grad.new_zeros(ctx.rows, grad.shape[1])
            dtable.index_add_(0, ids, grad)
            return dtable, None


    class LookupOverwrites(Lookup):
        @staticmethod
        def backward(ctx, grad):
            (ids,) = ctx.saved_tensors
            dtable = grad.new_zeros(ctx.rows, grad.shape[1])
            dtable[ids] = grad                             # planted: a repeated id keeps one gradient
            return dtable, None


    def masked_mean(x, keep):
        return x[keep].mean()


    def shifted_softplus(x, s):
        return torch.nn.functional.softplus(x - torch.exp(s)).sum()


    class TopValue(torch.autograd.Function):
        """Each row's largest entry and where it is, as torch.max(x, dim=1) returns them."""

        @staticmethod
        def forward(ctx, x):
            values, where = x.max(dim=1)
            ctx.mark_non_differentiable(where)
            ctx.save_for_backward(where)
            ctx.shape = x.shape
            return values, where

        @staticmethod
        def backward(ctx, dvalues, dwhere):
            (where,) = ctx.saved_tensors
            dx = dvalues.new_zeros(ctx.shape)
            dx.scatter_(1, where[:, None], dvalues[:, None])
            return dx


    class TopValueSpreads(TopValue):
        @staticmethod
        def backward(ctx, dvalues, dwhere):
            return dvalues[:, None].expand(ctx.shape) / ctx.shape[1]   # planted: spread over the row


    class PolarToXY(torch.autograd.Function):
        """(r, theta) -> (r cos theta, r sin theta): two differentiable outputs."""

        @staticmethod
        def forward(ctx, r, theta):
            ctx.save_for_backward(r, theta)
            return r * torch.cos(theta), r * torch.sin(theta)

        @staticmethod
        def backward(ctx, dx, dy):
            r, theta = ctx.saved_tensors
            c, s = torch.cos(theta), torch.sin(theta)
            return dx * c + dy * s, -dx * r * s + dy * r * c


    class PolarToXYSignSlip(PolarToXY):
        @staticmethod
        def backward(ctx, dx, dy):
            r, theta = ctx.saved_tensors
            c, s = torch.cos(theta), torch.sin(theta)
            return dx * c + dy * s, -dx * r * s - dy * r * c   # planted: d(r sin)/dtheta with the wrong sign


    class ReshapeSlip(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.reshape(3, -1) * 2                     # raises for a length not divisible by 3

        @staticmethod
        def backward(ctx, grad):
            return grad.reshape(-1) * 2


    class Normed(torch.nn.Module):
        """RMSNorm with a learned gain: the width is a constructor argument."""

        norm = RMSNorm

        def __init__(self, width, low=0.5):
            super().__init__()
            self.gain = torch.nn.Parameter(torch.linspace(low, low + 1, width, dtype=torch.float64))

        def forward(self, x):
            return self.norm.apply(x) * self.gain


    class NormedNoScaleTerm(Normed):
        norm = RMSNormNoScaleTerm


    normed = Normed(4)


    class BackwardSlip(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad @ x @ grad                          # raises: a 0-d result cannot be multiplied
''')


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    """The file the user names on the command line, and its Functions (for the gradcheck oracle)."""
    folder = tmp_path_factory.mktemp("torch_cli")
    (folder / "ops.py").write_text(OPS)
    return folder, runpy.run_path(str(folder / "ops.py"))


def _check(folder, target, *inputs, args=None, input_shape=None, init=(), wrt=None):
    """`gradviz check folder/TARGET --input ... [--args JSON] [--input-shape] [--init] [--wrt]`, as the CLI runs it."""
    pairs = dict(i.split("=", 1) for i in inputs)
    return check_file_target(f"{folder}/{target}", args_json=args and json.dumps(args), input_shape=input_shape,
                             inputs=pairs, options={}, init=dict(i.split("=", 1) for i in init), wrt=wrt)


def _cli(folder, *arguments):
    """The real command line, in a subprocess started in the folder holding ops.py."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "gradviz", "check", *arguments], cwd=folder, env=env,
                          capture_output=True, text=True)


def _gradcheck(fn, *args) -> bool:
    """torch's own verdict in float64 (the oracle): float tensors require grad, everything else as given."""
    args = [a.to(torch.float64).requires_grad_() if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            for a in args]
    return torch.autograd.gradcheck(fn, tuple(args), raise_exception=False)


def _statuses(report) -> dict:
    return {r.name: r.status for r in report.results}


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(OPS.splitlines(), 1) if text in line)


# --- W2: defaults and --args values are constants, not inputs to differentiate ----------------------------

def test_number_defaults_are_constants_and_the_bound_a_bug_forgets_fails(ops):
    folder, ns = ops
    xs = [-2.3, -1.6, -0.7, -0.2, 0.4, 0.9, 1.3, 1.8, 2.1]
    x = torch.tensor(xs, dtype=torch.float64)
    assert _gradcheck(ns["HardTanh"].apply, x) and not _gradcheck(ns["HardTanhNoLowerBound"].apply, x)
    good = _check(folder, "ops.py:HardTanh", f"x={xs}")
    assert good.ok and _statuses(good) == {"x": "PASS"}  # low and high are not inputs: nothing blames them
    bad = _check(folder, "ops.py:HardTanhNoLowerBound", f"x={xs}")
    assert not bad.ok and _statuses(bad) == {"x": "FAIL"} and bad.first_bad_node.op == "HardTanhNoLowerBound"
    # closed form: d clip / dx is 1 strictly inside [-1, 1] and 0 outside, so the VJP is nonzero inside only
    np.testing.assert_array_equal(np.asarray(good.results[0].autograd) != 0, np.abs(xs) < 1)
    wrong = np.asarray(bad.results[0].statuses) == "FAIL"
    np.testing.assert_array_equal(wrong, np.array(xs) < -1)  # the forgotten lower bound, and only there


def test_args_values_reach_forward_as_python_numbers(ops):
    folder, ns = ops
    spec = "x=[-2.3, -1.6, -0.7, -0.2, 0.4, 0.9, 1.3, 1.8, 2.1]"
    narrow = {"low": -0.5, "high": 0.5}
    good = _check(folder, "ops.py:HardTanh", spec, args=narrow)
    bad = _check(folder, "ops.py:HardTanhNoLowerBound", spec, args=narrow)
    assert good.ok and _statuses(good) == {"x": "PASS"}
    assert _statuses(bad) == {"x": "FAIL"}
    # oracle: with bounds +-0.5 the inputs -0.2 and 0.4 alone pass gradient; the check's finite differences agree
    inside = np.array([abs(v) < 0.5 for v in (-2.3, -1.6, -0.7, -0.2, 0.4, 0.9, 1.3, 1.8, 2.1)])
    np.testing.assert_array_equal(np.asarray(good.results[0].finite) != 0, inside)


def test_an_eps_default_is_a_constant_and_a_dropped_term_fails(ops):
    folder, ns = ops
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert _gradcheck(ns["RMSNorm"].apply, x) and not _gradcheck(ns["RMSNormNoScaleTerm"].apply, x)
    good = _check(folder, "ops.py:RMSNorm", "x=3,5")
    assert good.ok and _statuses(good) == {"x": "PASS"}
    bad = _check(folder, "ops.py:RMSNormNoScaleTerm", "x=3,5")
    assert _statuses(bad) == {"x": "FAIL"} and bad.first_bad_node.op == "RMSNormNoScaleTerm"


# --- W4: an int dim and a float temperature, from --input or --args ----------------------------------------

@pytest.mark.parametrize("given", ["input", "args"])
def test_an_int_dim_and_a_float_temperature_reach_forward_as_numbers(ops, given):
    folder, ns = ops
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    assert _gradcheck(ns["TemperedSoftmax"].apply, x, 1, 0.5)
    assert not _gradcheck(ns["TemperedSoftmaxForgetsTau"].apply, x, 1, 0.5)
    flags = (["dim=1", "tau=0.5"], None) if given == "input" else ([], {"dim": 1, "tau": 0.5})
    good = _check(folder, "ops.py:TemperedSoftmax", "x=3,4", *flags[0], args=flags[1])
    assert good.ok and _statuses(good) == {"x": "PASS"}  # softmax(dim=1.0) would raise: dim arrived as an int
    bad = _check(folder, "ops.py:TemperedSoftmaxForgetsTau", "x=3,4", *flags[0], args=flags[1])
    assert _statuses(bad) == {"x": "FAIL"}
    if given == "input":  # numbers typed with --input are said to be constants, with the way to differentiate one
        assert any("dim=1, tau=0.5" in n and "held constant" in n and "--input tau=[0.5]" in n for n in good.notes)


def test_a_number_the_forward_needs_as_a_tensor_is_differentiated(ops):
    folder, _ = ops
    xs = [0.2, -0.6, 1.1]
    report = _check(folder, "ops.py:shifted_softplus", f"x={xs}", "s=0.3")  # torch.exp(0.3) needs a tensor
    assert report.ok and _statuses(report) == {"x": "PASS", "s": "PASS"}
    assert any("s=0.3" in n and "0-d float64 tensor" in n for n in report.notes)
    # closed form: d/dx softplus(x - e^s) = sigmoid(x - e^s); d/ds = -e^s * sum sigmoid(x - e^s)
    sig = 1 / (1 + np.exp(-(np.array(xs) - np.exp(0.3))))
    by_name = {r.name: np.asarray(r.autograd) for r in report.results}
    np.testing.assert_allclose(by_name["x"], sig, rtol=1e-9)
    np.testing.assert_allclose(by_name["s"], -np.exp(0.3) * sig.sum(), rtol=1e-9)
    explicit = _check(folder, "ops.py:shifted_softplus", f"x={xs}", "s=[0.3]")  # a one-element array, by choice
    assert explicit.ok and {r.name: r.shape for r in explicit.results}["s"] == (1,)


# --- W3: integer and boolean arrays are data --------------------------------------------------------------

def test_integer_ids_are_int64_data_and_a_lookup_that_overwrites_fails(ops):
    folder, ns = ops
    table, ids = torch.randn(5, 3, dtype=torch.float64), torch.tensor([4, 0, 4, 1, 4])
    assert _gradcheck(ns["Lookup"].apply, table, ids) and not _gradcheck(ns["LookupOverwrites"].apply, table, ids)
    good = _check(folder, "ops.py:Lookup", "table=5,3", "ids=[4, 0, 4, 1, 4]")
    assert good.ok and _statuses(good) == {"table": "PASS"}  # ids are not differentiated
    bad = _check(folder, "ops.py:LookupOverwrites", "table=5,3", "ids=[4, 0, 4, 1, 4]")
    assert _statuses(bad) == {"table": "FAIL"} and bad.first_bad_node.op == "LookupOverwrites"
    # oracle: d sum(table[ids] * R) / d table[k] sums R's rows where ids == k; only row 4 is picked twice or more
    wrong_rows = {int(i) for i in np.nonzero((np.asarray(bad.results[0].statuses) == "FAIL").reshape(5, 3))[0]}
    assert wrong_rows == {4}
    with_randint = _check(folder, "ops.py:Lookup", "table=5,3", "ids=randint(5, size=12)")  # QA's own spelling
    assert with_randint.ok


def test_a_boolean_mask_is_data(ops):
    folder, _ = ops
    keep = [True, False, True, True]
    report = _check(folder, "ops.py:masked_mean", "x=[0.5, -1.0, 2.0, 0.25]", f"keep={keep}")
    assert report.ok and _statuses(report) == {"x": "PASS"}
    np.testing.assert_allclose(np.asarray(report.results[0].autograd), np.array(keep) / 3, atol=1e-12)


# --- W8: a gradviz_inputs dict in the file named on the command line ---------------------------------------

def test_gradviz_inputs_in_the_file_named_is_used_for_an_imported_function(ops):
    folder, _ = ops
    (folder / "check_lookup.py").write_text(textwrap.dedent('''
        import torch
        from ops import Lookup, LookupOverwrites, RMSNorm

        gradviz_inputs = {
            "Lookup": {"table": (5, 3), "ids": torch.tensor([4, 0, 4, 1])},
            "LookupOverwrites": {"table": torch.randn(5, 3, dtype=torch.float64), "ids": [4, 0, 4, 1]},
        }
    '''))
    good = _check(folder, "check_lookup.py:Lookup")
    assert good.ok and [(r.name, r.shape) for r in good.results] == [("table", (5, 3))]
    bad = _check(folder, "check_lookup.py:LookupOverwrites")
    assert _statuses(bad) == {"table": "FAIL"}
    unused = _check(folder, "check_lookup.py:RMSNorm", "x=2,4")  # no entry for it: said, not silently ignored
    assert unused.ok and any("gradviz_inputs has no entry 'RMSNorm'" in n for n in unused.notes)


# --- W5: several outputs ----------------------------------------------------------------------------------

def test_values_and_indices_check_the_values_and_skip_the_indices(ops):
    folder, ns = ops
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    first = lambda cls: lambda x: cls.apply(x)[0]  # noqa: E731 - gradcheck wants the float output alone
    assert _gradcheck(first(ns["TopValue"]), x) and not _gradcheck(first(ns["TopValueSpreads"]), x)
    good = _check(folder, "ops.py:TopValue", "x=3,5")
    assert good.ok and any("output 0 is checked" in n and "output 1 is an int64 tensor" in n for n in good.notes)
    bad = _check(folder, "ops.py:TopValueSpreads", "x=3,5")
    assert _statuses(bad) == {"x": "FAIL"} and bad.first_bad_node.op == "TopValueSpreads"


def test_two_differentiable_outputs_are_both_checked_and_a_slip_in_one_fails_its_input(ops):
    folder, ns = ops
    gen = torch.Generator().manual_seed(4)
    r, theta = torch.rand(4, dtype=torch.float64, generator=gen) + 0.5, torch.randn(4, dtype=torch.float64)
    assert _gradcheck(ns["PolarToXY"].apply, r, theta) and not _gradcheck(ns["PolarToXYSignSlip"].apply, r, theta)
    good = _check(folder, "ops.py:PolarToXY", "r=rand(4)", "theta=randn(4)")
    assert good.ok and _statuses(good) == {"r": "PASS", "theta": "PASS"}
    bad = _check(folder, "ops.py:PolarToXYSignSlip", "r=rand(4)", "theta=randn(4)")
    assert _statuses(bad) == {"r": "PASS", "theta": "FAIL"}  # the slip is in d/dtheta of the second output
    assert bad.first_bad_node.op == "PolarToXYSignSlip"
    api = gv.torch.check(ns["PolarToXYSignSlip"], r, theta)  # the Python API reads the same subject
    assert _statuses(api) == {"r": "PASS", "theta": "FAIL"}


# --- errors in the user's Function name its line; bad flags are refused -----------------------------------

def test_a_forward_or_backward_that_raises_is_an_error_at_the_users_line(ops):
    folder, _ = ops
    forward = _check(folder, "ops.py:ReshapeSlip", "x=randn(4)")
    assert forward.status == "ERROR" and f"ops.py:{_line_of('x.reshape(3, -1)')}" in forward.verdict
    backward = _check(folder, "ops.py:BackwardSlip", "x=randn(4)")
    assert backward.status == "ERROR" and f"ops.py:{_line_of('grad @ x @ grad')}" in backward.verdict


def test_the_command_line_exit_codes_and_unknown_arguments(ops, monkeypatch, capsys):
    from gradviz.cli import main

    folder, _ = ops
    monkeypatch.chdir(folder)
    assert main(["check", "ops.py:TemperedSoftmax", "--input", "x=3,4", "--args", '{"dim": 1, "tau": 0.5}',
                 "-q"]) == 0
    assert main(["check", "ops.py:TemperedSoftmaxForgetsTau", "--input", "x=3,4", "--input", "dim=1",
                 "--input", "tau=0.5", "-q"]) == 1
    capsys.readouterr()
    assert main(["check", "ops.py:HardTanh", "--input", "x=4", "--args", '{"lower": 0}']) == 2
    assert "--args lower: HardTanh.forward has no argument lower; its arguments are x, low, high" in \
        capsys.readouterr().err


def test_rendering_a_function_with_two_outputs_draws_both(ops):
    from gradviz.targets import graph_of

    folder, _ = ops
    rs, thetas = [0.5, 1.5, 2.0], [0.3, -1.2, 2.5]
    root = graph_of(f"{folder}/ops.py:PolarToXY", {}, {"r": str(rs), "theta": str(thetas)}, 0)
    r, theta = np.array(rs), np.array(thetas)
    np.testing.assert_allclose(root.data, np.concatenate([r * np.cos(theta), r * np.sin(theta)]), atol=1e-12)
    leaves = {n.label: n for n in gv.topological_order(root) if n.label in ("r", "theta")}
    # closed form of d(sum x + sum y): by r, cos + sin; by theta, r (cos - sin)
    np.testing.assert_allclose(leaves["r"].grad, np.cos(theta) + np.sin(theta), atol=1e-12)
    np.testing.assert_allclose(leaves["theta"].grad, r * (np.cos(theta) - np.sin(theta)), atol=1e-12)


# --- the hand-written-code flags mean the same for torch code, or are refused: never silently ignored -------

def test_input_shape_is_the_shape_of_the_generated_inputs(ops):
    folder, ns = ops
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert _gradcheck(ns["RMSNorm"].apply, x) and not _gradcheck(ns["RMSNormNoScaleTerm"].apply, x)
    good = _check(folder, "ops.py:RMSNorm", input_shape="3,5")
    assert good.ok and [(r.name, r.shape) for r in good.results] == [("x", (3, 5))]
    bad = _check(folder, "ops.py:RMSNormNoScaleTerm", input_shape="3,5")
    assert _statuses(bad) == {"x": "FAIL"} and bad.first_bad_node.op == "RMSNormNoScaleTerm"
    # a generated x beside a given s: closed form d/dx_i = sigmoid(x_i - e^s), d/ds = -e^s * sum_i d/dx_i
    report = _check(folder, "ops.py:shifted_softplus", "s=[0.3]", input_shape="6")
    by_name = {r.name: np.asarray(r.autograd) for r in report.results}
    assert report.ok and by_name["x"].shape == (6,) and np.all((by_name["x"] > 0) & (by_name["x"] < 1))
    np.testing.assert_allclose(by_name["s"], [-np.exp(0.3) * by_name["x"].sum()], rtol=1e-9)


def test_wrt_differentiates_only_the_tensors_it_names(ops):
    folder, ns = ops
    gen = torch.Generator().manual_seed(6)
    r, theta = torch.rand(4, dtype=torch.float64, generator=gen) + 0.5, torch.randn(4, dtype=torch.float64)
    slip = ns["PolarToXYSignSlip"].apply
    # oracle: gradcheck by r alone (theta fixed) passes; by theta alone fails
    assert _gradcheck(lambda r: slip(r, theta), r) and not _gradcheck(lambda t: slip(r, t), theta)
    by_r = _check(folder, "ops.py:PolarToXYSignSlip", "r=rand(4)", "theta=randn(4)", wrt="r")
    assert by_r.ok and _statuses(by_r) == {"r": "PASS"}
    assert "wrt=r: only it is differentiated; theta is held fixed" in by_r.notes
    by_theta = _check(folder, "ops.py:PolarToXYSignSlip", "r=rand(4)", "theta=randn(4)", wrt="theta")
    assert _statuses(by_theta) == {"theta": "FAIL"}
    # the node's diagnosis is about theta's slip, not about r's gradient, which was never asked for
    assert "the sign is flipped" in by_theta.verdict and "exactly zero" not in by_theta.verdict
    # a module's parameter by its name: closed form d sum(RMSNorm(x) * gain * R) / d gain = sum over rows
    gain = _check(folder, "ops.py:NormedNoScaleTerm", init=["width=4"], input_shape="3,4", wrt="gain")
    assert gain.ok and _statuses(gain) == {"gain": "PASS"}  # the bug is in d/dx, which is not differentiated


def test_init_builds_an_nn_module_class_and_its_forward_gets_the_inputs(ops):
    folder, ns = ops
    x = torch.randn(3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    assert _gradcheck(ns["Normed"](5), x) and not _gradcheck(ns["NormedNoScaleTerm"](5), x)
    good = _check(folder, "ops.py:Normed", init=["width=5"], input_shape="3,5")
    assert good.ok and [(r.name, r.shape) for r in good.results] == [("x", (3, 5)), ("gain", (5,))]
    assert "Normed was built as Normed(width=5)" in good.notes
    bad = _check(folder, "ops.py:NormedNoScaleTerm", "x=3,5", args={"width": 5, "low": -0.5})
    assert _statuses(bad) == {"x": "FAIL", "gain": "PASS"} and bad.first_bad_node.op == "RMSNormNoScaleTerm"
    np.testing.assert_allclose(ns["Normed"](5, low=-0.5).gain.detach().numpy(), np.linspace(-0.5, 0.5, 5))
    instance = _check(folder, "ops.py:normed", input_shape="2,4")  # an instance in the file: forward's x
    assert instance.ok and _statuses(instance) == {"x": "PASS", "gain": "PASS"}


def test_the_command_line_applies_the_flags_to_torch_code(ops):
    folder, _ = ops
    done = _cli(folder, "ops.py:NormedNoScaleTerm", "--init", "width=4", "--input-shape", "2,4", "--json")
    assert done.returncode == 1, done.stderr
    rows = {r["name"]: (r["shape"], r["status"]) for r in json.loads(done.stdout)["reports"][0]["inputs"]}
    assert rows == {"x": ([2, 4], "FAIL"), "gain": ([4], "PASS")}
    done = _cli(folder, "ops.py:NormedNoScaleTerm", "--init", "width=4", "--input-shape", "2,4", "--wrt", "gain",
                "--json")
    assert done.returncode == 0, done.stderr
    assert [r["name"] for r in json.loads(done.stdout)["reports"][0]["inputs"]] == ["gain"]


@pytest.mark.parametrize("arguments, message", [
    (["ops.py:HardTanh", "--input", "x=4", "--init", "x=3"],
     "--init x: --init gives a constructor argument of a class, and HardTanh is a torch.autograd.Function, "
     "whose apply is called and never an instance made; give forward's arguments with --input NAME=SPEC or "
     "--args JSON"),
    (["ops.py:normed", "--input-shape", "2,4", "--init", "width=3"],
     "normed is an nn.Module built in the file already (to build one with other constructor arguments, name "
     "its class: FILE:Normed)"),
    (["ops.py:Normed", "--init", "depth=3", "--input-shape", "2,4"],
     "--init depth: Normed's constructor has no argument depth; its arguments are width, low (forward's, given "
     "with --input: x)"),
    (["ops.py:RMSNorm", "--input", "x=3,5", "--input-shape", "3,5"],
     "--input-shape 3,5: every argument of RMSNorm is given already (x, eps), so no input is generated at that "
     "shape; give the shape with --input, e.g. --input x=3,5, or drop --input-shape"),
    (["ops.py:Lookup", "--input", "table=5,3", "--input", "ids=[4, 0, 4]", "--wrt", "ids"],
     "wrt='ids': ids is an int64 tensor, data without a gradient (indices, targets, masks); its float tensors "
     "are table"),
    (["ops.py:RMSNorm", "--input", "x=3,5", "--params", "W"],
     "--params says how hand-written numpy code is called; RMSNorm is torch code, checked through "
     "gv.torch.check, where it has no meaning: drop it (--wrt names the tensors to differentiate"),
])
def test_a_flag_that_cannot_apply_to_torch_code_is_refused_with_what_to_use(ops, arguments, message):
    folder, _ = ops
    done = _cli(folder, *arguments)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_repeated_index_advice_for_torch_code_names_torchs_scatter_add(ops):
    folder, ns = ops
    table, ids = torch.randn(5, 3, dtype=torch.float64), torch.tensor([4, 0, 4, 1, 4])
    # oracle: the advised fix is Lookup's own backward (index_add_), which gradcheck passes; the overwrite fails
    assert _gradcheck(ns["Lookup"].apply, table, ids) and not _gradcheck(ns["LookupOverwrites"].apply, table, ids)
    done = _cli(folder, "ops.py:LookupOverwrites", "--input", "table=5,3", "--input", "ids=[4, 0, 4, 1, 4]", "--json")
    assert done.returncode == 1, done.stderr
    findings = [d for r in json.loads(done.stdout)["reports"][0]["inputs"] for d in r["diagnosis"]]
    lost = [d for d in findings if d["cause"] == "repeated_indices_lost"]
    assert lost and all("dtable.index_add_(0, ids, dout)" in d["message"] and
                        "dtable.index_put_((ids,), dout, accumulate=True)" in d["message"] for d in lost)
    assert "np.add.at" not in done.stdout  # numpy's spelling is for numpy code (tests/test_diagnosis_causes.py)
    api = gv.torch.check(ns["LookupOverwrites"], table, ids)  # the Python API gives the same advice
    assert "index_add_" in api.results[0].diagnosis[0] and "np.add.at" not in str(api.to_dict())


def test_render_builds_a_module_instance_and_refuses_a_class_it_cannot_build(ops):
    from gradviz.errors import GradvizError
    from gradviz.targets import graph_of

    folder, _ = ops
    xs = [[0.5, -1.0, 2.0, 0.25], [1.5, 0.5, -0.5, 1.0]]
    root = graph_of(f"{folder}/ops.py:normed", {}, {"x": str(xs)}, 0)
    x = np.array(xs)  # closed form: x / sqrt(mean(x**2) + 1e-6) * linspace(0.5, 1.5, 4)
    expected = x / np.sqrt((x * x).mean(axis=1, keepdims=True) + 1e-6) * np.linspace(0.5, 1.5, 4)
    np.testing.assert_allclose(root.data, expected, rtol=1e-12)
    with pytest.raises(GradvizError, match=r"gradviz render takes no constructor arguments: make an instance"):
        graph_of(f"{folder}/ops.py:Normed", {}, {"x": str(xs)}, 0)
