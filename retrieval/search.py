"""Hybrid retrieval: papers ranked on whole-summary BM25 and dense chunk evidence, then passages.

Two steps. Papers are ranked by fusing two rankings by reciprocal rank: BM25 (bm25s) over each
whole summary with its title, authors and presenter, and the best cosine of any of the paper's
chunks (Chroma). Then, within the best papers, the passages (chunks) that match the question best
become the evidence: at most ``max_chunks_per_paper`` per paper, so one long summary can't crowd
out the rest. Query words the corpus has never seen are corrected to its nearest word first
("refomer" -> "reformer"). The indexes are rebuilt only when the store's version changes.
"""

from __future__ import annotations

import bisect
import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from paperbot.config.settings import RetrievalSettings
from paperbot.retrieval.text_match import STOPWORDS
from paperbot.retrieval.types import Chunk, Paper

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# Question scaffolding ("which papers", "what have we read") must not match every summary.
_BM25_STOPWORDS = sorted(set(STOPWORDS_EN) | STOPWORDS)
_STOPWORD_SET = frozenset(_BM25_STOPWORDS)

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
SPELLING_MATCH = 0.79  # similarity (1 - edits / length) a query word needs to be read as a corpus word


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


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


class _BM25:
    """BM25 over texts (stemmed, no stopwords); search returns (index, score) best first."""

    def __init__(self, texts: list[str], stemmer):
        self._stemmer = stemmer
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(texts, stopwords=_BM25_STOPWORDS, stemmer=stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if not self._size:
            return []
        tokens = bm25s.tokenize([query], stopwords=_BM25_STOPWORDS, stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = self._bm25.retrieve(tokens, k=min(k, self._size), show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]


class CorpusIndex:
    """What one index generation needs in memory: papers, chunks, both BM25 indexes, term statistics."""

    def __init__(self, papers: dict[str, Paper], chunks: list[Chunk]):
        self.papers = papers
        self.chunks = chunks
        self.stemmer = Stemmer.Stemmer("english")
        self.chunks_of: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            self.chunks_of[chunk.paper_id].append(chunk)
        self.paper_ids = list(papers)
        paper_texts = [self.paper_text(papers[p]) for p in self.paper_ids]
        self.paper_bm25 = _BM25(paper_texts, self.stemmer)
        self.chunk_bm25 = _BM25([self.paper_heading(papers[c.paper_id]) + " " + c.text for c in chunks], self.stemmer)
        self.vocabulary = {w for text in paper_texts for w in words(text)}
        self._spelling_choices = sorted(w for w in self.vocabulary if w.isalpha() and len(w) >= 4)
        # Titles' word pairs written as one word ("batchnorm" -> "batch normalization"), for prefix lookup.
        joined = {(a + b, f"{a} {b}") for p in papers.values() for a, b in zip(words(p.title), words(p.title)[1:])}
        for paper in papers.values():  # a title's short name run together: "U$^2$-Net" -> "u2net"
            short = re.findall(r"[a-z0-9]+", re.sub(r"[$^{}\\]", "", re.split(r"[:(]", paper.title, maxsplit=1)[0].lower()))
            if 1 < len(short) <= 4:
                joined.add(("".join(short), " ".join(short)))
        self._joined = sorted(joined)
        self._sorted_vocabulary = sorted(self.vocabulary)
        self._hyphenated = {w.replace("-", ""): w for w in self.vocabulary if "-" in w}
        # Document frequency of each stem (in how many papers it occurs): IDF for the decisions.
        self.paper_stems: dict[str, frozenset[str]] = {}
        df: dict[str, int] = defaultdict(int)
        for paper_id, text in zip(self.paper_ids, paper_texts):
            stems = frozenset(self.stems(text, joined=True))
            self.paper_stems[paper_id] = stems
            for stem in stems:
                df[stem] += 1
        self.document_frequency = dict(df)

    @staticmethod
    def paper_heading(paper: Paper) -> str:
        return " ".join([paper.title, " ".join(paper.authors), paper.presenter or ""])

    def paper_text(self, paper: Paper) -> str:
        return f"{self.paper_heading(paper)} {paper.text}"

    def stems(self, text: str, *, joined: bool = False) -> list[str]:
        return self.stemmer.stemWords(self.content_words(text, joined=joined))

    @staticmethod
    def content_words(text: str, *, joined: bool = False) -> list[str]:
        """Words that carry content, hyphenated ones as their parts ("zero-bubble" -> zero, bubble).

        With ``joined`` (for the corpus side), also run together, so "cifar10" in a question
        finds "CIFAR-10" in a summary.
        """
        out = []
        for word in words(text):
            parts = [p for p in word.split("-") if len(p) > 1 and p not in _STOPWORD_SET]
            if "-" in word:
                out.extend(parts)
                if joined:
                    out.append(word.replace("-", ""))
            elif parts:
                out.append(word)
        return out

    def idf(self, stem: str) -> float:
        """Rarer stems weigh more; a stem no paper has weighs most."""
        n = len(self.paper_ids)
        return math.log((n + 1) / (self.document_frequency.get(stem, 0) + 0.5))

    def correct_spelling(self, text: str) -> str:
        """Words the corpus doesn't have, read as the corpus word they shorten or misspell.

        "batchnorm" -> "batch normalization" (a title's two words, run together and cut short),
        "normaliz" -> "normalization" (a prefix), "refomer" -> "reformer" (a typo).
        """
        def fix(match: re.Match) -> str:
            word = match.group(0)
            if word in self.vocabulary or word in _STOPWORD_SET:
                return word
            if word in self._hyphenated:  # "cifar10" -> "cifar-10"
                return self._hyphenated[word]
            if len(word) < 5:
                return word
            longer = _first_with_prefix(self._sorted_vocabulary, word)
            if longer and longer.startswith(word) and len(word) >= 0.75 * len(longer):
                return longer
            joined = _first_with_prefix(self._joined, (word, ""))
            if joined and joined[0].startswith(word) and len(word) > joined[1].find(" ") + 1:
                return joined[1]
            found = process.extractOne(word, self._spelling_choices, scorer=DamerauLevenshtein.normalized_similarity,
                                       score_cutoff=SPELLING_MATCH)
            return found[0] if found else word
        return _WORD.sub(fix, text.lower())


def _first_with_prefix(items: list, key):
    """The first item of a sorted list that is >= key (the candidate sharing its prefix), if any."""
    at = bisect.bisect_left(items, key)
    return items[at] if at < len(items) else None


class HybridSearcher:
    def __init__(self, store, embedder, settings: RetrievalSettings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lock = threading.Lock()
        self._version: str | None = None
        self._index: CorpusIndex | None = None

    def refresh(self) -> None:
        """Rebuild the in-memory indexes if the store changed since last time."""
        version = self.store.version()
        with self._lock:
            if version == self._version:
                return
            papers = {p.id: p for p in self.store.papers()}
            chunks = [c for c in self.store.chunks() if c.paper_id in papers]
            self._index = CorpusIndex(papers, chunks)
            self._version = version

    @property
    def index(self) -> CorpusIndex:
        self.refresh()
        return self._index

    @property
    def papers(self) -> dict[str, Paper]:
        return self.index.papers

    @property
    def vocabulary(self) -> set[str]:
        return self.index.vocabulary

    def embed(self, text: str) -> list[float]:
        return self.embedder.get_query_embedding(text)

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
        dense = self.store.query(embedding, self.settings.candidates)
        dense = [d for d in dense if d.chunk.paper_id in index.papers]
        lexical_papers = [(index.paper_ids[i], s) for i, s in index.paper_bm25.search(corrected, self.settings.candidates)]
        lexical_chunks = [(index.chunks[i], s) for i, s in index.chunk_bm25.search(corrected, self.settings.candidates)]

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
