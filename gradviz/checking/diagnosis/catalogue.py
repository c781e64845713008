"""Every cause the diagnosis can name: its id (what reports and grading group by) and one line.

The docs page docs/diagnosis.md shows an example of each, and `gradviz causes`
prints this table; a test keeps the three in step.
"""

from __future__ import annotations

CAUSES: dict[str, tuple[str, str]] = {
    # id: (family, what it means)
    "all_zero": ("numbers", "the gradient is exactly zero: nothing reached this input"),
    "nonfinite": ("numbers", "backward produced nan or inf where the true gradient is finite"),
    "float32": ("numbers", "backward computes in float32 (every value is a float32 number)"),
    "kink": ("numbers", "wrong only at kinks or ties, where the gradient must be a valid subgradient"),
    "missing_batch_division": ("constant factor", "batch times the true gradient: a 1/batch is missing"),
    "extra_batch_division": ("constant factor", "1/batch of the true gradient: divided by the batch once too often"),
    "missing_window_division": ("constant factor", "window-size times the true gradient: a 1/(kh*kw) is missing"),
    "extra_window_division": ("constant factor", "divided by the window size once too often"),
    "missing_channel_division": ("constant factor", "a per-channel count (N*H*W or H*W) times the true gradient"),
    "extra_channel_division": ("constant factor", "divided by a per-channel count once too often"),
    "sign_flip": ("constant factor", "-1 times the true gradient: a sign missing or extra"),
    "factor_2": ("constant factor", "twice the true gradient"),
    "factor_half": ("constant factor", "half the true gradient (the 2 of d(x^2)/dx forgotten)"),
    "log_base": ("constant factor", "ln 2 or 1/ln 2 times the true gradient: log2 against ln"),
    "constant_factor": ("constant factor", "the true gradient times some other constant"),
    "transposed": ("layout", "the true gradient transposed (square or not)"),
    "permuted_axes": ("layout", "the true gradient with its axes in another order (NHWC against NCHW)"),
    "swapped_channels": ("layout", "a kernel's input and output channels swapped"),
    "reshaped": ("layout", "the right numbers in the wrong shape"),
    "reshape_for_transpose": ("layout", ".reshape() used where a transpose was needed"),
    "border": ("images", "only the border of each image is wrong: the padding is sliced off wrong"),
    "one_minus_y": ("wrong variable", "tanh' written as 1 - y instead of 1 - y**2"),
    "pre_activation": ("wrong variable", "the derivative evaluated on the input where the output belongs"),
    "output_for_input": ("wrong variable", "the derivative applied to the output where the input belongs"),
    "derivative_missing": ("wrong variable", "the activation's derivative is missing: dout passed through"),
    "dropped_product_term": ("rules", "half of a product in the derivative is missing (sigmoid's s * (1 - s))"),
    "dropped_rule_term": ("rules", "a term of the product or quotient rule dropped (replayed on the op's twin)"),
    "jacobian_diagonal_only": ("rules", "only the diagonal of a coupled Jacobian kept (softmax, layer/batch norm)"),
    "pool_every_element": ("pooling", "the max-pool gradient sent to every element of its window"),
    "pool_averaged": ("pooling", "the max-pool gradient averaged over its window"),
    "pool_wrong_element": ("pooling", "the pool gradient sent to the wrong element of its window"),
    "pool_not_averaged": ("pooling", "the avg-pool gradient not divided by the window size"),
    "forgotten_stride": ("pooling and convolution", "the stride forgotten in backward"),
    "flipped_kernel": ("convolution", "the kernel (or its gradient) flipped by 180 degrees"),
    "crop_off_by_one": ("convolution", "the padding cropped off by one row or column"),
    "mask_forgotten": ("masks", "a mask not applied: the gradient passes where it should be 0"),
    "mask_inverted": ("masks", "the mask inverted: zero where the gradient flows and the reverse"),
    "mask_wrong_tensor": ("masks", "the mask taken from the wrong array"),
    "sign_flip_subset": ("signs", "the sign flipped on some elements, and what they have in common"),
    "regularization_mismatch": ("terms", "a term lam * W in the gradient but not in the loss, or the reverse"),
    "wrong_term": ("terms", "yours = true + c * (a known array): a term missing, doubled or with its sign flipped"),
    "first_sample_only": ("samples", "only the first sample used"),
    "last_sample_skipped": ("samples", "the last sample skipped (range(n - 1))"),
    "first_sample_skipped": ("samples", "the first sample skipped (a loop starting at 1)"),
    "samples_missing": ("samples", "some samples left out of the gradient"),
    "per_example_dout": ("conventions", "1/m in the parameter gradients only: deeplearning.ai's per-example dZ, not a bug"),
    "no_pattern": ("none", "no known cause reproduces the numbers: where the largest errors are"),
}
