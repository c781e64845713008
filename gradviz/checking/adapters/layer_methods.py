"""Which methods of a layer class are its forward and its backward: every pair it has, in the order tried.

A class may have several (forward()/backward() and a __call__ that runs forward, fprop()/bprop() beside them):
each pair is a reading, and the confirm stage (checking/confirm.py) keeps the one whose properties hold, or
refuses when two hold and disagree. forward=/backward= (--forward/--backward) name them.
"""

from __future__ import annotations

from typing import Any

from ...errors import GradvizError

METHOD_PAIRS = (("forward", "backward"), ("forward_pass", "backward_pass"), ("fprop", "bprop"),
                ("forward_propagation", "backward_propagation"), ("__call__", "gradient"), ("__call__", "backward"))
FORWARD_NAMES = ("forward", "forward_pass", "fprop", "forward_propagation", "__call__", "call")
BACKWARD_NAMES = ("backward", "backward_pass", "bprop", "backward_propagation", "gradient", "backprop",
                  "get_gradients")


def method_pairs(obj: Any, forward: str | None, backward: str | None) -> list[tuple[str, str, str]]:
    """Every (forward, backward, how chosen) pair the object has, in the order tried; an error when none."""
    cls = type(obj).__name__
    if isinstance(obj, type):  # the class itself: its methods are unbound, so every pair would look possible
        raise GradvizError(f"{obj.__name__} is a class: pass an instance, e.g. check_layer({obj.__name__}(...), x) "
                           "(from the command line gradviz constructs it: --init NAME=SPEC or --args JSON give "
                           "its constructor arguments)")

    def has(name):
        return callable(getattr(obj, name, None)) and (name != "__call__" or hasattr(type(obj), "__call__"))

    if forward and backward:
        for name in (forward, backward):
            if not has(name):
                raise GradvizError(f"{cls} has no method {name}(); its methods are {', '.join(_methods(obj))}")
        return [(forward, backward, "as given")]
    pairs = [(f, b, "detected") for f, b in METHOD_PAIRS if has(f) and has(b) and (not forward or f == forward)
             and (not backward or b == backward)]
    named = [p for p in pairs if p[0] != "__call__"]
    if len(named) > 1:  # two conventions written out: the code does not say which it means
        names = " and ".join(f"{f}()/{b}()" for f, b, _ in named[:2])
        raise GradvizError(f"{cls} has two candidate method pairs, {names}: choose one with "
                           f"forward=/backward= (--forward NAME --backward NAME)")
    if pairs:  # a __call__ that runs forward is tried after the pair written out
        return named + [p for p in pairs if p[0] == "__call__"]
    fwd = [n for n in FORWARD_NAMES if has(n) and (not forward or n == forward)]
    bwd = [n for n in BACKWARD_NAMES if has(n) and (not backward or n == backward)]
    if fwd and bwd:
        return [(forward or fwd[0], b, "detected") for b in bwd]
    tried = ", ".join(f"{f}()/{b}()" for f, b in METHOD_PAIRS)
    raise GradvizError(f"{cls} matches no layer convention gradviz knows (it tried the method pairs {tried}); "
                       f"its methods are {', '.join(_methods(obj)) or 'none'}: name them with "
                       "forward=/backward= (--forward NAME --backward NAME)")


def pick_methods(obj: Any, forward: str | None, backward: str | None) -> tuple[str, str, str]:
    """The first pair (the command line uses it to find the forward's signature before any reading)."""
    return method_pairs(obj, forward, backward)[0]


def _methods(obj) -> list[str]:
    return [n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n, None))]


