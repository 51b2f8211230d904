"""BM25 over a set of documents that changes: documents are added and removed one by one.

The scores are bm25s's ("lucene" BM25, k1 1.5, b 0.75, float32) to the last bit: bm25s stores
each (document, term) score precomputed, and those depend on the number of documents, the mean
length and every term's document frequency, so one added paper would change them all. This index
keeps the raw term frequencies instead and applies the same formula at query time, to the few
postings of the query's terms. Documents live in slots; a removed document's slot is only marked
dead, and the postings are compacted when dead or pending ones pile up.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

K1 = 1.5
B = 0.75
_COMPACT_SHARE = 0.25  # rebuild the postings when pending or dead ones exceed this share


class LexicalIndex:
    def __init__(self) -> None:
        self.keys: list[str | None] = []  # slot -> document key (None once removed)
        self.slot_of: dict[str, int] = {}
        self._length = np.zeros(0, dtype=np.int64)  # tokens per slot
        self._alive = np.zeros(0, dtype=bool)
        self.terms: dict[str, int] = {}  # term -> term id
        self._df: list[int] = []  # live documents holding each term
        self._total_length = 0
        # Postings of term t: slots[indptr[t]:indptr[t + 1]] (compacted) + pending[t] (added since).
        self._indptr = np.zeros(1, dtype=np.int64)
        self._slots = np.zeros(0, dtype=np.int32)
        self._tfs = np.zeros(0, dtype=np.float32)
        self._pending: dict[int, tuple[list[int], list[float]]] = {}
        self._pending_count = 0
        self._dead_postings = 0

    # -- size ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.slot_of)

    def __contains__(self, key: str) -> bool:
        return key in self.slot_of

    # -- changes ------------------------------------------------------------------------------

    def add(self, documents: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Index (key, tokens) pairs; a key already indexed must be removed first."""
        documents = list(documents)
        if any(key in self.slot_of for key, _ in documents):
            raise ValueError("remove a document before adding it again")
        start = len(self.keys)
        lengths = []
        for key, tokens in documents:
            slot = len(self.keys)
            self.keys.append(key)
            self.slot_of[key] = slot
            counts = Counter(tokens)
            for term, tf in counts.items():
                term_id = self.terms.get(term)
                if term_id is None:
                    term_id = self.terms[term] = len(self._df)
                    self._df.append(0)
                self._df[term_id] += 1
                slots, tfs = self._pending.setdefault(term_id, ([], []))
                slots.append(slot)
                tfs.append(float(tf))
            self._pending_count += len(counts)
            lengths.append(len(tokens))
            self._total_length += len(tokens)
        self._length = np.concatenate([self._length, np.asarray(lengths, dtype=np.int64)])
        self._alive = np.concatenate([self._alive, np.ones(len(self.keys) - start, dtype=bool)])
        if self._pending_count > _COMPACT_SHARE * max(len(self._slots), 1) and len(self._slots):
            self.compact()
        elif not len(self._slots):
            self.compact()

    def remove(self, documents: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Take out (key, tokens) pairs: the tokens they were added with (nothing else keeps them)."""
        for key, tokens in list(documents):
            slot = self.slot_of.pop(key, None)
            if slot is None:
                continue
            self.keys[slot] = None
            self._alive[slot] = False
            self._total_length -= int(self._length[slot])
            terms = set(tokens)
            for term in terms:
                self._df[self.terms[term]] -= 1
            self._dead_postings += len(terms)
        if self._dead_postings > _COMPACT_SHARE * max(len(self._slots) + self._pending_count, 1):
            self.compact()

    def compact(self) -> None:
        """Fold pending postings in and drop dead slots (renumbering the live ones in order)."""
        live = np.flatnonzero(self._alive)
        renumber = np.full(len(self.keys), -1, dtype=np.int64)
        renumber[live] = np.arange(len(live))
        n_terms = len(self._df)
        base_terms = np.repeat(np.arange(len(self._indptr) - 1), np.diff(self._indptr))
        pending_terms = [t for t, (slots, _) in self._pending.items() for _ in slots]
        terms = np.concatenate([base_terms, np.asarray(pending_terms, dtype=np.int64)])
        slots = np.concatenate([self._slots.astype(np.int64),
                                np.asarray([s for ps, _ in self._pending.values() for s in ps], dtype=np.int64)])
        tfs = np.concatenate([self._tfs, np.asarray([f for _, pf in self._pending.values() for f in pf],
                                                    dtype=np.float32)])
        keep = renumber[slots] >= 0 if len(slots) else np.zeros(0, dtype=bool)
        terms, slots, tfs = terms[keep], renumber[slots[keep]], tfs[keep]
        order = np.lexsort((slots, terms))  # by term, then slot
        self._slots = slots[order].astype(np.int32)
        self._tfs = tfs[order]
        self._indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=n_terms), out=self._indptr[1:])
        self.keys = [self.keys[s] for s in live]
        self.slot_of = {key: i for i, key in enumerate(self.keys)}
        self._length = self._length[live]
        self._alive = np.ones(len(live), dtype=bool)
        self._pending = {}
        self._pending_count = 0
        self._dead_postings = 0

    # -- queries ------------------------------------------------------------------------------

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 of every slot for the query tokens (in order, repeats counted, as bm25s does)."""
        n = len(self.slot_of)
        scores = np.zeros(len(self.keys), dtype=np.float32)
        if not n:
            return scores
        average = np.float64(self._total_length) / n
        for token in tokens:
            term_id = self.terms.get(token)
            if term_id is None or not self._df[term_id]:
                continue
            slots, tfs = self._postings(term_id)
            df = self._df[term_id]
            idf = np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))
            tfc = tfs / (K1 * ((1 - B) + B * self._length[slots] / average) + tfs)
            scores[slots] += (np.float64(idf) * tfc).astype(np.float32)
        return scores

    def top(self, tokens: Sequence[str], k: int) -> list[tuple[str, float]]:
        """The k best (key, score) with a positive score, best first (ties in slot order)."""
        if not tokens:
            return []
        scores = self.scores(tokens)
        positive = np.flatnonzero(scores > 0)
        if len(positive) > k:
            positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
            positive.sort()
        ranked = positive[np.argsort(-scores[positive], kind="stable")]
        return [(self.keys[i], float(scores[i])) for i in ranked]

    def positive(self, tokens: Sequence[str]) -> dict[str, float]:
        """Every document with a positive score for the tokens."""
        scores = self.scores(tokens)
        return {self.keys[i]: float(scores[i]) for i in np.flatnonzero(scores > 0)}

    def _postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = (self._indptr[term_id], self._indptr[term_id + 1]) if term_id + 1 < len(self._indptr) else (0, 0)
        slots, tfs = self._slots[start:end], self._tfs[start:end]
        pending = self._pending.get(term_id)
        if pending:
            slots = np.concatenate([slots, np.asarray(pending[0], dtype=np.int32)])
            tfs = np.concatenate([tfs, np.asarray(pending[1], dtype=np.float32)])
        if self._dead_postings:
            alive = self._alive[slots]
            slots, tfs = slots[alive], tfs[alive]
        return slots, tfs
