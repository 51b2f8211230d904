"""The index's ``<prefix>_files`` collection: a record per corpus file, a marker per unfinished write.

A file record says which papers a file held when an ingest last indexed all of it, and how to
tell it has not changed since (see ``source_files.py``). A write marker, naming its writer and the
papers it writes, is added before the store changes chunks or records and removed once it is done:
one whose writer is gone means a write was interrupted, and only then does the next ingest scan the
index for leftovers — leaving alone the papers of writes still running. Part of the store
(``store.py`` opens the collection and guards every write); nothing else uses this module.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..index.chroma_pages import get_all

_NO_VECTOR = [0.0]  # these records mean nothing as vectors, but Chroma wants one
_RECORD, _WRITE = "record", "write_started"  # the one metadata key of a file record, of a write marker
_BATCH = 1000
_HOST = socket.gethostname()
_RUNNING_HERE: set[str] = set()  # markers of writes this process has begun and not finished
_OTHER_PROCESS_MAX_AGE_S = 3600  # a live pid this old is taken for a reused one
_OTHER_HOST_MAX_AGE_S = 600  # a write (one batch) takes seconds; another machine's is gone after this


@dataclass(frozen=True)
class WriteMarker:
    id: str
    running: bool  # its writer may still be at it
    paper_ids: tuple[str, ...]


@dataclass(frozen=True)
class FileRecord:
    """One corpus file as the last ingest that indexed all of it saw it."""

    path: str  # absolute; the record's id
    stat: str  # size and modification time of the file (and its sidecar), as the ingest wrote them
    sha256: str  # of the file's bytes (and its sidecar's)
    paper_ids: tuple[str, ...]
    loaders_version: int
    stat_settled: bool  # not modified moments before it was read, so an equal stat means unchanged


class FileRecords:
    def __init__(self, collection: Any):
        self._collection = collection

    def all(self) -> dict[str, FileRecord]:
        got = get_all(self._collection, ["metadatas"])
        return {path: _from_metadata(path, meta) for path, meta in zip(got["ids"], got["metadatas"]) if _RECORD in meta}

    def put(self, records: Sequence[FileRecord]) -> None:
        for start in range(0, len(records), _BATCH):
            batch = records[start:start + _BATCH]
            self._collection.upsert(ids=[r.path for r in batch], embeddings=[_NO_VECTOR] * len(batch),
                                    metadatas=[_to_metadata(r) for r in batch])

    def forget(self, paths: Collection[str]) -> None:
        ordered = sorted(paths)
        for start in range(0, len(ordered), _BATCH):
            self._collection.delete(ids=ordered[start:start + _BATCH])

    @contextmanager
    def writing(self, paper_ids: Iterable[str]) -> Iterator[None]:
        """Marks a write of these papers: the marker is removed if the write finishes, and stays
        (its writer known to be gone) if it does not."""
        marker = f"write:{uuid.uuid4().hex}"
        writer = json.dumps([_HOST, os.getpid(), sorted(paper_ids)])
        self._collection.upsert(ids=[marker], embeddings=[_NO_VECTOR],
                                metadatas=[{_WRITE: time.time(), "writer": writer}])
        _RUNNING_HERE.add(marker)
        try:
            yield
        finally:
            _RUNNING_HERE.discard(marker)
        self.end_write(marker)

    def mark_interrupted(self) -> None:
        """A marker of a write whose writer is gone: the next ingest scans the index once."""
        self._collection.upsert(ids=[f"write:{uuid.uuid4().hex}"], embeddings=[_NO_VECTOR],
                                metadatas=[{_WRITE: time.time(), "writer": json.dumps(["", 0, []])}])

    def end_write(self, *markers: str) -> None:
        if markers:
            self._collection.delete(ids=list(markers))

    def unfinished_writes(self) -> list[WriteMarker]:
        got = self._collection.get(where={_WRITE: {"$gt": 0}}, include=["metadatas"])
        return [_marker(marker, meta) for marker, meta in zip(got["ids"], got["metadatas"])]


def _marker(marker: str, meta: dict[str, Any]) -> WriteMarker:
    host, pid, paper_ids = json.loads(meta.get("writer") or '["", 0, []]')
    age = time.time() - float(meta[_WRITE])
    if host == _HOST and pid == os.getpid():
        running = marker in _RUNNING_HERE
    elif host == _HOST:
        running = age < _OTHER_PROCESS_MAX_AGE_S and _alive(pid)
    else:
        running = bool(host) and age < _OTHER_HOST_MAX_AGE_S
    return WriteMarker(marker, running, tuple(paper_ids))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _to_metadata(record: FileRecord) -> dict[str, Any]:
    # One JSON value: reading 10,000 records of one key is three times faster than of six.
    return {_RECORD: json.dumps([record.stat, record.sha256, record.paper_ids, record.loaders_version,
                                 record.stat_settled])}


def _from_metadata(path: str, meta: dict[str, Any]) -> FileRecord:
    stat, sha256, paper_ids, loaders_version, stat_settled = json.loads(meta[_RECORD])
    return FileRecord(path=path, stat=stat, sha256=sha256, paper_ids=tuple(paper_ids),
                      loaders_version=loaders_version, stat_settled=stat_settled)
