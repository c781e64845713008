"""The one format between the grader and a submission's worker: it carries numbers and words, never code.

A message is a frame:

    b"GVW1"  uint32 header length  header (UTF-8 JSON object)  the arrays' raw bytes

The header lists its arrays as shapes ({"arrays": [[4, 3], [3]]}); each array follows as
little-endian float64 bytes, in order. Nothing is unpickled and nothing is evaluated: a header
is `json.loads` of capped text, an array is `np.frombuffer` of a byte count the header announced
and the limits allowed. Everything that does not fit (a wrong magic, a header or an array too
large, a header that is not an object, a connection cut mid-frame, no answer before the deadline)
is a WireError with the reason, which makes that submission's row ERROR; the grader goes on.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"GVW1"
_LENGTH = struct.Struct(">I")
_FLOAT = np.dtype("<f8")


class WireError(Exception):
    """A message that cannot be read: the reason in words, and a typed kind for grouping."""

    def __init__(self, reason: str, kind: str = "protocol"):
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    """What one message may hold: header bytes, array bytes in all, dimensions per array."""

    header_bytes: int = 1 << 20
    array_bytes: int = 256 << 20
    dimensions: int = 8


def encode(header: dict, arrays: list[np.ndarray] = ()) -> bytes:
    """One frame (the sender's side; the sender is trusted to be itself, the reader trusts nothing)."""
    arrays = [np.asarray(a, dtype=_FLOAT, order="C") for a in arrays]  # (ascontiguousarray makes 0-d arrays 1-d)
    text = json.dumps({**header, "arrays": [list(a.shape) for a in arrays]}, allow_nan=True).encode()
    return b"".join([MAGIC, _LENGTH.pack(len(text)), text, *(a.tobytes() for a in arrays)])


def send(fd: int, header: dict, arrays: list[np.ndarray] = ()) -> None:
    data = memoryview(encode(header, arrays))
    while data:
        written = os.write(fd, data)
        data = data[written:]


class Reader:
    """Reads frames from a file descriptor, with a deadline and the limits, into (header, arrays)."""

    def __init__(self, fd: int, limits: Limits = Limits()):
        self.fd, self.limits = fd, limits
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def receive(self, deadline: float | None = None) -> tuple[dict, list[np.ndarray]]:
        head = self._exactly(len(MAGIC) + _LENGTH.size, deadline, "a message")
        if head[:len(MAGIC)] != MAGIC:
            raise WireError(f"the worker sent bytes that are not a gradviz message (they start {bytes(head[:8])!r})")
        (length,) = _LENGTH.unpack(head[len(MAGIC):])
        if length > self.limits.header_bytes:
            raise WireError(f"the worker sent a message header of {length} bytes; the limit is "
                            f"{self.limits.header_bytes}", "oversized")
        try:
            header = json.loads(bytes(self._exactly(length, deadline, "a message header")).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WireError(f"the worker sent a message header that is not JSON ({type(exc).__name__})") from None
        if not isinstance(header, dict):
            raise WireError("the worker sent a message header that is not a JSON object")
        shapes = header.pop("arrays", [])
        sizes = [self._size(shape) for shape in (shapes if isinstance(shapes, list) else [None])]
        if sum(sizes) * _FLOAT.itemsize > self.limits.array_bytes:
            raise WireError(f"the worker announced {sum(sizes) * 8} bytes of arrays; the limit is "
                            f"{self.limits.array_bytes}", "oversized")
        arrays = []
        for shape, size in zip(shapes, sizes):
            raw = self._exactly(size * _FLOAT.itemsize, deadline, "an array")
            arrays.append(np.frombuffer(raw, dtype=_FLOAT).astype(np.float64).reshape(shape))
        return header, arrays

    def _size(self, shape: Any) -> int:
        if (not isinstance(shape, list) or len(shape) > self.limits.dimensions
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape)):
            raise WireError(f"the worker announced an array of shape {str(shape)[:80]}, which is not a shape")
        size = 1
        for n in shape:
            size *= n
            if size * _FLOAT.itemsize > self.limits.array_bytes:
                raise WireError(f"the worker announced an array of shape {shape}; the limit is "
                                f"{self.limits.array_bytes} bytes", "oversized")
        return size

    def _exactly(self, count: int, deadline: float | None, what: str) -> bytearray:
        buffer = bytearray()
        while len(buffer) < count:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise WireError(f"no answer within the time limit while reading {what}", "timeout")
            if not self._poll.poll(None if wait is None else max(1, int(wait * 1000))):
                continue
            chunk = os.read(self.fd, min(count - len(buffer), 1 << 20))
            if not chunk:
                raise WireError(f"the worker's channel closed in the middle of {what}", "closed" if not buffer
                                and what == "a message" else "protocol")
            buffer += chunk
        return buffer
