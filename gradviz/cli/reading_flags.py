"""The command-line flags that say how a function pair is called when gradviz cannot confirm a reading.

    --dout NAME[,NAME]    the backward parameters that take the upstream gradients
    --outputs NAME[,NAME] the returned values that are outputs (the user's names, or positions 1, 2, ...)
    --grad NAME=KEY       where backward puts the gradient of array NAME: a dict key, a returned name, a position
    --wrt-logits          the gradient is documented as d loss / d z for probabilities p = softmax(z)
"""

from __future__ import annotations

import argparse

from ..errors import GradvizError


def add_reading_flags(check: argparse.ArgumentParser) -> None:
    check.add_argument("--dout", metavar="NAMES",
                       help="the backward parameter(s) taking the upstream gradient(s), e.g. --dout dnext_h,dnext_c")
    check.add_argument("--outputs", metavar="NAMES",
                       help="the returned values that are outputs, by the names in forward's return or 1,2,...")
    check.add_argument("--grad", action="append", default=[], metavar="NAME=KEY",
                       help="where backward returns the gradient of NAME: a dict key, a returned name or a "
                            "position, e.g. --grad W1=dW1 (repeatable)")
    check.add_argument("--wrt-logits", action="store_true",
                       help="the gradient function returns d loss / d z for probabilities p = softmax(z) "
                            "(p - y for cross-entropy), as its documentation says")


def reading_options(args: argparse.Namespace) -> dict:
    """What the flags say, for check_pair: only the flags given (a namespace without them gives nothing)."""
    said: dict = {}
    for flag in ("dout", "outputs"):
        text = getattr(args, flag, None)
        if text:
            said[flag] = _names(text, f"--{flag}")
    grads = {}
    for item in getattr(args, "grad", None) or []:
        name, sep, key = item.partition("=")
        if not sep or not name.strip() or not key.strip():
            raise GradvizError(f"--grad takes NAME=KEY, e.g. --grad W1=dW1 (the array, then where backward puts "
                               f"its gradient); got {item!r}")
        grads[name.strip()] = key.strip()
    if grads:
        said["grads"] = grads
    if getattr(args, "wrt_logits", False):
        said["wrt_logits"] = True
    return said


def _names(text: str, flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not (n.isidentifier() or n.isdigit())]
    if not names or bad:
        raise GradvizError(f"{flag} takes names separated by commas, e.g. {flag} dnext_h,dnext_c; got {text!r}")
    return names
