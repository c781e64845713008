"""What gradviz knows about the gradient being diagnosed, beyond the two arrays.

Every field is optional: a hypothesis that needs something the caller could
not supply (no forward output, no cotangent, no layout) simply does not fire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Context:
    """The op or layer around one wrong gradient, in the user's own names.

    name:      the gradient's name as the user knows it (`dW`, `input`, `y_pred`)
    kind:      the op or layer kind when known (`tanh`, `conv2d`, `max_pool2d`, `softmax`, `dense`)
    wrt:       the array this gradient belongs to (the parameter or input itself)
    inputs:    the forward's input arrays by the user's names (`x`, `W`, `b`, ...)
    output:    the forward's output; `cotangent`: the upstream gradient fed to backward (dout)
    batch / batch_axis / layout: how samples and images are laid out (`NCHW`, `NHWC`)
    attrs:     window and kernel attributes (`kernel_size`, `stride`, `padding`)
    kinks:     a boolean mask (shape of the gradient) of elements at kinks or ties
    per_sample: a callable giving the true gradient split by sample, shape (batch, *gradient shape);
               called only by the hypotheses that need it (it costs finite differences)
    twin:      for an elementwise op, its SymPy twin as a function of one symbol per input (in the
               order of `inputs`): lets the product and quotient rules be replayed term by term
    float32:   whether the user's data arrived as float32
    vjp:       this gradient as the user's backward gives it for another upstream gradient (dout -> grad);
               lets a hypothesis test how backward responds to dout (the chain rule) directly
    code:      the user's own functions, classes or objects (forward, backward): their source, read with
               ast when a cause needs it, shows whether a structure (an N - 1, a 1/sqrt(d)) is there
    framework: the array library the user's code is written in ("numpy" or "torch"): a finding names its
               fix in that library's terms (np.add.at, or index_add_)
    """

    name: str = ""
    kind: str | None = None
    wrt: np.ndarray | None = None
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    output: np.ndarray | None = None
    output_name: str = "output"
    cotangent: np.ndarray | None = None
    batch: int | None = None
    batch_axis: int = 0
    layout: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    kinks: np.ndarray | None = None
    per_sample: Callable[[], np.ndarray | None] | None = None
    twin: Callable[..., Any] | None = None
    float32: bool = False
    vjp: Callable[[np.ndarray], np.ndarray | None] | None = None
    code: tuple = ()
    framework: str = "numpy"
    memo: dict = field(default_factory=dict, repr=False)  # costly facts measured once per gradient (per-sample split)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    def close(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether two arrays agree within the check's tolerances (shapes must match)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return a.shape == b.shape and bool((np.abs(a - b) <= self.atol + self.rtol * np.abs(b)).all())

    def arrays(self) -> dict[str, np.ndarray]:
        """Every named array known around the op: inputs, output, upstream gradient (read once; do not modify)."""
        sources = (id(self.inputs), len(self.inputs), id(self.output), id(self.cotangent), self.output_name)
        kept = self.memo.get("arrays")
        if kept is not None and kept[0] == sources:
            return kept[1]
        named = {k: np.asarray(v, dtype=np.float64) for k, v in self.inputs.items() if _is_float_array(v)}
        if _is_float_array(self.output):
            named.setdefault(self.output_name, np.asarray(self.output, dtype=np.float64))
        if _is_float_array(self.cotangent):
            named.setdefault("dout", np.asarray(self.cotangent, dtype=np.float64))
        self.memo["arrays"] = (sources, named)
        return named


def _is_float_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.size > 0
