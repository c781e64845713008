"""Copy a submission into the folder its code runs in: counted and measured before a byte is copied.

The submission's files are listed first (without following any link) and refused as a whole when
they are too many or too large: a file's size is its apparent size, so a 1 GiB sparse file counts
as 1 GiB and is never read. A link is copied as a link when it points inside the submission and
left out (and said) when it points anywhere else; no link is ever followed while copying.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ..errors import GradvizError


class TooLarge(GradvizError):
    kind = "too_large"


def inventory(source: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """(folders, files, links) under source, relative to it, without following links."""
    folders, files, links = [], [], []
    for top, dirs, names in os.walk(source, followlinks=False):
        here = Path(top).relative_to(source)
        for name in list(dirs):
            (links if os.path.islink(os.path.join(top, name)) else folders).append(here / name)
        for name in names:
            path = os.path.join(top, name)
            if os.path.islink(path):
                links.append(here / name)
            elif stat.S_ISREG(os.lstat(path).st_mode):
                files.append(here / name)
    return folders, files, links


def copy_submission(source: Path, home: Path, name: str, support: list[Path], max_files: int,
                    max_mb: float) -> tuple[Path, list[str]]:
    """Copy `source` to home/name with its limits; returns the copy and notes for the student."""
    folders, files, links = inventory(source)
    if len(files) + len(links) > max_files:
        raise TooLarge(f"the submission has {len(files) + len(links)} files; the limit is {max_files}")
    size = sum(os.lstat(source / f).st_size for f in files)
    if size > max_mb * 1024 * 1024:
        raise TooLarge(f"the submission holds {size / 1024 / 1024:.1f} MB of files; the limit is {max_mb:g} MB")
    copy = home / name
    copy.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        (copy / folder).mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copyfile(source / file, copy / file, follow_symlinks=False)
    notes = []
    for link in links:
        target = os.readlink(source / link)
        inside = os.path.normpath(os.path.join(os.path.dirname(str(link)), target))
        if os.path.isabs(target) or inside == ".." or inside.startswith("../"):
            notes.append(f"the link {link} -> {target} points outside the submission; it was not copied")
            continue
        os.symlink(target, copy / link)
    for item in support:
        destination = copy / item.name
        if destination.exists() or destination.is_symlink():
            if destination.is_dir() and not destination.is_symlink():
                shutil.rmtree(destination)
            else:
                destination.unlink()
        if item.is_dir():
            shutil.copytree(item, destination, symlinks=True)
        else:
            shutil.copyfile(item, destination)
    return copy, notes
