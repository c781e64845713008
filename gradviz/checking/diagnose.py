"""Explain a wrong gradient in words a student understands.

Most hand-written backward bugs leave a fingerprint: the analytic gradient is
the true one times a constant (a missing 1/batch, a log2 loss differentiated
as a natural log, a flipped sign), or its transpose, or it is right except on
the border of a padded image, or it is exactly zero.
"""

from __future__ import annotations

import math

import numpy as np

_LN2 = math.log(2.0)


def _known_factors(batch: int | None) -> list[tuple[float, str]]:
    factors = [
        (-1.0, "the sign is flipped (a minus sign missing or extra)"),
        (2.0, "it is twice the true gradient (a factor 2 counted twice, or a 1/2 forgotten in the loss)"),
        (0.5, "it is half the true gradient (a factor 2 missing, e.g. d(x^2)/dx = 2x)"),
        (1.0 / _LN2, "it is 1/ln 2 times the true gradient: the loss uses log2 but the derivative assumes ln"),
        (_LN2, "it is ln 2 times the true gradient: the loss uses ln but the derivative assumes log2"),
    ]
    if batch and batch > 1:
        factors = [
            (float(batch), f"it is {batch} times the true gradient: a division by the batch size "
                           f"({batch}) is missing in backward"),
            (1.0 / batch, f"it is 1/{batch} of the true gradient: backward divides by the batch size "
                          f"({batch}) once too often"),
        ] + factors
    return factors


def constant_ratio(analytic: np.ndarray, numeric: np.ndarray) -> float | None:
    """The ratio analytic / numeric if it is one constant over the elements that matter."""
    mask = np.abs(numeric) > 1e-6 * max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    if np.count_nonzero(mask) == 0:
        return None
    ratios = analytic[mask] / numeric[mask]
    if not np.all(np.isfinite(ratios)):
        return None
    centre = float(np.median(ratios))
    if centre == 0 or np.max(np.abs(ratios - centre)) > 1e-3 * abs(centre):
        return None
    # The elements left out must be (near) zero in both.
    if np.any(np.abs(analytic[~mask]) > 1e-6 * max(1.0, float(np.max(np.abs(analytic))))):
        return None
    return centre


def diagnose(analytic: np.ndarray, numeric: np.ndarray, *, batch: int | None = None,
             layout: str | None = None, atol: float = 1e-5, rtol: float = 1e-3) -> list[str]:
    """Sentences describing how `analytic` differs from the trusted `numeric` gradient."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape or not np.all(np.isfinite(analytic)):
        return []
    out = []
    if not np.any(analytic) and np.any(np.abs(numeric) > atol):
        return ["the gradient is exactly zero everywhere: nothing reached this input "
                "(is it used in the forward pass, and is its gradient accumulated?)"]
    ratio = constant_ratio(analytic, numeric)
    if ratio is not None and abs(ratio - 1.0) > rtol:
        for factor, sentence in _known_factors(batch):
            if abs(ratio - factor) <= 1e-3 * abs(factor):
                return [sentence]
        out.append(f"it is the true gradient times a constant {ratio:.6g} everywhere")
        return out
    if analytic.ndim >= 2 and analytic.shape[-1] == analytic.shape[-2]:
        swapped = np.swapaxes(analytic, -1, -2)
        if np.allclose(swapped, numeric, atol=atol, rtol=rtol):
            return ["it matches the true gradient transposed: the two axes are swapped "
                    "(e.g. X @ dY instead of X.T @ dY)"]
    border = _border_only(analytic, numeric, layout, atol, rtol)
    if border:
        out.append(border)
    return out


def _border_only(analytic, numeric, layout, atol, rtol) -> str:
    """A padded-convolution bug: wrong only on the outer ring of each image."""
    if analytic.ndim != 4:
        return ""
    h_axis, w_axis = (1, 2) if layout == "NHWC" else (2, 3)
    h, w = analytic.shape[h_axis], analytic.shape[w_axis]
    if h < 3 or w < 3:
        return ""
    wrong = ~np.isclose(analytic, numeric, atol=atol, rtol=rtol)
    if not wrong.any():
        return ""
    interior = [slice(None)] * 4
    interior[h_axis] = slice(1, h - 1)
    interior[w_axis] = slice(1, w - 1)
    if wrong[tuple(interior)].any():
        return ""
    return ("only the border of the image is wrong, the interior is right: look at how the padding "
            "is sliced off in backward (e.g. [pad:-pad] with pad = 0 gives an empty slice)")


def per_example_dout(results, inputs, batch: int | None) -> str | None:
    """The deeplearning.ai convention: dZ holds per-example gradients, so 1/m is in dW and db but not in dA_prev.

    Against a cotangent of the summed loss this looks like "the parameter
    gradients are 1/m of the true ones" while the input gradient is right:
    correct course code, not a bug. m is any axis of the input (the batch
    axis of (features, examples) code is the last).
    """
    ins = [r for r in results if r.name in inputs and r.autograd is not None and r.finite is not None]
    params = [r for r in results if r.name not in inputs and r.autograd is not None and r.finite is not None]
    if not ins or not params or any(r.status == "FAIL" for r in ins) or all(r.status != "FAIL" for r in params):
        return None
    ratios = [constant_ratio(r.autograd, r.finite) for r in params]
    if any(q is None or q <= 0 for q in ratios) or max(ratios) - min(ratios) > 1e-3 * max(ratios):
        return None
    m = round(1.0 / ratios[0])
    sizes = set(ins[0].shape) | ({batch} if batch else set())
    if m < 2 or m not in sizes or abs(ratios[0] * m - 1.0) > 1e-3:
        return None
    return (f"the parameter gradients are 1/{m} of the true ones and the input gradient is right: this is the "
            f"deeplearning.ai convention (dZ holds per-example gradients; 1/m, m = {m} examples, is applied in "
            "the parameter gradients only); check it in that convention with per_example_dout=True "
            "(--per-example-dout)")
