"""Why log(softmax(z)) breaks at large logit gaps, and the stable log-softmax next to it.

    python examples/log_softmax.py
"""

from __future__ import annotations

import warnings

import numpy as np

import gradviz as gv

LOGITS = np.array([[1000.0, 200.0, 0.0], [2.0, 1.0, 0.1]])  # a gap of 800 in the first row


def main() -> dict:
    z = gv.Tensor(LOGITS, label="z")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0) = -inf is the point of this demo
        naive = gv.F.softmax(z).log()
    stable = gv.F.log_softmax(z)
    print("naive  log(softmax(z)):", naive.data.round(4).tolist())
    print("stable log_softmax(z): ", stable.data.round(4).tolist())
    weights = np.array([[0.0, 1.0, 0.0], [0.3, 0.3, 0.4]])
    report = gv.check(lambda z: (gv.F.log_softmax(z) * weights).sum(), gv.Tensor(LOGITS, label="z"))
    print(report.verdict)
    return {"naive": naive.data, "stable": stable.data, "report": report}


if __name__ == "__main__":
    main()
