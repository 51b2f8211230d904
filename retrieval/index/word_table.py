"""Which items (papers, people) carry a word, and which words are near a typed one.

Built once per index generation and changed item by item. A question's words find the table's
words near them through trigram postings (`near_words`), never by comparing them with every
word; the callers then score only the items found, with their own exact scoring.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from .near_words import NearWords


def similarity_matrix(words: list[str], choices: list[str], exact_below: int) -> np.ndarray:
    """``lookup.word_similarity`` of every (word, choice) pair: (len(words), len(choices)).

    The larger of rapidfuzz's ratio and the normalised Damerau-Levenshtein similarity; words of
    ``exact_below`` letters or fewer match only themselves.
    """
    if not words or not choices:
        return np.zeros((len(words), len(choices)))
    matrix = np.maximum(process.cdist(words, choices, scorer=fuzz.ratio, dtype=np.float64) / 100,
                        process.cdist(words, choices, scorer=DamerauLevenshtein.normalized_similarity,
                                      dtype=np.float64))
    matrix[:, np.fromiter(map(len, choices), dtype=np.int64, count=len(choices)) <= exact_below] = 0.0
    matrix[np.asarray([len(w) <= exact_below for w in words], dtype=bool), :] = 0.0
    at = {w: i for i, w in enumerate(choices)}
    for row, word in enumerate(words):
        if word in at:
            matrix[row, at[word]] = 1.0
    return matrix


def near_positions(index: NearWords, words: list[str], cutoff: float, exact_below: int) -> np.ndarray:
    """Positions in ``index`` of the words whose `similarity_matrix` score to one of ``words``
    reaches ``cutoff``: the postings' candidates, scored."""
    found = [np.asarray([at for w in words if (at := index.position(w)) is not None], dtype=np.int64)]
    for word in words:
        if len(word) > exact_below:
            found.append(index.candidates(word, cutoff, with_ratio=True))
    positions = np.unique(np.concatenate(found))
    if not len(positions):
        return positions
    similarity = similarity_matrix(words, [index.words[i] for i in positions], exact_below)
    return positions[similarity.max(axis=0) >= cutoff]


class WordTable:
    def __init__(self) -> None:
        self._words: list[str] = []  # append-only; a word no item carries any more stays, with no items
        self._position: dict[str, int] = {}
        self._items: dict[str, dict[Hashable, int]] = {}  # word -> item -> how many times it carries it
        self._near = NearWords()  # the same words at the same positions

    def add(self, item: Hashable, words: Iterable[str]) -> None:
        for word in words:
            if word not in self._position:
                self._position[word] = len(self._words)
                self._words.append(word)
                self._near.add(word)
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

    def near_positions(self, words: list[str], cutoff: float, *, exact_below: int = 0) -> np.ndarray:
        """Positions of the table's words whose similarity to one of ``words`` may reach ``cutoff``
        (a superset: score them)."""
        return near_positions(self._near, words, cutoff, exact_below)

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
        # Only the words the trigram postings put near, scored as a scan of them all would.
        choices = [self._words[i] for i in self.near_positions(fuzzy, cutoff - margin)]
        if not choices:
            return found
        for scorer, scale in ((fuzz.ratio, 100.0), (DamerauLevenshtein.normalized_similarity, 1.0)):
            matrix = process.cdist(fuzzy, choices, scorer=scorer, score_cutoff=(cutoff - margin) * scale,
                                   dtype=np.float32)
            for column in np.flatnonzero(matrix.max(axis=0) > 0):
                word = choices[column]
                if len(word) > exact_below and self._items[word]:
                    found.add(word)
        return found


class Vocabulary:
    """Distinct words in the order first seen (positions never change), found by nearness."""

    def __init__(self, exact_below: int = 0) -> None:
        self.exact_below = exact_below  # words this short match only themselves
        self._near = NearWords()

    @property
    def words(self) -> list[str]:
        return self._near.words

    def add(self, words: list[str]) -> np.ndarray:
        return np.asarray([self._near.add(w) for w in words], dtype=np.int64)

    def near(self, words: list[str], cutoff: float) -> np.ndarray:
        """Positions of the words whose similarity to one of ``words`` may reach ``cutoff``."""
        return near_positions(self._near, words, cutoff, self.exact_below)

    def similarity(self, words: list[str], columns: np.ndarray) -> np.ndarray:
        """``lookup.word_similarity`` of every (word, vocabulary word at ``columns``) pair."""
        return similarity_matrix(words, [self.words[c] for c in columns], self.exact_below)


class WordLists:
    """Items with an ordered list of words each (a title's, a name's), scored a few at a time.

    The items scored are those with a word near the query's (`keys_near`); the sums run word by
    word in the same order as the plain-Python scoring they replace, so the figures are the same
    to the last bit. Several tables may share one vocabulary, and so one similarity matrix per
    query: it covers the vocabulary ``columns`` (sorted positions) the scored items use.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self._lists: dict[Hashable, np.ndarray] = {}
        self._holders: dict[int, set] = {}  # vocabulary position -> the items whose list has it

    def set(self, key: Hashable, words: list[str]) -> None:
        self.discard(key)
        self._lists[key] = positions = self.vocabulary.add(words)
        for at in set(positions.tolist()):
            self._holders.setdefault(at, set()).add(key)

    def discard(self, key: Hashable) -> None:
        positions = self._lists.pop(key, None)
        if positions is not None:
            for at in set(positions.tolist()):
                self._holders[at].discard(key)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._lists

    def keys_near(self, words: list[str], cutoff: float) -> list:
        """The items with a word whose similarity to one of ``words`` may reach ``cutoff``."""
        return list(dict.fromkeys(key for at in self.vocabulary.near(words, cutoff).tolist()
                                  for key in self._holders.get(at, ())))

    def columns(self, keys: list) -> np.ndarray:
        """The sorted vocabulary positions the items' words use."""
        if not keys:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([self._lists[k] for k in keys]))

    def lengths(self, keys: list) -> np.ndarray:
        return np.fromiter((len(self._lists[k]) for k in keys), dtype=np.int64, count=len(keys))

    def pack(self, keys: list, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(each item's words as indexes into ``columns``, padded with -1; each item's length)."""
        lists = [self._lists[k] for k in keys]
        lengths = self.lengths(keys)
        local = np.full((len(keys), int(lengths.max()) if len(keys) else 0), -1, dtype=np.int64)
        if lengths.sum():
            rows = np.repeat(np.arange(len(keys)), lengths)
            places = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            local[rows, places] = np.searchsorted(columns, np.concatenate(lists))
        return local, lengths

    @staticmethod
    def coverage(packed: tuple[np.ndarray, np.ndarray], similarity: np.ndarray) -> np.ndarray:
        """Per item (as `pack` gave them): the mean over the query words of their best similarity
        to the item's words.

        ``similarity`` is `Vocabulary.similarity` of the query's words at the packed ``columns``;
        an item with no words scores 0.
        """
        local, lengths = packed
        total = np.zeros(len(lengths))
        if not len(lengths) or not len(similarity):
            return total
        padded = np.concatenate([similarity, np.full((len(similarity), 1), -np.inf)], axis=1)  # -1 -> -inf
        for row in padded:  # query word by query word, as sum() adds them
            total = total + row[local].max(axis=1, initial=-np.inf)
        total = total / len(similarity)
        total[lengths == 0] = 0.0
        return total

    @staticmethod
    def share(packed: tuple[np.ndarray, np.ndarray], similarity: np.ndarray) -> np.ndarray:
        """Per item (as `pack` gave them): the mean over its words of their best similarity to a query word."""
        local, lengths = packed
        total = np.zeros(len(lengths))
        if not len(lengths) or not len(similarity):
            return total
        best = np.concatenate([similarity.max(axis=0), [0.0]])  # padding (-1) adds nothing
        for column in range(local.shape[1]):  # word by word, as sum() adds them
            total = total + best[local[:, column]]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(lengths > 0, total / np.maximum(lengths, 1), 0.0)
