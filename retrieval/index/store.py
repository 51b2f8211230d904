"""The one module that talks to Chroma.

Four collections: ``<prefix>_chunks`` (through LlamaIndex's ``ChromaVectorStore``) holds the
embedded chunks; ``<prefix>_papers`` holds one record per paper — its verbatim text and metadata,
with its normalised title for duplicate checks — and is written *last* when a paper is indexed, so
a paper is in the catalog only once all its chunks are; ``<prefix>_files`` holds one record per
corpus file an ingest fully indexed (an unchanged file is skipped before it is parsed) and a marker
per write in progress (only a write that never finished makes the next ingest scan for leftovers);
``file_records.py`` reads and writes it.

``<prefix>_changes`` is the change log readers follow: every write adds one record naming the
papers it changed, under the next generation number (1, 2, 3, …). A reader at generation g asks
for the records after g and updates itself with only those papers. Generations are claimed with
Chroma's ``add``, which keeps the first record of an id and ignores a second: of two writers
claiming the same number one wins and the other takes the next, in any process, embedded or
against a server. A write is logged before its marker is removed, so a write killed before it was
logged is logged by the repair that cleans up after it.

The index's identity is its embedder (checked when it is opened) and its chunking (chunk size,
overlap, chunker version: checked before anything is written). Embedded ``PersistentClient`` by
default, ``HttpClient`` when a Chroma host is set; an embedded index in a directory that cannot be
written is read from a copy, and writes stop with one line naming the directory. Embeddings are
always passed in: Chroma's own embedding function would download a model.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import chromadb
from chromadb.config import Settings as ChromaClientSettings

from ..errors import StoreError
from ...config import Settings
from .chroma_pages import get_all
from ..corpus.data_dir import WRITE_ROOM, NoRoomForCopy, readable_copy, unwritable_reason, write_refused
from ..corpus.file_records import FileRecord, FileRecords
from .locks import ReadWriteLock
from .text_match import TITLE_KEY_VERSION, title_key
from ..types import Chunk, Paper, ScoredChunk

if TYPE_CHECKING:
    from llama_index.core.schema import BaseNode

log = logging.getLogger(__name__)

_BATCH = 1000  # stay well under Chroma's max batch size (5461 on SQLite)
_AUTHORS_SEPARATOR = "\x1f"  # Chroma metadata holds scalars only
_DOC_KEY = "document_id"  # where ChromaVectorStore keeps a node's SOURCE (the paper id)


class EmbedderMismatchError(StoreError):
    """The index was built by another embedder than the one configured."""


class ChunkingMismatchError(StoreError):
    """The index's chunks were made with other chunk settings (or chunker version) than configured."""


class DataDirectoryError(StoreError):
    """The index's directory cannot be written (read-only, not permitted, full); names the directory."""


@dataclass(frozen=True)
class CatalogEntry:
    """A paper's catalog record without its text: what ingest and duplicate checks need."""

    id: str
    title: str
    path: str | None
    line: int | None
    content_hash: str
    added: datetime | None
    added_by: str | None
    chunks: int


def _reindex_hint(built_with: object, configured: object) -> str:
    return (f"the index was built with embedder {built_with} but {configured} is configured: "
            "re-index with `paperbot ingest --reindex` (or set PAPERBOT_EMBEDDING__PROVIDER back)")


def _client(settings: Settings, *, for_writing: bool = False) -> tuple[Any, str | None]:
    """(client, why it is read-only or None). An embedded index that cannot be written is opened
    from a copy, unless the caller is about to write (then it is a DataDirectoryError)."""
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if settings.chroma.host:
        where = f"{settings.chroma.host}:{settings.chroma.port}"
        try:
            return chromadb.HttpClient(host=settings.chroma.host, port=settings.chroma.port,
                                       ssl=settings.chroma.ssl, settings=client_settings), None
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreError(f"cannot reach the Chroma server at {where} (PAPERBOT_CHROMA__HOST / "
                             f"PAPERBOT_CHROMA__PORT): is `chroma run` up? ({type(exc).__name__})") from exc
    path = settings.chroma_path
    reason = unwritable_reason(path)
    if reason is None:
        try:
            return chromadb.PersistentClient(path=str(path), settings=client_settings), None
        except Exception as exc:  # chromadb wraps SQLite's errors in its own InternalError
            reason = unwritable_reason(path)
            if reason is None:
                raise StoreError(f"cannot open the index in {path}: {type(exc).__name__}: {exc}") from exc
    refused = write_refused(path, reason)
    if for_writing:
        raise DataDirectoryError(refused)
    try:
        copy = readable_copy(path, reason)
    except NoRoomForCopy as exc:
        raise DataDirectoryError(str(exc)) from exc
    return chromadb.PersistentClient(path=str(copy), settings=client_settings), refused


def _paper_metadata(paper: Paper, chunk_count: int) -> dict[str, Any]:
    return {
        "title": paper.title, "authors": _AUTHORS_SEPARATOR.join(paper.authors), "presenter": paper.presenter or "",
        "url": paper.url or "", "source": paper.source, "header": paper.header,
        "added": paper.added.isoformat() if paper.added else "", "added_by": paper.added_by or "",
        "date": paper.date.isoformat() if paper.date else "",
        "path": paper.path or "", "line": paper.line or 0, "content_hash": paper.content_hash,
        "chunks": chunk_count,  # lets the next ingest spot a paper whose chunks were lost half-way
        "title_key": title_key(paper.title),  # duplicate titles are one indexed lookup
    }


def _entry(paper_id: str, meta: dict[str, Any]) -> CatalogEntry:
    return CatalogEntry(
        id=paper_id, title=meta["title"], path=meta.get("path") or None, line=meta.get("line") or None,
        content_hash=meta.get("content_hash", ""),
        added=datetime.fromisoformat(meta["added"]) if meta.get("added") else None,
        added_by=meta.get("added_by") or None, chunks=int(meta.get("chunks", -1)),
    )


def _paper_from_record(paper_id: str, document: str, meta: dict[str, Any]) -> Paper:
    header = meta.get("header") or ""
    text = document[len(header) + 1:] if header and document.startswith(header + "\n") else document
    return Paper(
        id=paper_id, title=meta["title"], text=text, source=meta["source"],
        authors=tuple(a for a in (meta.get("authors") or "").split(_AUTHORS_SEPARATOR) if a),
        presenter=meta.get("presenter") or None, url=meta.get("url") or None, header=header,
        added=datetime.fromisoformat(meta["added"]) if meta.get("added") else None,
        date=datetime.fromisoformat(meta["date"]) if meta.get("date") else None,
        added_by=meta.get("added_by") or None, path=meta.get("path") or None, line=meta.get("line") or None,
    )


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start:start + _BATCH] for start in range(0, len(items), _BATCH)]


class _Connection:
    """A Chroma client and its open collections, shared by every store of one database in a process.

    An embedded client keeps each collection's vector index (HNSW) in memory and never sees
    vectors another process wrote since it loaded them; `reopen` starts it afresh from disk. An
    index that cannot be written is opened from a copy (``read_only`` says why): nothing else
    writes the copy, so there is nothing to re-open.
    """

    def __init__(self, settings: Settings, *, for_writing: bool = False):
        self._settings = settings
        self.lock = ReadWriteLock()
        self.vectors_at: int | None = None  # the generation its vectors are known to include
        self.client, self.read_only = _client(settings, for_writing=for_writing)
        self.collections: dict[str, Any] = {}

    @property
    def embedded(self) -> bool:
        return not self._settings.chroma.host

    def reopen(self) -> None:
        if not self.embedded or self.read_only:
            return  # a Chroma server serves every client the same index; a private copy never changes
        from chromadb.api.shared_system_client import SharedSystemClient

        with self.lock.writing():
            identifier = str(self._settings.chroma_path)
            system = SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
            if system is not None:
                system.stop()
            self.client, self.read_only = _client(self._settings)
            self.collections = {}


_EMBEDDED: dict[str, _Connection] = {}
_EMBEDDED_LOCK = threading.Lock()


def _connection(settings: Settings, *, for_writing: bool = False) -> _Connection:
    """The process's connection to this database; ``for_writing``, one to an index that can be written
    (else DataDirectoryError), not a copy opened earlier."""
    if settings.chroma.host:
        return _Connection(settings, for_writing=for_writing)
    with _EMBEDDED_LOCK:
        key = str(settings.chroma_path.resolve())
        connection = _EMBEDDED.get(key)
        if connection is not None and for_writing:
            reason = unwritable_reason(settings.chroma_path)  # now: it may have filled up since it was opened
            if reason is not None:
                raise DataDirectoryError(write_refused(settings.chroma_path, reason))
            if connection.read_only:
                connection = None  # it can be written now: open the index itself, not the copy
        if connection is None:
            connection = _EMBEDDED[key] = _Connection(settings, for_writing=for_writing)
        return connection


# Names this process as a writer in the change log: its own writes are already in its vectors.
WRITER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Change:
    """One write: the papers it added, changed or removed, under its generation number."""

    generation: int
    paper_ids: tuple[str, ...]
    writer: str


def _locked(cls):
    """Every public method reads under the connection's lock, so none runs while it re-opens."""
    def wrap(method):
        def locked(self, *args, **kwargs):
            with self._connection.lock.reading():
                return method(self, *args, **kwargs)
        locked.__name__, locked.__doc__, locked.__wrapped__ = method.__name__, method.__doc__, method
        return locked

    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_") and name not in ("catch_up", "reopen"):
            setattr(cls, name, wrap(member))
    return cls


@_locked
class IndexStore:
    def __init__(self, settings: Settings, embedder_id: str, *, for_writing: bool = False):
        self.embedder_id = embedder_id
        self._head = 0  # the newest generation this store has seen: where to look for newer ones
        self._connection = _connection(settings, for_writing=for_writing)
        self._path = None if settings.chroma.host else settings.chroma_path
        self._chunks_name = f"{settings.chroma.collection}_chunks"
        self._papers_name = f"{settings.chroma.collection}_papers"
        self._files_name = f"{settings.chroma.collection}_files"
        self._changes_name = f"{settings.chroma.collection}_changes"
        try:
            self._open()
        except Exception as exc:  # connection refused, server error: chromadb has no common base class
            raise self._write_error(exc) or StoreError(
                f"cannot open the Chroma collections: {type(exc).__name__}: {exc}") from exc
        for collection in (self._chunks, self._papers):
            built_with = (collection.metadata or {}).get("embedder")
            if built_with != embedder_id:
                raise EmbedderMismatchError(_reindex_hint(repr(built_with), repr(embedder_id)))
        if self._connection.vectors_at is None:
            self._connection.vectors_at = self.generation()  # just opened: it holds what is on disk now

    def _open(self) -> dict[str, Any]:
        connection = self._connection
        if self._changes_name not in connection.collections:  # opened last: the others are open too
            metadata = {"embedder": self.embedder_id, "hnsw:space": "cosine"}
            opened = {name: connection.client.get_or_create_collection(name, metadata=metadata)
                      for name in (self._chunks_name, self._papers_name)}
            opened[self._files_name] = _open_files(connection.client, self._files_name,
                                                   opened[self._chunks_name], opened[self._papers_name])
            opened[self._changes_name] = connection.client.get_or_create_collection(self._changes_name)
            connection.collections = {**connection.collections, **opened}
        return connection.collections

    @property
    def _client(self) -> Any:
        return self._connection.client

    @property
    def _chunks(self) -> Any:
        return self._open()[self._chunks_name]

    @property
    def _papers(self) -> Any:
        return self._open()[self._papers_name]

    @property
    def _changes(self) -> Any:
        return self._open()[self._changes_name]

    @property
    def _files(self) -> FileRecords:
        return FileRecords(self._open()[self._files_name])

    @property
    def _vectors(self) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore  # writing only: ingest needs LlamaIndex

        return ChromaVectorStore(chroma_collection=self._chunks)

    # -- the change log ------------------------------------------------------------------------

    def generation(self) -> int:
        """The newest generation (0 for an index no write has logged yet)."""
        hint = max(self._head, int((self._changes.metadata or {}).get("head", 0)))
        newer = self._changes.get(where={"generation": {"$gte": hint}}, include=["metadatas"]) if hint else \
            self._changes.get(include=["metadatas"])
        self._head = max((int(m["generation"]) for m in newer["metadatas"]), default=hint)
        return self._head

    def changes_since(self, generation: int) -> list[Change]:
        """The writes after ``generation``, oldest first."""
        got = self._changes.get(where={"generation": {"$gt": generation}}, include=["metadatas", "documents"])
        changes = [Change(int(m["generation"]), tuple(d.split("\n")) if d else (), m.get("writer", ""))
                   for m, d in zip(got["metadatas"], got["documents"])]
        return sorted(changes, key=lambda c: c.generation)

    def catch_up(self, changes: Sequence[Change] | None = None) -> None:
        """Make queries see the vectors of these writes (by default: every write since the last catch-up).

        Embedded Chroma loads a collection's vectors once per process, so a write by another
        process is seen only after re-opening the database; a Chroma server needs nothing.
        """
        connection = self._connection
        if changes is None:
            changes = self.changes_since(connection.vectors_at)
        newer = [c for c in changes if c.generation > connection.vectors_at]
        if any(c.writer != WRITER for c in newer):
            connection.reopen()
        connection.vectors_at = max([connection.vectors_at, *(c.generation for c in newer)])

    def reopen(self) -> None:
        """See everything on disk now, whichever process wrote it (embedded Chroma re-opens)."""
        self._connection.reopen()
        self._connection.vectors_at = max(self._connection.vectors_at or 0, self.generation())

    def identity(self) -> str:
        """Names this index: a dropped and rebuilt index has another identity."""
        return ":".join(str(c.id) for c in (self._papers, self._chunks, self._changes))

    def _log_change(self, paper_ids: Iterable[str]) -> int:
        """Claim the next generation for this write; returns it."""
        document = "\n".join(paper_ids)
        claim = uuid.uuid4().hex
        generation = self.generation() + 1
        while True:
            record_id = f"{generation:012d}"
            self._changes.add(ids=[record_id], embeddings=[[0.0]], documents=[document],
                              metadatas=[{"generation": generation, "writer": WRITER, "claim": claim}])
            got = self._changes.get(ids=[record_id], include=["metadatas"])
            if got["metadatas"] and got["metadatas"][0].get("claim") == claim:
                break
            generation += 1  # another writer took that number first
        self._head = generation
        _set_metadata(self._changes, head=generation)  # a hint for readers: where to start looking
        return generation

    # -- metadata-only and partial reads --------------------------------------------------------

    def catalog(self) -> list[Paper]:
        """Every paper's metadata, without reading the summaries (their ``text`` is empty)."""
        got = get_all(self._papers, ["metadatas"])
        papers = [_paper_from_record(i, "", m) for i, m in zip(got["ids"], got["metadatas"])]
        return sorted(papers, key=lambda p: (p.added.isoformat() if p.added else "", p.source, p.line or 0, p.title))

    def papers_by_id(self, paper_ids: Sequence[str]) -> list[Paper]:
        papers = []
        for batch in _batches(list(paper_ids)):
            got = self._papers.get(ids=list(batch), include=["documents", "metadatas"])
            papers += [_paper_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return papers

    def chunks_of(self, papers: Sequence[Paper]) -> list[Chunk]:
        """The chunks of these papers, read by id (a metadata filter would scan every chunk)."""
        counts = {}
        for batch in _batches([p.id for p in papers]):
            got = self._papers.get(ids=list(batch), include=["metadatas"])
            counts.update((i, int(m.get("chunks", 0))) for i, m in zip(got["ids"], got["metadatas"]))
        ids = [f"{paper_id}#{position}" for paper_id, count in counts.items() for position in range(count)]
        chunks = []
        for batch in _batches(ids):
            got = self._chunks.get(ids=list(batch), include=["documents", "metadatas"])
            chunks += [Chunk(id=i, paper_id=m["paper_id"], text=d, position=int(m.get("position", 0)))
                       for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        found = {c.paper_id for c in chunks}
        missing = [pid for pid in counts if pid not in found]  # ids not of the form "<paper>#<n>"
        for batch in _batches(missing):
            got = self._chunks.get(where={"paper_id": {"$in": list(batch)}}, include=["documents", "metadatas"])
            chunks += [Chunk(id=i, paper_id=m["paper_id"], text=d, position=int(m.get("position", 0)))
                       for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return chunks

    def count_papers(self) -> int:
        return self._papers.count()

    # -- reading -----------------------------------------------------------------------------

    def version(self) -> str:
        """Changes whenever papers are added, changed or removed (cheap: no records are read)."""
        generation = (self._client.get_collection(self._papers_name).metadata or {}).get("generation", "")
        return f"{generation}:{self._papers.count()}:{self._chunks.count()}"

    def papers(self) -> list[Paper]:
        got = get_all(self._papers, ["documents", "metadatas"])
        papers = [_paper_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(papers, key=lambda p: (p.added.isoformat() if p.added else "", p.source, p.line or 0, p.title))

    def paper(self, paper_id: str) -> Paper | None:
        got = self._papers.get(ids=[paper_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _paper_from_record(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def chunks(self) -> list[Chunk]:
        got = get_all(self._chunks, ["documents", "metadatas"])
        return [
            Chunk(id=i, paper_id=m["paper_id"], text=d, position=int(m.get("position", 0)))
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]

    def count_chunks(self) -> int:
        return self._chunks.count()

    def paper_ids(self) -> set[str]:
        """The ids of every paper in the catalog (nothing else is read)."""
        return set(get_all(self._papers, [])["ids"])

    def catalog_entries(self, ids: Iterable[str] | None = None) -> dict[str, CatalogEntry]:
        """Catalog records without texts: of the given papers (those that exist), or of all."""
        if ids is None:
            got = get_all(self._papers, ["metadatas"])
            return {i: _entry(i, m) for i, m in zip(got["ids"], got["metadatas"])}
        entries: dict[str, CatalogEntry] = {}
        for batch in _batches(sorted(set(ids))):
            got = self._papers.get(ids=list(batch), include=["metadatas"])
            entries.update((i, _entry(i, m)) for i, m in zip(got["ids"], got["metadatas"]))
        return entries

    def papers_titled(self, titles: Iterable[str]) -> dict[str, list[CatalogEntry]]:
        """The catalog's papers whose title is the same as one of these (by ``title_key``), by key."""
        keys = sorted({title_key(t) for t in titles} - {""})
        self.ensure_title_keys()
        found: dict[str, list[CatalogEntry]] = {}
        for batch in _batches(keys):
            got = self._papers.get(where={"title_key": {"$in": list(batch)}}, include=["metadatas"])
            for paper_id, meta in zip(got["ids"], got["metadatas"]):
                found.setdefault(meta["title_key"], []).append(_entry(paper_id, meta))
        return found

    def source_files(self) -> dict[str, FileRecord]:
        """What the index knows of each corpus file it indexed, by resolved path."""
        return self._files.all()

    def query(self, embedding: list[float], k: int) -> list[ScoredChunk]:
        """The k chunks most similar to the embedding (cosine similarity, higher is better).

        No count() first: it reads the whole collection, and Chroma answers an empty one with no rows."""
        self._check_dimension(len(embedding))
        got = self._chunks.query(query_embeddings=[embedding], n_results=k,
                                 include=["documents", "metadatas", "distances"])
        rows = list(zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0]))
        candidates = list({meta.get("paper_id") for _, _, meta, _ in rows})
        known = set(self._papers.get(ids=candidates, include=[])["ids"]) if candidates else set()
        return [
            # exp(-distance): the similarity LlamaIndex's Chroma store reports, which the decisions were fitted on
            ScoredChunk(Chunk(id=chunk_id, paper_id=meta["paper_id"], text=text or "",
                              position=int(meta.get("position", 0))), math.exp(-distance))
            for chunk_id, text, meta, distance in rows
            if meta.get("paper_id") in known  # chunks of a half-indexed paper are not answers yet
        ]

    def nearest_papers(self, embedding: list[float], k: int) -> list[tuple[Paper, float]]:
        self._check_dimension(len(embedding))
        got = self._papers.query(query_embeddings=[embedding], n_results=k,  # fewer rows when it holds fewer
                                 include=["documents", "metadatas", "distances"])
        return [
            (_paper_from_record(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    # -- writing -----------------------------------------------------------------------------

    def upsert_paper(self, paper: Paper, nodes: list["BaseNode"], paper_embedding: list[float]) -> None:
        """Replace the paper's chunks, then write its record (the commit marker) last."""
        self.upsert_papers([(paper, nodes, paper_embedding)])

    def upsert_papers(self, items: Sequence[tuple[Paper, list["BaseNode"], list[float]]]) -> None:
        """Several papers in a few calls: old chunks out, new chunks in, then the records."""
        if not items:
            return
        ids = [paper.id for paper, _, _ in items]
        with self._writing():
            self._check_dimension(len(items[0][2]), record=True)
            with self._files.writing(ids):
                for batch in _batches(ids):
                    self._chunks.delete(where={_DOC_KEY: {"$in": list(batch)}})
                for batch in _batches([node for _, nodes, _ in items for node in nodes]):
                    self._vectors.add(list(batch))  # its own batching allows more than Chroma accepts
                for batch in _batches(items):
                    self._papers.upsert(ids=[paper.id for paper, _, _ in batch],
                                        documents=[paper.source_text for paper, _, _ in batch],
                                        metadatas=[_paper_metadata(paper, len(nodes)) for paper, nodes, _ in batch],
                                        embeddings=[vector for _, _, vector in batch])
                self._bump_generation()
                self._log_change(ids)

    def delete_paper(self, paper_id: str) -> None:
        """Remove the record first, so a crash half-way leaves only orphan chunks (cleaned up later)."""
        with self._writing(), self._files.writing([paper_id]):
            self._papers.delete(ids=[paper_id])
            self._vectors.delete(ref_doc_id=paper_id)
            self._bump_generation()
            self._log_change([paper_id])

    def record_source_files(self, records: Sequence[FileRecord]) -> None:
        """Remember files as fully indexed (after their papers are): the next ingest may skip them."""
        with self._writing():
            self._files.put(records)

    def forget_source_files(self, paths: Collection[str]) -> None:
        with self._writing():
            self._files.forget(paths)

    @property
    def read_only(self) -> str | None:
        """Why nothing can be written (the index is read from a copy), or None."""
        return self._connection.read_only

    def require_writable(self) -> None:
        """Raise DataDirectoryError at once if nothing could be written (before any work is done)."""
        if self._connection.read_only:
            raise DataDirectoryError(self._connection.read_only)

    def check_chunking(self, identity: str) -> None:
        """Refuse to add chunks made another way than the index's; an index without a record takes this one."""
        recorded = (self._fresh(self._chunks).metadata or {}).get("chunking")
        if recorded == identity:
            return
        if recorded is not None:
            raise ChunkingMismatchError(
                f"the index was built with {recorded} but {identity} are configured: re-index with "
                "`paperbot ingest --reindex` (or set PAPERBOT_RETRIEVAL__CHUNK_SIZE / "
                "PAPERBOT_RETRIEVAL__CHUNK_OVERLAP back)")
        with self._writing():
            _set_metadata(self._fresh(self._chunks), chunking=identity)

    def repair(self) -> set[str]:
        """Undo what an interrupted write left behind; returns the ids of papers to index again.

        Only when a write left its marker and its writer is gone (it never finished) is the index
        scanned: chunks whose paper has no record are deleted; a paper whose record counts another
        number of chunks than the index holds lost chunks half-way through being replaced. The
        papers of writes still running (in this or another process) are left to their writers.
        The papers of the interrupted writes are logged as changed: the write may have changed them
        before it could log that, and readers must read them again.
        """
        markers = self._files.unfinished_writes()
        finished = [m for m in markers if not m.running]
        if not finished:
            return set()
        busy = {i for m in markers if m.running for i in m.paper_ids}
        with self._writing():
            damaged = self._scan_and_clean(busy=busy)
            interrupted = sorted({i for m in finished for i in m.paper_ids} - busy)
            if interrupted:
                self._log_change(interrupted)
            self._files.end_write(*(m.id for m in finished))
        return damaged

    def _scan_and_clean(self, busy: set[str]) -> set[str]:
        records = get_all(self._papers, ["metadatas"])
        expected = {i: int(m.get("chunks", -1)) for i, m in zip(records["ids"], records["metadatas"])}
        chunks = get_all(self._chunks, ["metadatas"])
        found: dict[str, int] = {}
        orphans = []
        for chunk_id, meta in zip(chunks["ids"], chunks["metadatas"]):
            paper_id = meta.get("paper_id")
            if paper_id in expected:
                found[paper_id] = found.get(paper_id, 0) + 1
            elif paper_id not in busy:
                orphans.append(chunk_id)
        for batch in _batches(orphans):
            self._chunks.delete(ids=list(batch))
        if orphans:
            log.info("removed %d chunks left by an interrupted ingest", len(orphans))
        return {paper_id for paper_id, count in expected.items() if found.get(paper_id, 0) != count} - busy

    # -- internals ---------------------------------------------------------------------------

    def _check_dimension(self, dimension: int, *, record: bool = False) -> None:
        recorded = (self._chunks.metadata or {}).get("dimension")
        if recorded is not None and recorded != dimension:
            raise EmbedderMismatchError(_reindex_hint(f"{self.embedder_id!r} ({recorded} dimensions)",
                                                      f"an embedder of {dimension} dimensions"))
        if recorded is None and record:
            _set_metadata(self._fresh(self._chunks), dimension=dimension)
            self._reload(self._chunks_name)  # for its metadata

    def _bump_generation(self) -> None:
        """A fresh marker after each write, so readers in other processes see the index changed."""
        _set_metadata(self._client.get_collection(self._papers_name), generation=uuid.uuid4().hex)

    def _fresh(self, collection: Any) -> Any:
        """The collection as the database has it now (metadata another process may have changed)."""
        return self._client.get_collection(collection.name)

    def _reload(self, name: str) -> None:
        """Keep the database's current handle of a collection for every store of this connection."""
        connection = self._connection
        connection.collections = {**connection.collections, name: connection.client.get_collection(name)}

    def ensure_title_keys(self) -> None:
        """Give records written before titles were keyed their key (once per index; ingest does it)."""
        if (self._fresh(self._papers).metadata or {}).get("title_keys") == TITLE_KEY_VERSION or self.read_only:
            return
        with self._writing():
            got = get_all(self._papers, ["metadatas"])
            stale = [(i, m) for i, m in zip(got["ids"], got["metadatas"]) if m.get("title_key") != title_key(m["title"])]
            for batch in _batches(stale):
                self._papers.update(ids=[i for i, _ in batch],
                                    metadatas=[{**m, "title_key": title_key(m["title"])} for _, m in batch])
            _set_metadata(self._fresh(self._papers), title_keys=TITLE_KEY_VERSION)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Writes go through here: refused on a read-only index, a full or read-only disk named in one line."""
        self.require_writable()
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            error = self._write_error(exc)
            if error is not None:
                raise error from exc
            if isinstance(exc, chromadb.errors.ChromaError):
                raise StoreError(f"writing the index failed: {type(exc).__name__}: {exc}") from exc
            raise

    def _write_error(self, exc: Exception) -> DataDirectoryError | None:
        """A failed write explained by the state of the data directory, if that is the cause."""
        if self._path is None:
            return None  # a Chroma server's disk is the server's to report
        reason = unwritable_reason(self._path, room=WRITE_ROOM)
        return DataDirectoryError(write_refused(self._path, reason)) if reason else None


def _open_files(client: Any, name: str, chunks: Any, papers: Any) -> Any:
    """The files collection; created beside an index made before it existed, that index is marked
    as if a write were unfinished, so the first ingest scans it once for leftovers."""
    try:
        return client.get_collection(name)
    except chromadb.errors.NotFoundError:
        files = client.get_or_create_collection(name)
        if papers.count() or chunks.count():
            FileRecords(files).mark_interrupted()
        return files


def _set_metadata(collection: Any, **values: Any) -> None:
    # modify() replaces the whole metadata; the distance ("hnsw:*") is fixed at creation and may not be resent.
    kept = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    collection.modify(metadata={**kept, **values})


def drop_index(settings: Settings) -> None:
    """Delete the index whatever embedder built it, what it knew of the corpus files, and its change log."""
    connection = _connection(settings, for_writing=True)
    with connection.lock.writing():
        client = connection.client
        existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        for suffix in ("chunks", "papers", "files", "changes"):
            if f"{settings.chroma.collection}_{suffix}" in existing:
                client.delete_collection(f"{settings.chroma.collection}_{suffix}")
        connection.collections = {}
        connection.vectors_at = None
