"""Hybrid retrieval: papers ranked on whole-summary BM25 and dense chunk evidence, then passages.

Two steps. Papers are ranked by fusing two rankings by reciprocal rank: BM25 over each whole
summary with its title, authors and presenter, and the best cosine of any of the paper's chunks
(Chroma). Then, within the best papers, the passages (chunks) that match the question best
become the evidence: at most ``max_chunks_per_paper`` per paper, so one long summary can't crowd
out the rest. Query words the corpus has never seen are corrected to its nearest word first
("refomer" -> "reformer"). The in-memory indexes follow the store's change log (`live_index`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...config.settings import RetrievalSettings
from .corpus_index import CorpusIndex
from .live_index import LiveIndex
from ..types import Chunk, Paper


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], k: int,
                           weights: Sequence[float] | None = None) -> dict[Hashable, float]:
    """Sum of weight / (k + rank) over every ranking an item appears in (rank counted from 1)."""
    fused: dict[Hashable, float] = defaultdict(float)
    for index, ranking in enumerate(rankings):
        weight = weights[index] if weights else 1.0
        for rank, item in enumerate(ranking, start=1):
            fused[item] += weight / (k + rank)
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
    score: float  # the paper's fused score (evidence is ordered by paper, then passage)
    dense: float  # cosine similarity of the chunk to the question (0 if only BM25 found it)


@dataclass
class SearchResult:
    hits: list[Hit]  # the evidence: best papers first, their best passages
    paper_scores: dict[str, float] = field(default_factory=dict)  # fused score per candidate paper
    lexical_scores: dict[str, float] = field(default_factory=dict)  # whole-summary BM25 per paper
    dense_scores: dict[str, float] = field(default_factory=dict)  # best chunk cosine per paper
    top_dense: float = 0.0
    embedding: list[float] | None = None  # the question's embedding, reusable for follow-up searches
    candidates: list[Hit] = field(default_factory=list)  # every candidate chunk, best first
    query: str = ""  # the query as searched (spelling corrected)

    def best_hit(self, paper_id: str) -> Hit | None:
        return next((h for h in self.candidates if h.paper.id == paper_id), None)

    def ranked_papers(self) -> list[str]:
        return sorted(self.paper_scores, key=self.paper_scores.get, reverse=True)


# A Slack thread's check of a message and the answer to it, and a question's steps, embed and
# search the same text within moments: the last few are kept (a question's worth, not more).
RECENT = 16


class _Recent:
    """The last few results by key (least recently used goes first)."""

    def __init__(self, size: int = RECENT):
        self._size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # questions are answered on several threads

    def get(self, key, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


class HybridSearcher:
    def __init__(self, store, embedder, settings: RetrievalSettings, snapshot_dir: Path | None = None):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.live = LiveIndex(store, snapshot_dir)
        self._embedded = _Recent()  # text -> its query embedding
        self._nearest = _Recent()  # (index generation, papers, embedding, k) -> the nearest chunks

    def refresh(self) -> list[str]:
        """Take in what changed in the store since the index's generation (once per question);
        returns the ids of the papers that changed."""
        return self.live.refresh()

    def reading(self):
        """Hold while answering a question: a refresh waits until it is answered."""
        return self.live.reading()

    @property
    def index(self) -> CorpusIndex:
        return self.live.index

    @property
    def papers(self) -> dict[str, Paper]:
        return self.index.papers

    @property
    def vocabulary(self) -> set[str]:
        return self.index.vocabulary

    def embed(self, text: str) -> list[float]:
        return list(self._embedded.get(text, lambda: tuple(self.embedder.get_query_embedding(text))))

    def _nearest_chunks(self, embedding: Sequence[float], k: int, index: CorpusIndex) -> list:
        """The store's k nearest chunks; the same search in the same generation is not run twice."""
        key = (self.live.generation, len(index.papers), tuple(embedding), k)
        return self._nearest.get(key, lambda: tuple(self.store.query(embedding, k)))

    def search(self, query: str, k: int | None = None, *, embedding: list[float] | None = None,
               paper_id: str | None = None, paper_ids: Sequence[str] | None = None) -> SearchResult:
        """The best papers for the query and their best passages.

        With ``paper_id`` (or ``paper_ids``), only those papers' passages are evidence, the most
        relevant paper first: a follow-up about papers already named is answered from them.
        """
        index = self.index
        k = k or self.settings.top_k
        embedding = embedding if embedding is not None else self.embed(query)
        corrected = index.correct_spelling(query)
        dense = self._nearest_chunks(embedding, self.settings.candidates, index)
        dense = [d for d in dense if d.chunk.paper_id in index.papers]
        tokens = index.tokens(corrected)
        lexical_papers = index.paper_bm25.top(tokens, self.settings.candidates)
        lexical_chunks = [(index.chunk(c), s) for c, s in index.chunk_bm25.top(tokens, self.settings.candidates)]

        dense_scores: dict[str, float] = {}
        for scored in dense:
            dense_scores[scored.chunk.paper_id] = max(scored.score, dense_scores.get(scored.chunk.paper_id, -1.0))
        lexical_scores = dict(lexical_papers)
        dense_ranking = sorted(dense_scores, key=dense_scores.get, reverse=True)
        paper_scores = reciprocal_rank_fusion(
            [[p for p, _ in lexical_papers], dense_ranking], self.settings.rrf_k,
            [self.settings.lexical_weight, self.settings.dense_weight])

        # Passages: each chunk's own fused rank among the chunks, within its paper's rank.
        chunks: dict[str, Chunk] = {d.chunk.id: d.chunk for d in dense}
        chunks.update((c.id, c) for c, _ in lexical_chunks)
        chunk_fused = reciprocal_rank_fusion([[d.chunk.id for d in dense], [c.id for c, _ in lexical_chunks]],
                                             self.settings.rrf_k)
        wanted = list(dict.fromkeys(paper_ids or ([paper_id] if paper_id else [])))
        for pid in wanted:  # passages retrieval missed, in reading order, after the retrieved ones
            chunks.update((c.id, c) for c in index.chunks_of.get(pid, []))
        everything = sorted(chunks, key=lambda c: (-paper_scores.get(chunks[c].paper_id, 0.0), -chunk_fused.get(c, 0.0)))
        if wanted:  # most relevant of the given papers first
            order = {pid: i for i, pid in enumerate(sorted(wanted, key=lambda p: -paper_scores.get(p, 0.0)))}
            pool = [c for c in chunks.values() if c.paper_id in order]
            pool.sort(key=lambda c: (order[c.paper_id], -chunk_fused.get(c.id, 0.0), c.position))
            chosen = diversify([c.id for c in pool], lambda c: chunks[c].paper_id,
                               max(self.settings.max_chunks_per_paper, k // len(wanted)), k)
        else:
            chosen = diversify(everything, lambda c: chunks[c].paper_id, self.settings.max_chunks_per_paper, k)
        dense_by_chunk = {d.chunk.id: d.score for d in dense}

        def make_hit(chunk_id: str) -> Hit:
            chunk = chunks[chunk_id]
            return Hit(chunk, index.papers[chunk.paper_id], paper_scores.get(chunk.paper_id, 0.0),
                       dense_by_chunk.get(chunk_id, 0.0))

        return SearchResult(hits=[make_hit(c) for c in chosen], paper_scores=paper_scores,
                            lexical_scores=lexical_scores, dense_scores=dense_scores,
                            top_dense=max(dense_scores.values(), default=0.0), embedding=embedding,
                            candidates=[make_hit(c) for c in everything], query=corrected)
