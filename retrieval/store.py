"""The one module that talks to Chroma.

Two collections: ``<prefix>_chunks`` (through LlamaIndex's ``ChromaVectorStore``) holds the
embedded chunks; ``<prefix>_papers`` holds one record per paper — its verbatim text and metadata —
and is written *last* when a paper is indexed, so a paper is in the catalog only once all its
chunks are. Embedded ``PersistentClient`` by default, ``HttpClient`` when a Chroma host is set.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaClientSettings
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.chroma import ChromaVectorStore

from config import Settings
from retrieval.types import Chunk, Paper, ScoredChunk

log = logging.getLogger(__name__)

_BATCH = 1000  # stay well under Chroma's max batch size


class StoreError(RuntimeError):
    """Chroma can't be reached or used; the message says what to do."""


class EmbedderMismatchError(StoreError):
    """The index was built by another embedder than the one configured."""


def _client(settings: Settings) -> Any:
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if settings.chroma.host:
        try:
            return chromadb.HttpClient(host=settings.chroma.host, port=settings.chroma.port,
                                       ssl=settings.chroma.ssl, settings=client_settings)
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma.host}:{settings.chroma.port} "
                f"(PAPERBOT_CHROMA__HOST / PAPERBOT_CHROMA__PORT): {exc}"
            ) from exc
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=client_settings)


def _paper_metadata(paper: Paper) -> dict[str, Any]:
    meta = {
        "title": paper.title, "authors": "\x1f".join(paper.authors), "presenter": paper.presenter or "",
        "url": paper.url or "", "source": paper.source, "header": paper.header,
        "added": paper.added.isoformat() if paper.added else "", "added_by": paper.added_by or "",
        "path": paper.path or "", "line": paper.line or 0, "content_hash": paper.content_hash,
    }
    return meta


def _paper_from_record(paper_id: str, document: str, meta: dict[str, Any]) -> Paper:
    header = meta.get("header") or ""
    text = document[len(header) + 1:] if header and document.startswith(header + "\n") else document
    return Paper(
        id=paper_id, title=meta["title"], text=text, source=meta["source"],
        authors=tuple(a for a in (meta.get("authors") or "").split("\x1f") if a),
        presenter=meta.get("presenter") or None, url=meta.get("url") or None, header=header,
        added=datetime.fromisoformat(meta["added"]) if meta.get("added") else None,
        added_by=meta.get("added_by") or None, path=meta.get("path") or None, line=meta.get("line") or None,
    )


class IndexStore:
    def __init__(self, settings: Settings, embedder_id: str):
        self.embedder_id = embedder_id
        self._client = _client(settings)
        prefix = settings.chroma.collection
        try:
            self._chunks = self._client.get_or_create_collection(
                f"{prefix}_chunks", metadata={"embedder": embedder_id, "hnsw:space": "cosine"})
            self._papers = self._client.get_or_create_collection(
                f"{prefix}_papers", metadata={"embedder": embedder_id, "hnsw:space": "cosine"})
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma collections: {exc}") from exc
        for collection in (self._chunks, self._papers):
            built_with = (collection.metadata or {}).get("embedder")
            if built_with != embedder_id:
                raise EmbedderMismatchError(
                    f"the index was built with embedder {built_with!r} but {embedder_id!r} is configured: "
                    "re-index with `paperbot ingest --reindex` (or set PAPERBOT_EMBEDDING__PROVIDER back)"
                )
        # One record whose value changes on every write: a cheap way for every replica to see
        # whether the index changed (e.g. to rebuild its BM25 index) without scanning it.
        self._revision = self._client.get_or_create_collection(f"{prefix}_revision")
        self._vectors = ChromaVectorStore(chroma_collection=self._chunks)

    # -- reading -----------------------------------------------------------------------------

    def version(self) -> str:
        """Changes whenever papers are added, changed or removed (by any process)."""
        got = self._revision.get(ids=["revision"], include=["documents"])
        return got["documents"][0] if got["ids"] else "empty"

    def _bump_version(self) -> None:
        self._revision.upsert(ids=["revision"], documents=[uuid.uuid4().hex], embeddings=[[1.0]])

    def papers(self) -> list[Paper]:
        got = self._papers.get(include=["documents", "metadatas"])
        papers = [_paper_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(papers, key=lambda p: (p.added.isoformat() if p.added else "", p.source, p.line or 0, p.title))

    def paper(self, paper_id: str) -> Paper | None:
        got = self._papers.get(ids=[paper_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return _paper_from_record(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def paper_hashes(self) -> dict[str, str]:
        got = self._papers.get(include=["metadatas"])
        return {i: m.get("content_hash", "") for i, m in zip(got["ids"], got["metadatas"])}

    def chunks(self) -> list[Chunk]:
        got = self._chunks.get(include=["documents", "metadatas"])
        return [
            Chunk(id=i, paper_id=m["paper_id"], text=d, position=int(m.get("position", 0)))
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
        ]

    def count_chunks(self) -> int:
        return self._chunks.count()

    def query(self, embedding: list[float], k: int) -> list[ScoredChunk]:
        """Nearest chunks. Chunks of a half-indexed paper may be among them: callers keep only
        papers in the catalog (the searcher does), which saves a catalog scan per query."""
        if self._chunks.count() == 0:
            return []
        result = self._vectors.query(VectorStoreQuery(query_embedding=embedding, similarity_top_k=k))
        return [
            ScoredChunk(Chunk(id=node.node_id, paper_id=node.metadata.get("paper_id", ""), text=node.get_content(),
                              position=int(node.metadata.get("position", 0))), float(score))
            for node, score in zip(result.nodes or [], result.similarities or [])
        ]

    def nearest_papers(self, embedding: list[float], k: int) -> list[tuple[Paper, float]]:
        n = self._papers.count()
        if n == 0:
            return []
        got = self._papers.query(query_embeddings=[embedding], n_results=min(k, n),
                                 include=["documents", "metadatas", "distances"])
        return [
            (_paper_from_record(i, d, m), 1.0 - float(dist))
            for i, d, m, dist in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    # -- writing -----------------------------------------------------------------------------

    def upsert_paper(self, paper: Paper, nodes: list[BaseNode], paper_embedding: list[float]) -> None:
        """Replace the paper's chunks, then write its record (the commit marker) last."""
        self.delete_chunks(paper.id)
        for start in range(0, len(nodes), _BATCH):
            self._vectors.add(nodes[start:start + _BATCH])
        self._papers.upsert(ids=[paper.id], documents=[paper.source_text],
                            metadatas=[_paper_metadata(paper)], embeddings=[paper_embedding])
        self._bump_version()

    def delete_chunks(self, paper_id: str) -> None:
        self._chunks.delete(where={"paper_id": paper_id})

    def delete_paper(self, paper_id: str) -> None:
        """Remove the record first, so a crash half-way leaves only orphan chunks (cleaned up later)."""
        self._papers.delete(ids=[paper_id])
        self._bump_version()
        self.delete_chunks(paper_id)

    def remove_orphan_chunks(self) -> int:
        """Delete chunks whose paper has no record (left by an interrupted ingest)."""
        known = set(self._papers.get(include=[])["ids"])
        got = self._chunks.get(include=["metadatas"])
        orphans = [i for i, m in zip(got["ids"], got["metadatas"]) if m.get("paper_id") not in known]
        for start in range(0, len(orphans), _BATCH):
            self._chunks.delete(ids=orphans[start:start + _BATCH])
        return len(orphans)


def drop_index(settings: Settings) -> None:
    """Delete the index whatever embedder built it."""
    client = _client(settings)
    for name in (f"{settings.chroma.collection}_{kind}" for kind in ("chunks", "papers", "revision")):
        if name in {c if isinstance(c, str) else c.name for c in client.list_collections()}:
            client.delete_collection(name)
