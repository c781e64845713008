"""The confirm stage's cost: reading code by structure and confirming it, against the check that follows.

    python benchmarks/bench_reading.py [--quick]

Every reading is confirmed before a verdict (a repeatable forward, a VJP
linear in the upstream gradient, gradients of their arrays' sizes), and
readings that are not certain by names are checked for a disagreeing rival.
The reference is the same check with the reading already built (the pipeline
alone, checking/handwritten.check_subject); ref/gv is the share of the whole
check's time that is the check itself (target: reading and confirming cost at
most half of the check, ref/gv >= 0.67).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from common import Row, median_seconds, print_table

import gradviz as gv
from gradviz.checking.adapters.pair_readings import read_pair
from gradviz.checking.handwritten import _options, check_subject

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from unseen_code import cs_recurrent, gradient_checking, rnn_cells  # noqa: E402

CASES = [("LSTM cell over a parameters dict", rnn_cells.lstm_cell_forward, rnn_cells.lstm_cell_backward,
          rnn_cells.lstm_inputs),
         ("LSTM step, 2 upstream gradients", cs_recurrent.lstm_step_forward, cs_recurrent.lstm_step_backward,
          cs_recurrent.lstm_inputs),
         ("whole-model cost, no upstream", gradient_checking.forward_propagation_n,
          gradient_checking.backward_propagation_n, gradient_checking.model_n_inputs)]


def main(argv=None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    options = _options(1e-6, 1e-5, 1e-3, False, "auto", 0, 16)
    rows = []
    for label, forward, backward, make in CASES:
        inputs, kwargs = make(np.random.default_rng(1))
        assert gv.check_pair(forward, backward, *inputs, **kwargs).ok
        whole = median_seconds(lambda: gv.check_pair(forward, backward, *inputs, **kwargs), repeat=repeat, warmup=0)
        pipeline = median_seconds(lambda: check_subject(read_pair(forward, backward, inputs, kwargs), options),
                                  repeat=repeat, warmup=0)
        read = median_seconds(lambda: read_pair(forward, backward, inputs, kwargs), repeat=repeat, warmup=0)
        rows.append(Row(f"check_pair {label}", whole, "pipeline on a read pair", pipeline - read,
                        "ref/gv >= 0.67", f"(reading + confirming {read * 1e3:.3g} ms)"))
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
