"""A submission's files, read by the grader and written into the worker's folder: measured before anything is read.

The grader (trusted) lists the submission without following any link and refuses it as a whole
when it holds too many or too large files: a file's size is its apparent size, so a 1 GiB sparse
file counts as 1 GiB and is never read. A link is kept as a link when it points inside the
submission and left out (and said) when it points anywhere else. The files travel to the worker
in its job message; the worker writes them into its own writable folder. The worker never sees the
original folder, so nothing it does can reach it.
"""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from ..errors import GradvizError


class TooLarge(GradvizError):
    kind = "too_large"


def collect(source: Path, support: list[Path], max_files: int, max_mb: float) -> tuple[list[dict], list[str]]:
    """(entries, notes): the submission's folders, files and inner links, then the support files."""
    entries, notes, count, size = [], [], 0, 0
    for top, dirs, names in os.walk(source, followlinks=False):
        here = Path(top).relative_to(source)
        for name in sorted(dirs) + sorted(names):
            path, rel = Path(top) / name, here / name
            info = os.lstat(path)
            count += 1
            if count > max_files:
                raise TooLarge(f"the submission has more than {max_files} files; the limit is {max_files}")
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(path)
                inside = os.path.normpath(os.path.join(os.path.dirname(str(rel)), target))
                if os.path.isabs(target) or inside == ".." or inside.startswith("../"):
                    notes.append(f"the link {rel} -> {target} points outside the submission; it was not copied")
                else:
                    entries.append({"path": str(rel), "kind": "link", "target": target})
            elif stat.S_ISDIR(info.st_mode):
                entries.append({"path": str(rel), "kind": "dir"})
            elif stat.S_ISREG(info.st_mode):
                size += info.st_size
                if size > max_mb * 1024 * 1024:
                    raise TooLarge(f"the submission holds {_measure(source) / 1024 / 1024:.1f} MB of files; the limit "
                                   f"is {max_mb:g} MB")
                entries.append({"path": str(rel), "kind": "file", "size": info.st_size})
    for item in support:
        entries += _support(item)
    for entry in entries:
        if entry["kind"] == "file":
            data = (Path(entry.pop("from")) if "from" in entry else source / entry["path"]).read_bytes()
            entry["data"] = base64.b64encode(data).decode("ascii")
    return entries, notes


def _measure(source: Path) -> int:
    """Apparent bytes of every regular file under source (links not followed, nothing read)."""
    total = 0
    for top, _, names in os.walk(source, followlinks=False):
        for name in names:
            info = os.lstat(os.path.join(top, name))
            total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return total


def _support(item: Path) -> list[dict]:
    """The spec's support files (the teacher's: trusted), replacing any file of the same name."""
    if item.is_dir():
        out = [{"path": item.name, "kind": "dir", "replace": True}]
        for path in sorted(item.rglob("*")):
            rel = Path(item.name) / path.relative_to(item)
            out.append({"path": str(rel), "kind": "dir"} if path.is_dir() else
                       {"path": str(rel), "kind": "file", "from": str(path)})
        return out
    return [{"path": item.name, "kind": "file", "from": str(item), "replace": True}]


def materialize(entries: list[dict], copy: Path) -> Path:
    """The worker's side: write the entries under `copy` (paths are checked to stay inside it)."""
    copy.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(copy)
    for entry in entries:
        rel = os.path.normpath(str(entry.get("path", "")))
        if rel.startswith(("..", "/")) or rel == ".":
            continue
        target = copy / rel
        if entry.get("replace") and (target.is_symlink() or target.exists()):
            target.unlink() if not target.is_dir() or target.is_symlink() else _remove_tree(target)
        if not os.path.realpath(target.parent).startswith(root):
            continue
        if entry["kind"] == "dir":
            target.mkdir(parents=True, exist_ok=True)
        elif entry["kind"] == "link":
            os.symlink(str(entry["target"]), target)
        elif entry["kind"] == "file":
            target.write_bytes(base64.b64decode(entry["data"]))
    return copy


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder)
