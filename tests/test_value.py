"""The scalar engine against closed-form derivatives written here, plus its edge cases."""

import math
import warnings

import pytest

import gradviz as gv


def grads_of(build, *values):
    leaves = [gv.Value(v) for v in values]
    out = build(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize(
    "build,derivs,point",
    [
        (lambda a, b: a + b, lambda a, b: (1, 1), (1.5, -2.0)),
        (lambda a, b: a - b, lambda a, b: (1, -1), (1.5, -2.0)),
        (lambda a, b: a * b, lambda a, b: (b, a), (1.5, -2.0)),
        (lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2), (1.5, -2.0)),
        (lambda a, b: a**b, lambda a, b: (b * a ** (b - 1), a**b * math.log(a)), (1.5, -2.0)),
        (lambda a, b: a**3 - 2 / b, lambda a, b: (3 * a**2, 2 / b**2), (0.7, 1.3)),
        (lambda a, b: 2 - a * b, lambda a, b: (-b, -a), (0.7, 1.3)),
        (lambda a, b: 2**a + 0 * b, lambda a, b: (2**a * math.log(2), 0), (0.7, 1.3)),
        (lambda a, b: -(a.exp() * b.log()), lambda a, b: (-math.exp(a) * math.log(b), -math.exp(a) / b), (0.3, 1.7)),
        (lambda a, b: a.tanh() * b.sigmoid(),
         lambda a, b: ((1 - math.tanh(a) ** 2) / (1 + math.exp(-b)),
                       math.tanh(a) * math.exp(-b) / (1 + math.exp(-b)) ** 2), (0.3, -0.4)),
        (lambda a, b: a.relu() + b.relu(), lambda a, b: (1, 0), (0.3, -0.4)),
        (lambda a, b: abs(a) + b.abs(), lambda a, b: (1, -1), (0.3, -0.4)),
        (lambda a, b: a.sqrt() * b, lambda a, b: (b / (2 * math.sqrt(a)), math.sqrt(a)), (2.0, 3.0)),
        (lambda a, b: a.clip(-1, 1) + b.clip(-1, 1), lambda a, b: (1, 0), (0.5, 3.0)),
    ],
)
def test_gradients_match_closed_forms(build, derivs, point):
    _, grads = grads_of(build, *point)
    expected = derivs(*point)
    assert grads == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_reused_node_accumulates_through_every_use():
    a = gv.Value(3.0)
    out = a + a
    out.backward()
    assert a.grad == 2.0
    assert out._parents == (a, a)
    b = gv.Value(2.0)
    y = b * b * b  # d/db b^3 = 3 b^2
    y.backward()
    assert b.grad == 12.0


def test_backward_twice_doubles_leaf_gradients_exactly():
    a, b = gv.Value(0.4), gv.Value(-1.1)
    h = a * b
    out = (h + h.tanh()) * a
    out.backward()
    first = (a.grad, b.grad, h.grad)
    out.backward()
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert h.grad == first[2]  # interior gradients are recomputed, not accumulated
    a.zero_grad()
    assert a.grad == 0.0


def test_tanh_and_sigmoid_are_stable_at_plus_minus_1000():
    for x, t, s in ((1000.0, 1.0, 1.0), (-1000.0, -1.0, 0.0)):
        v = gv.Value(x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert v.tanh().data == t
            out = v.sigmoid()
            assert out.data == s
            out.backward()
        assert v.grad == 0.0


def test_exp_overflow_gives_inf_with_a_warning():
    with pytest.warns(gv.NumericWarning, match="overflow") as caught:
        assert gv.Value(1000.0).exp().data == math.inf
    assert caught[0].filename == __file__  # the user's line, not gradviz's


def test_a_gradient_that_divides_by_zero_warns_at_the_backward_call():
    x = gv.Value(0.0)
    out = x.sqrt()
    with pytest.warns(gv.NumericWarning, match="divides by zero") as caught:
        out.backward()
    assert x.grad == math.inf
    assert caught[0].filename == __file__


def test_negative_base_with_fractional_exponent_is_nan_with_warning():
    with pytest.warns(gv.NumericWarning, match="negative base"):
        out = gv.Value(-8.0) ** gv.Value(1 / 3)
    assert math.isnan(out.data)
    with pytest.warns(gv.NumericWarning):
        assert math.isnan((gv.Value(-2.0) ** 0.5).data)
    assert (gv.Value(-2.0) ** 3).data == -8.0  # integer exponents are fine


def test_log_of_non_positive_warns_and_does_not_raise():
    with pytest.warns(gv.NumericWarning, match="log"):
        assert gv.Value(0.0).log().data == -math.inf
    with pytest.warns(gv.NumericWarning, match="negative"):
        assert math.isnan(gv.Value(-1.0).log().data)


def test_floats_and_ints_mix_on_either_side():
    a = gv.Value(2.0)
    out = 1 + a * 3 - 4 / a + 2**a + a**2 - 0.5
    out.backward()
    assert out.data == pytest.approx(1 + 6 - 2 + 4 + 4 - 0.5)
    assert a.grad == pytest.approx(3 + 4 / 4 + 4 * math.log(2) + 4)


@pytest.mark.parametrize("bad", ["abc", None, [1.0, 2.0], 1 + 2j, object()])
def test_value_of_something_that_is_not_a_number_is_a_clear_error(bad):
    with pytest.raises(gv.GradvizTypeError, match="(real number|one number)"):
        gv.Value(bad)


def test_combining_a_value_with_text_names_the_problem():
    with pytest.raises(gv.GradvizTypeError, match="str 'x'"):
        gv.Value(1.0) * "x"


# --- the engine at the floor (issue 27) --------------------------------------------------------

def test_a_plain_number_becomes_a_constant_leaf_that_takes_no_gradient():
    a = gv.Value(1.5, label="a")
    out = a * 2 + 0.5
    out.backward()
    two = out._parents[0]._parents[1]
    assert (two.data, two.grad, two.requires_grad, two._op, two._parents, two.label) == (2.0, 0.0, False, None, (),
                                                                                          None)
    assert a.id < two.id < out._parents[0].id  # recorded in order, like every node
    assert a.grad == 2.0
    assert [n.id for n in gv.topological_order(out)] == sorted(n.id for n in gv.topological_order(out))


def test_a_backward_that_fails_half_way_leaves_the_graph_as_good_as_before():
    class Flaky(gv.Function):
        fail = True

        @staticmethod
        def forward(x):
            return 2 * x

        @staticmethod
        def backward(grad, x, out):
            if Flaky.fail:
                raise RuntimeError("not this time")
            return (2 * grad,)

    a = gv.Value(0.5)
    h = a * a
    out = Flaky.apply(h + a) * h
    with pytest.raises(RuntimeError, match="not this time"):
        out.backward()
    Flaky.fail = False
    out.backward()  # every node is reached again: none is taken for already visited
    h_val = 0.25
    assert a.grad == pytest.approx(2 * (2 * 0.5 + 1) * h_val + 2 * (h_val + 0.5) * 2 * 0.5)


def test_an_interior_node_given_no_gradient_by_a_user_op_is_reached_next_time():
    class FirstOnly(gv.Function):
        @staticmethod
        def forward(x, y):
            return x

        @staticmethod
        def backward(grad, x, y, out):
            return grad, None

    a, b = gv.Value(1.0), gv.Value(2.0)
    y = b * 3.0
    out = FirstOnly.apply(a, y)
    out.backward()
    assert (a.grad, b.grad, y.grad) == (1.0, 0.0, 0.0)
    (y * 1.0).backward()  # y must be backpropagated through, not skipped as already seen
    assert b.grad == 3.0
