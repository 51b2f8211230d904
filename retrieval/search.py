"""Hybrid retrieval: Chroma dense search plus BM25 (bm25s), fused by reciprocal rank.

Results are diversified across papers (at most ``max_chunks_per_paper`` chunks of one paper),
so one long summary can't crowd out the rest.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import logging

import bm25s

from config.settings import RetrievalSettings
from retrieval.types import Chunk, Paper

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    paper: Paper
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity of the chunk to the question (0 if only BM25 found it)


@dataclass
class SearchResult:
    hits: list[Hit]  # diversified, best first
    paper_scores: dict[str, float] = field(default_factory=dict)  # fused score per paper, all candidates
    lexical_scores: dict[str, float] = field(default_factory=dict)  # best BM25 score per paper
    dense_scores: dict[str, float] = field(default_factory=dict)  # best cosine per paper
    top_dense: float = 0.0


class _LexicalIndex:
    """BM25 over chunk texts with their paper's title, authors and presenter."""

    def __init__(self, chunks: list[Chunk], papers: dict[str, Paper]):
        self.chunks = chunks
        corpus = []
        for chunk in chunks:
            paper = papers[chunk.paper_id]
            corpus.append(" ".join([paper.title, " ".join(paper.authors), paper.presenter or "", chunk.text]))
        self.vocabulary = set(w for text in corpus for w in words(text))
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        k = min(k, len(self.chunks))
        docs, scores = self._bm25.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [(self.chunks[int(i)], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]


class HybridSearcher:
    def __init__(self, store, embedder, settings: RetrievalSettings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._version: str | None = None
        self._lexical: _LexicalIndex | None = None
        self._papers: dict[str, Paper] = {}

    def refresh(self) -> None:
        """Rebuild the BM25 index and paper cache if the index changed since last time."""
        version = self.store.version()
        with self._lock:
            if version == self._version:
                return
            papers = {p.id: p for p in self.store.papers()}
            chunks = [c for c in self.store.chunks() if c.paper_id in papers]
            self._lexical, self._papers, self._version = _LexicalIndex(chunks, papers), papers, version

    @property
    def papers(self) -> dict[str, Paper]:
        self.refresh()
        return self._papers

    @property
    def vocabulary(self) -> set[str]:
        self.refresh()
        return self._lexical.vocabulary if self._lexical else set()

    def embed(self, text: str) -> list[float]:
        return self.embedder.get_query_embedding(text)

    def search(self, query: str, k: int | None = None, *, embedding: list[float] | None = None,
               paper_id: str | None = None) -> SearchResult:
        """Best chunks for the query; with ``paper_id``, only that paper's chunks."""
        self.refresh()
        k = k or self.settings.top_k
        embedding = embedding if embedding is not None else self.embed(query)
        dense = self.store.query(embedding, self.settings.candidates)
        lexical = self._lexical.search(query, self.settings.candidates) if self._lexical else []

        fused: dict[str, float] = defaultdict(float)
        chunks: dict[str, Chunk] = {}
        dense_score: dict[str, float] = {}
        for rank, hit in enumerate(dense):
            fused[hit.chunk.id] += 1.0 / (self.settings.rrf_k + rank + 1)
            chunks[hit.chunk.id] = hit.chunk
            dense_score[hit.chunk.id] = hit.score
        for rank, (chunk, _) in enumerate(lexical):
            fused[chunk.id] += 1.0 / (self.settings.rrf_k + rank + 1)
            chunks[chunk.id] = chunk

        ranked = sorted(fused, key=fused.get, reverse=True)
        per_paper: dict[str, int] = defaultdict(int)
        paper_scores: dict[str, float] = {}
        hits: list[Hit] = []
        for chunk_id in ranked:
            chunk = chunks[chunk_id]
            paper = self._papers.get(chunk.paper_id)
            if paper is None or (paper_id is not None and paper.id != paper_id):
                continue
            paper_scores.setdefault(paper.id, fused[chunk_id])
            limit = k if paper_id else self.settings.max_chunks_per_paper
            if per_paper[paper.id] >= limit or len(hits) >= k:
                continue
            per_paper[paper.id] += 1
            hits.append(Hit(chunk, paper, fused[chunk_id], dense_score.get(chunk_id, 0.0)))
        lexical_scores: dict[str, float] = {}
        for chunk, score in lexical:
            lexical_scores[chunk.paper_id] = max(score, lexical_scores.get(chunk.paper_id, 0.0))
        dense_scores: dict[str, float] = {}
        for hit in dense:
            dense_scores[hit.chunk.paper_id] = max(hit.score, dense_scores.get(hit.chunk.paper_id, 0.0))
        return SearchResult(hits=hits, paper_scores=paper_scores, lexical_scores=lexical_scores,
                            dense_scores=dense_scores, top_dense=max(dense_scores.values(), default=0.0))

