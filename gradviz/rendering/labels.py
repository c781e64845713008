"""Label text for DOT: escaping user strings and formatting numbers and small tensors.

Every string that came from a user (a node label, a scope name) passes
through `record_text` or `html_text` before it reaches DOT, so characters
like < > & " { } | and newlines can neither break the layout nor inject DOT.
"""

from __future__ import annotations

import html
import math

import numpy as np

_RECORD_SPECIAL = set('{}|<>"\\')

SMALL_TENSOR = 36  # elements: up to this many (and at most 2-D, 6 columns) are drawn as a table


def record_text(text: str) -> str:
    """Escape text for one field of a record label."""
    out = []
    for ch in str(text):
        if ch in _RECORD_SPECIAL:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            continue
        else:
            out.append(ch)
    return "".join(out)


def html_text(text: str) -> str:
    """Escape text for an HTML-like label (newlines become line breaks)."""
    return "<BR/>".join(html.escape(part, quote=True) for part in str(text).replace("\r", "").split("\n"))


def number(x: float, precision: int) -> str:
    """x in `precision` significant digits, as short as it can be: 2, -1.5, 0.7071, 1.2e-07."""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return "0" if x == 0 else f"{x:.{precision}g}"


def displayed(array: np.ndarray) -> np.ndarray:
    """The array as it is drawn: leading axes of size 1 dropped, so a (1, 1, 4, 4) image is a 4x4 grid."""
    array = np.asarray(array, dtype=np.float64)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array


def is_small(array: np.ndarray) -> bool:
    array = displayed(array)
    return array.size <= SMALL_TENSOR and array.ndim <= 2 and (array.ndim < 2 or array.shape[1] <= 6)


def grid(array: np.ndarray, precision: int) -> str:
    """HTML table rows of a small array (after `displayed`)."""
    rows = np.atleast_2d(displayed(array))
    return "".join("<TR>" + "".join(f"<TD>{number(v, precision)}</TD>" for v in row) + "</TR>" for row in rows)


def summary(array: np.ndarray, precision: int) -> str:
    """One line of statistics for a large array."""
    a = np.asarray(array, dtype=np.float64)
    if a.size == 0:
        return "empty"
    return (f"min {number(a.min(), precision)} max {number(a.max(), precision)} "
            f"mean {number(a.mean(), precision)} norm {number(np.linalg.norm(a), precision)}")
