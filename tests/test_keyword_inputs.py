"""Inputs given by name reach the user's code at their parameter's position, in every checker.

A user who writes `gv.check_loss(huber, y_pred=p, y_true=t)` (the CLI's
`--input y_pred=...` in Python) used to get Python's "unexpected keyword
argument 'y_pred'" from gradviz's own signature.
"""

import numpy as np
import pytest

import gradviz as gv


def huber(y_pred, y_true, delta=1.0):
    """A mean Huber loss returning (loss, gradient of y_pred), correct."""
    r = y_pred - y_true
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)).mean()
    return loss, np.where(small, r, delta * np.sign(r)) / r.size


def huber_sign_bug(y_pred, y_true, delta=1.0):
    """The same loss with the sign of the linear branch's gradient dropped."""
    r = y_pred - y_true
    small = np.abs(r) <= delta
    loss = np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)).mean()
    return loss, np.where(small, r, delta) / r.size


# residuals on both sides of both kinks: the linear branch's negative side is where the bug shows
Y_PRED = np.array([[2.5], [-2.0], [0.3], [-0.4], [1.7], [-3.1]])
Y_TRUE = np.zeros((6, 1))


def test_closed_form_oracle_sees_the_planted_bug():
    """The fixtures are what they claim: the oracle (d/dr of the Huber loss, written here) tells them apart."""
    true = np.clip(Y_PRED - Y_TRUE, -1.0, 1.0) / Y_PRED.size
    assert np.allclose(huber(Y_PRED, Y_TRUE)[1], true)
    assert not np.allclose(huber_sign_bug(Y_PRED, Y_TRUE)[1], true)


@pytest.mark.parametrize("call", [
    lambda f: gv.check_loss(f, y_pred=Y_PRED, y_true=Y_TRUE),
    lambda f: gv.check_loss(f, Y_PRED, y_true=Y_TRUE),
    lambda f: gv.check_loss(f, y_true=Y_TRUE, y_pred=Y_PRED, delta=1.0),
])
def test_a_loss_takes_its_arrays_by_name(call):
    assert call(huber).ok
    report = call(huber_sign_bug)
    assert report.status == "FAIL"
    assert report.results[0].name == "y_pred"


def test_a_skipped_argument_with_a_default_keeps_it():
    def scaled(y_pred, y_true, delta=1.0, scale=1.0):
        loss, grad = huber(y_pred, y_true, delta)
        return scale * loss, scale * grad

    assert gv.check_loss(scaled, y_pred=Y_PRED, y_true=Y_TRUE, scale=3.0).ok


def test_grad_fn_and_recorded_checks_take_names():
    rng = np.random.default_rng(0)
    X, w = rng.normal(size=(4, 3)), rng.normal(size=3)

    def f(w, X):
        return float(((X @ w) ** 2).sum())

    assert gv.check_grad_fn(f, lambda w, X: 2 * X.T @ (X @ w), X=X, w=w).ok
    wrong = gv.check_grad_fn(f, lambda w, X: X.T @ (X @ w), X=X, w=w)  # d/dw of |Xw|^2 is 2 X^T X w
    assert wrong.status == "FAIL"
    report = gv.check(lambda a, b: (a * b).tanh(), b=gv.Value(-1.2), a=gv.Value(0.3))
    assert report.ok
    # each unlabelled Value is reported under the name of the parameter it was passed to
    assert sorted(r.name for r in report.results) == ["a", "b"]
    by_name = {r.name: r for r in report.results}
    assert np.isclose(float(np.ravel(by_name["a"].autograd)[0]), -1.2 * (1 - np.tanh(0.3 * -1.2) ** 2))


def test_ctx_function_takes_names():
    class Mul:
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

    class MulBug(Mul):
        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * b

    a, b = np.array([0.5, -1.5, 2.0]), np.array([1.5, 0.25, -3.0])
    assert gv.check_function(Mul, b=b, a=a).ok
    assert gv.check_function(MulBug, a=a, b=b).status == "FAIL"


@pytest.mark.parametrize("kwargs, message", [
    ({"yp": Y_PRED, "y_true": Y_TRUE}, "huber takes no argument named 'yp' (its arguments: y_pred, y_true, delta)"),
    ({"y_true": Y_TRUE}, "huber needs y_pred before y_true"),
])
def test_a_wrong_name_is_one_message_in_the_users_names(kwargs, message):
    with pytest.raises(gv.GradvizError) as info:
        gv.check_loss(huber, **kwargs)
    assert message in str(info.value)


def test_an_argument_given_twice_is_said():
    with pytest.raises(gv.GradvizError, match="y_pred of huber is given twice"):
        gv.check_loss(huber, Y_PRED, y_pred=Y_PRED)
