"""What a drawing calls each node: DOT ids from recording order (never id()), and the names people read."""

from __future__ import annotations

from typing import Any

from . import labels as L


def value_id(i: int) -> str:
    return f"v{i}"


def op_id(i: int) -> str:
    return f"o{i}"


def group_id(key: str) -> str:
    return "g_" + "".join(ch if ch.isalnum() else "_" for ch in key) + f"_{abs(hash_stable(key)) % 10**8}"


def hash_stable(text: str) -> int:
    """A hash that is the same in every process (Python's str hash is randomized)."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % (2**61 - 1)
    return value


def node_name(node: Any, i: int, output: bool = False) -> str:
    """What the picture calls a node: its label, `output` (the root), `const`, or `#i` (its place in recording order)."""
    if node.label:
        return node.label
    if output:
        return "output"
    if node._op is None and not node.requires_grad:
        return "const"
    return f"#{i}"


def op_text(node: Any) -> str:
    op = node._op
    if op.name == "powc":
        return f"**{L.number(node._attrs['exponent'], 3).rstrip('0').rstrip('.')}"
    return op.display
