"""A layer evaluated afresh each time: what forward and backward accumulate is put back before every call.

Library-style layers keep history: `self.X.append(x)` in forward, `self.gradients[k] += ...` in backward,
running statistics updated in place. Evaluated twice, such a layer answers differently, which is
not a wrong gradient. LayerState snapshots everything on the object except the arrays being
differentiated (the buffers the checker perturbs) and restores it before each call, as if each call
ran on a fresh copy of the object.

Attributes a call creates are part of that history too: a backward that builds its gradient lazily
(`if not hasattr(self, "dW"): self.dW = np.zeros_like(self.W)`, then `self.dW += ...`) must find no dW
on the next call, exactly as one made in __init__ is found zeroed again. What the *first forward*
builds (weights created on first use, `if not hasattr(self, "W")`) is taken into the snapshot by
adopt() instead: it is the object's own state from then on, and deleting it would rebuild the weights
the checker is perturbing.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np


class LayerState:
    def __init__(self, obj: Any):
        self.obj = obj
        self.buffers: set[int] = set()
        self.saved: dict[str, Any] = {}
        self.members: dict[str, Any] = {}  # each list's and dict's own elements: an array kept there stays itself
        self.known: set[str] = set()  # every attribute the object had (objects too): what reset() never deletes
        self._take(vars(obj))

    def _take(self, attributes: dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.known.add(key)
            if isinstance(value, (list, dict)):
                self.members[key] = list(value) if isinstance(value, list) else dict(value)
            snapshot = self._snapshot(value)
            if snapshot is not _SKIP:
                self.saved[key] = (value, snapshot)

    def adopt(self) -> None:
        """Call after the first forward: what it created (lazily built weights, caches) is kept from now on."""
        self._take({k: v for k, v in vars(self.obj).items() if k not in self.known})

    def protect(self, buffers: dict[str, np.ndarray]) -> None:
        """The differentiated arrays: the checker owns their values, so reset() leaves them alone."""
        self.buffers = {id(b) for b in buffers.values()}

    def _snapshot(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.copy()
        if isinstance(value, list):
            return [self._snapshot(v) for v in value]
        if isinstance(value, dict):
            return {k: self._snapshot(v) for k, v in value.items()}
        if isinstance(value, (int, float, str, bool, type(None), tuple)):
            return value
        return _SKIP  # objects (optimizers, other layers) are left as they are

    def reset(self) -> None:
        """Put back every attribute the snapshot holds (lists and dicts emptied and refilled in place), and
        remove the attributes created since (a lazily made gradient starts again from nothing)."""
        for key in [k for k, v in vars(self.obj).items() if k not in self.known and id(v) not in self.buffers]:
            delattr(self.obj, key)
        for key, (original, snapshot) in self.saved.items():
            current = vars(self.obj).get(key, _SKIP)
            if isinstance(original, np.ndarray):
                if id(original) in self.buffers:
                    continue
                if not original.flags.writeable:  # a read-only view (sliding_window_view, broadcast_to) kept
                    setattr(self.obj, key, snapshot.copy())  # on self: put back a copy, never write through it
                    continue
                np.copyto(original, snapshot)
            elif isinstance(original, list):  # what forward appended goes; a differentiated array stays itself
                members = self.members.get(key, [])
                original[:] = [self._member(m, v) for m, v in zip(members, snapshot)]
            elif isinstance(original, dict):
                self._reset_dict(original, snapshot, self.members.get(key, {}))
            if current is not original:
                setattr(self.obj, key, original)

    def _reset_dict(self, original: dict, snapshot: dict, members: dict) -> None:
        for k in [k for k in original if k not in snapshot]:
            del original[k]
        for k, v in snapshot.items():
            original[k] = self._member(members.get(k), v)

    def _member(self, member: Any, snapshot: Any) -> Any:
        """An array the list or dict held keeps its identity (its values put back unless it is differentiated);
        an object it held (a sub-layer of a container) is left as it is, as everywhere else."""
        if snapshot is _SKIP:
            return member
        if isinstance(member, list) and isinstance(snapshot, list) and len(member) >= len(snapshot):
            member[:] = [self._member(m, v) for m, v in zip(list(member), snapshot)]
            return member
        if isinstance(member, dict) and isinstance(snapshot, dict):
            self._reset_dict(member, snapshot, dict(member))
            return member
        if isinstance(member, np.ndarray) and isinstance(snapshot, np.ndarray) and member.shape == snapshot.shape \
                and member.dtype == snapshot.dtype:
            if id(member) not in self.buffers:
                np.copyto(member, snapshot)
            return member
        return _restored(snapshot)


class _Skip:
    pass


_SKIP = _Skip()


def _restored(value: Any) -> Any:
    return copy.deepcopy(value)
