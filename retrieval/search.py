"""Hybrid retrieval: Chroma dense search plus BM25 (bm25s), fused by reciprocal rank.

Results are diversified across papers (at most ``max_chunks_per_paper`` chunks of one paper),
so one long summary can't crowd out the rest. The BM25 index is built from the store's chunks
(with each paper's title, authors and presenter) and rebuilt only when the index version changes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from config.settings import RetrievalSettings
from retrieval.text_match import STOPWORDS
from retrieval.types import Chunk, Paper

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# Question scaffolding ("which papers", "what have we read") must not match every summary.
_BM25_STOPWORDS = sorted(set(STOPWORDS_EN) | STOPWORDS)

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], k: int) -> dict[Hashable, float]:
    """Sum of 1 / (k + rank) over every ranking an item appears in (rank counted from 1)."""
    fused: dict[Hashable, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] += 1.0 / (k + rank)
    return dict(fused)


def diversify(ranked: Sequence[Hashable], group_of: Callable[[Hashable], str], per_group: int,
              limit: int) -> list[Hashable]:
    """The best ``limit`` items, keeping at most ``per_group`` of any one group (e.g. one paper)."""
    taken: dict[str, int] = defaultdict(int)
    chosen = []
    for item in ranked:
        if len(chosen) >= limit:
            break
        group = group_of(item)
        if taken[group] < per_group:
            taken[group] += 1
            chosen.append(item)
    return chosen


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    paper: Paper
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity of the chunk to the question (0 if only BM25 found it)


@dataclass
class SearchResult:
    hits: list[Hit]  # diversified, best first
    paper_scores: dict[str, float] = field(default_factory=dict)  # best fused score per paper, all candidates
    lexical_scores: dict[str, float] = field(default_factory=dict)  # best BM25 score per paper
    dense_scores: dict[str, float] = field(default_factory=dict)  # best cosine per paper
    top_dense: float = 0.0
    embedding: list[float] | None = None  # the question's embedding, reusable for follow-up searches
    candidates: list[Hit] = field(default_factory=list)  # every fused chunk, best first, not diversified

    def best_hit(self, paper_id: str) -> Hit | None:
        return next((h for h in self.candidates if h.paper.id == paper_id), None)

    def ranked_papers(self) -> list[str]:
        return sorted(self.paper_scores, key=self.paper_scores.get, reverse=True)


class _LexicalIndex:
    """BM25 over chunk texts with their paper's title, authors and presenter (stemmed, no stopwords)."""

    def __init__(self, chunks: list[Chunk], papers: dict[str, Paper]):
        self.chunks = chunks
        self._stemmer = Stemmer.Stemmer("english")
        corpus = []
        for chunk in chunks:
            paper = papers[chunk.paper_id]
            corpus.append(" ".join([paper.title, " ".join(paper.authors), paper.presenter or "", chunk.text]))
        self.vocabulary = set(w for text in corpus for w in words(text))
        self._bm25 = bm25s.BM25()
        if corpus:
            tokens = bm25s.tokenize(corpus, stopwords=_BM25_STOPWORDS, stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        if not self.chunks:
            return []
        tokens = bm25s.tokenize([query], stopwords=_BM25_STOPWORDS, stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = self._bm25.retrieve(tokens, k=min(k, len(self.chunks)), show_progress=False, n_threads=1)
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
        self._chunks_of: dict[str, list[Chunk]] = {}

    def refresh(self) -> None:
        """Rebuild the BM25 index and paper cache if the index changed since last time."""
        version = self.store.version()
        with self._lock:
            if version == self._version:
                return
            papers = {p.id: p for p in self.store.papers()}
            chunks = [c for c in self.store.chunks() if c.paper_id in papers]
            chunks_of: dict[str, list[Chunk]] = defaultdict(list)
            for chunk in chunks:
                chunks_of[chunk.paper_id].append(chunk)
            self._lexical, self._papers, self._chunks_of = _LexicalIndex(chunks, papers), papers, dict(chunks_of)
            self._version = version

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
        """Best chunks for the query; with ``paper_id``, only that paper's chunks (not diversified)."""
        self.refresh()
        k = k or self.settings.top_k
        embedding = embedding if embedding is not None else self.embed(query)
        dense = self.store.query(embedding, self.settings.candidates)
        lexical = self._lexical.search(query, self.settings.candidates) if self._lexical else []

        chunks: dict[str, Chunk] = {hit.chunk.id: hit.chunk for hit in dense}
        chunks.update((chunk.id, chunk) for chunk, _ in lexical)
        fused = reciprocal_rank_fusion([[h.chunk.id for h in dense], [c.id for c, _ in lexical]],
                                       self.settings.rrf_k)
        ranked = [c for c in sorted(fused, key=fused.get, reverse=True) if chunks[c].paper_id in self._papers]

        paper_scores: dict[str, float] = {}
        for chunk_id in ranked:
            paper_scores.setdefault(chunks[chunk_id].paper_id, fused[chunk_id])
        if paper_id is not None:
            # That paper's best chunks, then (if retrieval missed them) the rest in reading order.
            own = self._chunks_of.get(paper_id, [])
            chunks.update((c.id, c) for c in own)
            retrieved = [c for c in ranked if chunks[c].paper_id == paper_id]
            chosen = list(dict.fromkeys(retrieved + [c.id for c in own]))[:k]
            fused = {c: fused.get(c, 0.0) for c in chosen} | fused
        else:
            chosen = diversify(ranked, lambda c: chunks[c].paper_id, self.settings.max_chunks_per_paper, k)
        dense_by_chunk = {scored.chunk.id: scored.score for scored in dense}

        def make_hit(chunk_id: str) -> Hit:
            chunk = chunks[chunk_id]
            return Hit(chunk, self._papers[chunk.paper_id], fused[chunk_id], dense_by_chunk.get(chunk_id, 0.0))

        lexical_scores: dict[str, float] = {}
        for chunk, score in lexical:
            lexical_scores[chunk.paper_id] = max(score, lexical_scores.get(chunk.paper_id, 0.0))
        dense_scores: dict[str, float] = {}
        for scored in dense:
            paper = scored.chunk.paper_id
            dense_scores[paper] = max(scored.score, dense_scores.get(paper, 0.0))
        return SearchResult(hits=[make_hit(c) for c in chosen], paper_scores=paper_scores,
                            lexical_scores=lexical_scores, dense_scores=dense_scores,
                            top_dense=max(dense_scores.values(), default=0.0), embedding=embedding,
                            candidates=[make_hit(c) for c in ranked])
