"""Which items (papers, people) carry a word, and which words are near a typed one.

Built once per index generation and changed item by item, so a question compares its few words
with the table's distinct words in one vectorised rapidfuzz call instead of looping over every
paper. The callers then score only the items found, with their own exact scoring.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein


class WordTable:
    def __init__(self) -> None:
        self._words: list[str] = []  # append-only; a word no item carries any more stays, with no items
        self._position: dict[str, int] = {}
        self._items: dict[str, dict[Hashable, int]] = {}  # word -> item -> how many times it carries it

    def add(self, item: Hashable, words: Iterable[str]) -> None:
        for word in words:
            if word not in self._position:
                self._position[word] = len(self._words)
                self._words.append(word)
                self._items[word] = {}
            holders = self._items[word]
            holders[item] = holders.get(item, 0) + 1

    def remove(self, item: Hashable, words: Iterable[str]) -> None:
        for word in words:
            holders = self._items.get(word)
            if holders and item in holders:
                holders[item] -= 1
                if not holders[item]:
                    del holders[item]

    @property
    def words(self) -> list[str]:
        """Every word the table has known, in the order first seen (positions never change)."""
        return self._words

    def position(self, word: str) -> int | None:
        return self._position.get(word)

    def items(self, word: str) -> dict[Hashable, int]:
        return self._items.get(word, {})

    def near(self, words: Iterable[str], cutoff: float, *, exact_below: int = 0) -> set[str]:
        """The table's words whose similarity to one of ``words`` may reach ``cutoff``.

        Similarity is the larger of rapidfuzz's ratio and the normalised Damerau-Levenshtein
        similarity (as `lookup.word_similarity`); words of ``exact_below`` letters or fewer match
        only themselves. The caller rescores what it gets: this only narrows the search.
        """
        words = list(dict.fromkeys(words))
        found = {w for w in words if self._items.get(w)}
        fuzzy = [w for w in words if len(w) > exact_below]
        if not fuzzy or not self._words:
            return found
        margin = 1e-6
        for scorer, scale in ((fuzz.ratio, 100.0), (DamerauLevenshtein.normalized_similarity, 1.0)):
            matrix = process.cdist(fuzzy, self._words, scorer=scorer, score_cutoff=(cutoff - margin) * scale,
                                   dtype=np.float32)
            for column in np.flatnonzero(matrix.max(axis=0) > 0):
                word = self._words[column]
                if len(word) > exact_below and self._items[word]:
                    found.add(word)
        return found


class Vocabulary:
    """Distinct words in the order first seen (positions never change), with which are short."""

    def __init__(self, exact_below: int = 0) -> None:
        self.exact_below = exact_below
        self.words: list[str] = []
        self.position: dict[str, int] = {}
        self._short = np.zeros(0, dtype=bool)

    def add(self, words: list[str]) -> np.ndarray:
        for word in words:
            if word not in self.position:
                self.position[word] = len(self.words)
                self.words.append(word)
        return np.asarray([self.position[w] for w in words], dtype=np.int32)

    def similarity(self, words: list[str]) -> np.ndarray:
        """``lookup.word_similarity`` of every (word, vocabulary word) pair: (len(words), len(vocabulary))."""
        if not words or not self.words:
            return np.zeros((len(words), len(self.words)))
        if len(self._short) != len(self.words):
            self._short = np.asarray([len(w) <= self.exact_below for w in self.words], dtype=bool)
        matrix = np.maximum(process.cdist(words, self.words, scorer=fuzz.ratio, dtype=np.float64) / 100,
                            process.cdist(words, self.words, scorer=DamerauLevenshtein.normalized_similarity,
                                          dtype=np.float64))
        matrix[:, self._short] = 0.0  # words this short match only themselves
        matrix[np.asarray([len(w) <= self.exact_below for w in words], dtype=bool), :] = 0.0
        for row, word in enumerate(words):
            if word in self.position:
                matrix[row, self.position[word]] = 1.0
        return matrix


class WordLists:
    """Items with an ordered list of words each (a title's, a name's), all scored at once.

    The sums run word by word in the same order as the plain-Python scoring they replace, so
    the figures are the same to the last bit. Several tables may share one vocabulary, and so
    one similarity matrix per query.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._lists: dict[Hashable, np.ndarray] = {}
        self._packed = None  # (keys, positions padded with -1, lengths): built when first needed

    def set(self, key: Hashable, words: list[str]) -> None:
        self._lists[key] = self.vocabulary.add(words)
        self._packed = None

    def discard(self, key: Hashable) -> None:
        if self._lists.pop(key, None) is not None:
            self._packed = None

    def __contains__(self, key: Hashable) -> bool:
        return key in self._lists

    def _pack(self):
        if self._packed is None:
            keys = list(self._lists)
            lengths = np.asarray([len(self._lists[k]) for k in keys], dtype=np.int64)
            width = int(lengths.max()) if len(keys) else 0
            positions = np.full((len(keys), width), -1, dtype=np.int32)
            for row, key in enumerate(keys):
                positions[row, :lengths[row]] = self._lists[key]
            self._packed = (keys, positions, lengths)
        return self._packed

    def lengths(self) -> np.ndarray:
        return self._pack()[2]

    def similarity(self, words: list[str]) -> np.ndarray:
        return self.vocabulary.similarity(words)

    def coverage(self, similarity: np.ndarray) -> tuple[list, np.ndarray]:
        """(keys, per item: the mean over the query words of their best similarity to the item's words).

        ``similarity`` comes from `similarity` for the query's words; an item with no words scores 0.
        """
        keys, positions, lengths = self._pack()
        total = np.zeros(len(keys))
        if not len(keys) or not len(similarity):
            return keys, total
        padded = np.concatenate([similarity, np.full((len(similarity), 1), -np.inf)], axis=1)  # -1 -> -inf
        for row in padded:  # query word by query word, as sum() adds them
            total = total + row[positions].max(axis=1, initial=-np.inf)
        total = total / len(similarity)
        total[lengths == 0] = 0.0
        return keys, total

    def share(self, similarity: np.ndarray) -> tuple[list, np.ndarray]:
        """(keys, per item: the mean over its words of their best similarity to a query word)."""
        keys, positions, lengths = self._pack()
        total = np.zeros(len(keys))
        if not len(keys) or not len(similarity):
            return keys, total
        best = np.concatenate([similarity.max(axis=0), [0.0]])  # padding (-1) adds nothing
        for column in range(positions.shape[1]):  # word by word, as sum() adds them
            total = total + best[positions[:, column]]
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.where(lengths > 0, total / np.maximum(lengths, 1), 0.0)
        return keys, total
