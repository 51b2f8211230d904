"""The one module that talks to Chroma.

Three collections: ``<prefix>_chunks`` (through LlamaIndex's ``ChromaVectorStore``) holds the
embedded chunks; ``<prefix>_papers`` holds one record per paper — its verbatim text and metadata,
with its normalised title for duplicate checks — and is written *last* when a paper is indexed, so
a paper is in the catalog only once all its chunks are; ``<prefix>_files`` holds one record per
corpus file an ingest fully indexed (an unchanged file is skipped before it is parsed) and a marker
per write in progress (only a write that never finished makes the next ingest scan for leftovers);
``file_records.py`` reads and writes it.

The index's identity is its embedder (checked when it is opened) and its chunking (chunk size,
overlap, chunker version: checked before anything is written). Embedded ``PersistentClient`` by
default, ``HttpClient`` when a Chroma host is set; an embedded index in a directory that cannot be
written is read from a copy, and writes stop with one line naming the directory. Embeddings are
always passed in: Chroma's own embedding function would download a model.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaClientSettings
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from paperbot.config import Settings
from paperbot.retrieval.data_dir import WRITE_ROOM, NoRoomForCopy, readable_copy, unwritable_reason, write_refused
from paperbot.retrieval.file_records import FileRecord, FileRecords
from paperbot.retrieval.text_match import TITLE_KEY_VERSION, title_key
from paperbot.retrieval.types import Chunk, Paper, ScoredChunk

log = logging.getLogger(__name__)

_BATCH = 1000  # stay well under Chroma's max batch size (5461 on SQLite)
_AUTHORS_SEPARATOR = "\x1f"  # Chroma metadata holds scalars only
_DOC_KEY = "document_id"  # where ChromaVectorStore keeps a node's SOURCE (the paper id)


class StoreError(RuntimeError):
    """Chroma can't be reached or used; the message says what to do."""


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
        added_by=meta.get("added_by") or None, path=meta.get("path") or None, line=meta.get("line") or None,
    )


def _batches(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start:start + _BATCH] for start in range(0, len(items), _BATCH)]


class IndexStore:
    def __init__(self, settings: Settings, embedder_id: str, *, for_writing: bool = False):
        self.embedder_id = embedder_id
        self._client, self._read_only = _client(settings, for_writing=for_writing)
        self._path = None if settings.chroma.host else settings.chroma_path
        self._papers_name = f"{settings.chroma.collection}_papers"
        try:
            self._chunks = self._client.get_or_create_collection(
                f"{settings.chroma.collection}_chunks", metadata={"embedder": embedder_id, "hnsw:space": "cosine"})
            self._papers = self._client.get_or_create_collection(
                self._papers_name, metadata={"embedder": embedder_id, "hnsw:space": "cosine"})
            self._files = self._open_files(f"{settings.chroma.collection}_files")
        except Exception as exc:  # connection refused, server error: chromadb has no common base class
            raise self._write_error(exc) or StoreError(
                f"cannot open the Chroma collections: {type(exc).__name__}: {exc}") from exc
        for collection in (self._chunks, self._papers):
            built_with = (collection.metadata or {}).get("embedder")
            if built_with != embedder_id:
                raise EmbedderMismatchError(_reindex_hint(repr(built_with), repr(embedder_id)))
        self._vectors = ChromaVectorStore(chroma_collection=self._chunks)

    # -- reading -----------------------------------------------------------------------------

    def version(self) -> str:
        """Changes whenever papers are added, changed or removed (cheap: no records are read)."""
        generation = (self._client.get_collection(self._papers_name).metadata or {}).get("generation", "")
        return f"{generation}:{self._papers.count()}:{self._chunks.count()}"

    def papers(self) -> list[Paper]:
        got = self._papers.get(include=["documents", "metadatas"])
        papers = [_paper_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(papers, key=lambda p: (p.added.isoformat() if p.added else "", p.source, p.line or 0, p.title))

    def paper(self, paper_id: str) -> Paper | None:
        got = self._papers.get(ids=[paper_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _paper_from_record(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def chunks(self) -> list[Chunk]:
        got = self._chunks.get(include=["documents", "metadatas"])
        return [
            Chunk(id=i, paper_id=m["paper_id"], text=d, position=int(m.get("position", 0)))
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]

    def count_chunks(self) -> int:
        return self._chunks.count()

    def paper_ids(self) -> set[str]:
        """The ids of every paper in the catalog (nothing else is read)."""
        return set(self._papers.get(include=[])["ids"])

    def catalog_entries(self, ids: Iterable[str] | None = None) -> dict[str, CatalogEntry]:
        """Catalog records without texts: of the given papers (those that exist), or of all."""
        if ids is None:
            got = self._papers.get(include=["metadatas"])
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
        """The k chunks most similar to the embedding (cosine similarity, higher is better)."""
        if self._chunks.count() == 0:
            return []
        self._check_dimension(len(embedding))
        result = self._vectors.query(VectorStoreQuery(query_embedding=embedding, similarity_top_k=k))
        nodes = list(zip(result.nodes or [], result.similarities or []))
        candidates = list({node.metadata.get("paper_id") for node, _ in nodes})
        known = set(self._papers.get(ids=candidates, include=[])["ids"]) if candidates else set()
        return [
            ScoredChunk(Chunk(id=node.node_id, paper_id=node.metadata["paper_id"], text=node.get_content(),
                              position=int(node.metadata.get("position", 0))), float(score))
            for node, score in nodes
            if node.metadata.get("paper_id") in known  # chunks of a half-indexed paper are not answers yet
        ]

    def nearest_papers(self, embedding: list[float], k: int) -> list[tuple[Paper, float]]:
        n = self._papers.count()
        if n == 0:
            return []
        self._check_dimension(len(embedding))
        got = self._papers.query(query_embeddings=[embedding], n_results=min(k, n),
                                 include=["documents", "metadatas", "distances"])
        return [
            (_paper_from_record(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    # -- writing -----------------------------------------------------------------------------

    def upsert_paper(self, paper: Paper, nodes: list[BaseNode], paper_embedding: list[float]) -> None:
        """Replace the paper's chunks, then write its record (the commit marker) last."""
        self.upsert_papers([(paper, nodes, paper_embedding)])

    def upsert_papers(self, items: Sequence[tuple[Paper, list[BaseNode], list[float]]]) -> None:
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

    def delete_paper(self, paper_id: str) -> None:
        """Remove the record first, so a crash half-way leaves only orphan chunks (cleaned up later)."""
        with self._writing(), self._files.writing([paper_id]):
            self._papers.delete(ids=[paper_id])
            self._vectors.delete(ref_doc_id=paper_id)
            self._bump_generation()

    def record_source_files(self, records: Sequence[FileRecord]) -> None:
        """Remember files as fully indexed (after their papers are): the next ingest may skip them."""
        with self._writing():
            self._files.put(records)

    def forget_source_files(self, paths: Collection[str]) -> None:
        with self._writing():
            self._files.forget(paths)

    def require_writable(self) -> None:
        """Raise DataDirectoryError at once if nothing could be written (before any work is done)."""
        if self._read_only:
            raise DataDirectoryError(self._read_only)

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
        """
        markers = self._files.unfinished_writes()
        finished = [m.id for m in markers if not m.running]
        if not finished:
            return set()
        with self._writing():
            damaged = self._scan_and_clean(busy={i for m in markers if m.running for i in m.paper_ids})
            self._files.end_write(*finished)
        return damaged

    def _scan_and_clean(self, busy: set[str]) -> set[str]:
        records = self._papers.get(include=["metadatas"])
        expected = {i: int(m.get("chunks", -1)) for i, m in zip(records["ids"], records["metadatas"])}
        chunks = self._chunks.get(include=["metadatas"])
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
            self._chunks = self._fresh(self._chunks)  # for its metadata; the vector store keeps its own handle

    def _bump_generation(self) -> None:
        """A fresh marker after each write, so readers in other processes see the index changed."""
        _set_metadata(self._client.get_collection(self._papers_name), generation=uuid.uuid4().hex)

    def _fresh(self, collection: Any) -> Any:
        """The collection as the database has it now (metadata another process may have changed)."""
        return self._client.get_collection(collection.name)

    def _open_files(self, name: str) -> FileRecords:
        """The files collection; created beside an index made before it existed, that index is marked
        as if a write were unfinished, so the first ingest scans it once for leftovers."""
        try:
            return FileRecords(self._client.get_collection(name))
        except chromadb.errors.NotFoundError:
            files = FileRecords(self._client.get_or_create_collection(name))
            if self._papers.count() or self._chunks.count():
                files.mark_interrupted()
            return files

    def ensure_title_keys(self) -> None:
        """Give records written before titles were keyed their key (once per index; ingest does it)."""
        if (self._fresh(self._papers).metadata or {}).get("title_keys") == TITLE_KEY_VERSION or self._read_only:
            return
        with self._writing():
            got = self._papers.get(include=["metadatas"])
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


def _set_metadata(collection: Any, **values: Any) -> None:
    # modify() replaces the whole metadata; the distance ("hnsw:*") is fixed at creation and may not be resent.
    kept = {k: v for k, v in (collection.metadata or {}).items() if not k.startswith("hnsw:")}
    collection.modify(metadata={**kept, **values})


def drop_index(settings: Settings) -> None:
    """Delete the index whatever embedder built it, and what it knew of the corpus files."""
    client, _ = _client(settings, for_writing=True)
    existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    for suffix in ("chunks", "papers", "files"):
        if f"{settings.chroma.collection}_{suffix}" in existing:
            client.delete_collection(f"{settings.chroma.collection}_{suffix}")
