"""Whether the index's directory can be written, why not, and a private copy to read from if not.

Embedded Chroma writes to its database even to open it, so on a read-only data directory (a
read-only mount, a directory the user may not write) commands that only read open a copy in a
temporary directory, and commands that write stop with one line naming the directory.
"""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_PROBE_BYTES = 64 * 1024  # written and removed: fails on a read-only, forbidden or full directory
OPEN_ROOM = 1024 * 1024  # free space an index needs to be opened for writing
WRITE_ROOM = 16 * 1024 * 1024  # free space below which a failed write is put down to a full disk


@dataclass(frozen=True)
class Unwritable:
    """Why a directory cannot be written, and what a person does about it (a full disk and a
    read-only or forbidden directory call for different fixes)."""

    why: str
    remedy: str

    def __str__(self) -> str:
        return self.why


_FULL = "free some space on that disk"
_REMEDIES = {
    errno.EROFS: "mount it read-write",
    errno.EACCES: "give this user write access to it",
    errno.EPERM: "give this user write access to it",
    errno.ENOSPC: _FULL,
    errno.EDQUOT: _FULL,
}


def unwritable_reason(path: Path, room: int = OPEN_ROOM) -> Unwritable | None:
    """Why nothing can be written under ``path`` (created if missing), or None if it can be.

    ``room`` is the free space that counts as enough: a database write needs its pages and a
    journal, so a write can fail on a disk that still has a few megabytes free.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path, prefix=".write-probe-") as probe:
            probe.write(b"\0" * _PROBE_BYTES)
            probe.flush()
    except OSError as error:
        return Unwritable(describe(error), _REMEDIES.get(error.errno or 0, "make it writable"))
    free = shutil.disk_usage(path).free
    if free < room:
        return Unwritable(f"no space left on the device ({free / 1e6:.1f} MB free)", _FULL)
    return None


def describe(error: OSError) -> str:
    """An OSError as the short reason a person acts on."""
    if error.errno == errno.EROFS:
        return "it is on a read-only file system"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "it is not writable by this user"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device"
    return error.strerror or str(error)


def write_refused(path: Path, reason: Unwritable) -> str:
    """The one line a command that must write the index prints when it cannot."""
    return (f"cannot write the index in {path}: {reason.why}; {reason.remedy}, or point "
            "PAPERBOT_DATA_DIR at another directory (nothing already indexed is lost)")


class NoRoomForCopy(Exception):
    """The index directory cannot be written and cannot be copied either; the message names both places."""


def readable_copy(path: Path, reason: str) -> Path:
    """A private copy of the index directory to open when it cannot be written (removed at exit)."""
    try:
        holder = tempfile.TemporaryDirectory(prefix="paperbot-index-")
    except OSError as error:
        raise NoRoomForCopy(_no_copy(path, reason, error)) from error
    copy = Path(holder.name) / "chroma"
    try:
        if path.is_dir():
            shutil.copytree(path, copy)
        else:
            copy.mkdir()
    except OSError as error:
        holder.cleanup()
        raise NoRoomForCopy(_no_copy(path, reason, error)) from error
    _KEEP_UNTIL_EXIT.append(holder)
    log.warning("the index directory %s cannot be written (%s): reading a copy of it; nothing can be added",
                path, reason)
    return copy


def _no_copy(path: Path, reason: str, error: OSError) -> str:
    return (f"cannot open the index in {path}: {reason}, and a temporary copy to read from cannot be made "
            f"in {tempfile.gettempdir()} ({describe(error)})")


_KEEP_UNTIL_EXIT: list[tempfile.TemporaryDirectory] = []  # each copy lives as long as the process
