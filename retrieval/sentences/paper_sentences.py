"""Each paper's sentences (verbatim) with their embeddings, computed on first use and kept.

The decisions ask "does one sentence of this paper state what the question asks?", and the local
answerer quotes the sentences that answer: both compare the question with single sentences.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .split import split_sentences as sentences
from .split import is_prose, is_quotable
from ..types import Paper

if TYPE_CHECKING:
    from .answer_match import AnswerMatcher
    from .kept_vectors import KeptVectors

MAX_CACHED_PAPERS = 2048


@dataclass(frozen=True)
class PaperSentences:
    texts: tuple[str, ...]  # the quotable sentences, in the summary's order
    vectors: np.ndarray  # (n, dim), unit length
    before: tuple[str | None, ...] = ()  # the prose sentence just before each one, if any
    count: int = 0  # sentences in the summary, quotable or not
    positions: tuple[int, ...] = ()  # where each one stands among them
    answer_vectors: np.ndarray | None = None  # (n, dim) from the answer matcher, when there is one

    def similarities(self, query: np.ndarray) -> np.ndarray:
        return self.vectors @ query if len(self.texts) else np.zeros(0)

    def answer_similarities(self, query: np.ndarray | None) -> np.ndarray:
        """How well each sentence answers the question (the answer matcher's query vector)."""
        if query is None or self.answer_vectors is None or not len(self.texts):
            return np.zeros(len(self.texts))
        return self.answer_vectors @ query


def unit(vector) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


class SentenceIndex:
    def __init__(self, embedder, answer_matcher: "AnswerMatcher | None" = None, kept: "KeptVectors | None" = None):
        self._embedder = embedder
        self.answer_matcher = answer_matcher
        self._kept = kept  # the corpus embedder's sentence vectors, kept across processes
        self._cache: dict[tuple[str, str], PaperSentences] = {}
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([unit(self._embedder.get_text_embedding(t)) for t in texts])

    def best_answer_match(self, paper: Paper, query: np.ndarray | None) -> float:
        """How well the paper's best sentence answers the question, by the answer matcher alone: a
        paper not read yet costs its kept answer vectors, not a corpus-embedder run per sentence
        (topic lists weigh a dozen candidates this way)."""
        with self._lock:
            cached = self._cache.get((paper.id, paper.content_hash))
        if cached is not None:
            scores = cached.answer_similarities(query)
        elif self.answer_matcher is None or query is None:
            return 0.0
        else:
            texts = _quotable(paper)[0]
            scores = self.answer_matcher.passages(texts) @ query if texts else np.zeros(0)
        return float(scores.max()) if len(scores) else 0.0

    def of(self, paper: Paper) -> PaperSentences:
        key = (paper.id, paper.content_hash)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        texts, every, kept = _quotable(paper)
        before = tuple(every[i - 1] if i and is_prose(every[i - 1]) else None for i in kept)
        if not texts:
            vectors = np.zeros((0, 1))
        elif self._kept is not None:
            vectors = self._kept.get(texts, self._embed)
        else:
            vectors = self._embed(texts)
        answers = self.answer_matcher.passages(texts) if self.answer_matcher and texts else None
        found = PaperSentences(texts, vectors, before, len(every), tuple(kept), answers)
        with self._lock:
            if len(self._cache) >= MAX_CACHED_PAPERS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = found
        return found


def _quotable(paper: Paper) -> tuple[tuple[str, ...], list[str], list[int]]:
    """(the quotable sentences, every sentence, the places of the quotable ones)."""
    every = sentences(paper.text)
    kept = [i for i, s in enumerate(every) if is_quotable(s)]  # no captions, headings or URLs
    return tuple(every[i] for i in kept), every, kept
