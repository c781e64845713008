"""minitorch Functions with a planted bug: Mul's gradients swapped."""


class Mul:
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, d_output):
        a, b = ctx.saved_values
        return a * d_output, b * d_output
