"""Whether a corpus file changed since the index recorded it, decided before it is parsed.

First its size and modification time (and its sidecar's): equal to the record means unchanged,
unless the file was modified moments before it was last read (a second write within the file
system's clock tick leaves both equal), in which case, as when they differ, the content hash
decides. Files read by another loaders version are read again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .loaders import LOADERS_VERSION
from .loaders.sidecar import sidecar_path
from .file_records import FileRecord

SETTLE_NS = 2_000_000_000  # a file modified longer ago than this when read has a trustworthy stat


@dataclass(frozen=True)
class FileState:
    path: Path  # as found under the given paths
    key: str  # absolute: the file's record id
    size: int
    stat: str  # size and modification time of the file and its sidecar
    newest_mtime_ns: int


def file_state(path: Path) -> FileState:
    """Stat the file and its sidecar (no content is read). Raises OSError."""
    info = path.stat()
    stat, newest = f"{info.st_size}:{info.st_mtime_ns}", info.st_mtime_ns
    try:
        side = sidecar_path(path).stat()
    except FileNotFoundError:
        pass
    else:
        stat, newest = f"{stat}+{side.st_size}:{side.st_mtime_ns}", max(newest, side.st_mtime_ns)
    # An absolute path, not a resolved one: resolving costs a system call per path component.
    return FileState(path=path, key=os.path.abspath(path), size=info.st_size, stat=stat, newest_mtime_ns=newest)


def content_sha256(path: Path) -> str:
    """Hash of the file's bytes and its sidecar's (if any). Raises OSError."""
    digest = hashlib.sha256(path.read_bytes())
    side = sidecar_path(path)
    if side.is_file():
        digest.update(b"\0sidecar\0" + side.read_bytes())
    return digest.hexdigest()


def unchanged_by_stat(state: FileState, record: FileRecord | None) -> bool:
    return (record is not None and record.loaders_version == LOADERS_VERSION and record.stat_settled
            and record.stat == state.stat)


def unchanged_by_content(sha256: str, record: FileRecord | None) -> bool:
    return record is not None and record.loaders_version == LOADERS_VERSION and record.sha256 == sha256


def record_for(state: FileState, sha256: str, paper_ids: tuple[str, ...], read_at_ns: int) -> FileRecord:
    return FileRecord(path=state.key, stat=state.stat, sha256=sha256, paper_ids=paper_ids,
                      loaders_version=LOADERS_VERSION,
                      stat_settled=read_at_ns - state.newest_mtime_ns > SETTLE_NS)
