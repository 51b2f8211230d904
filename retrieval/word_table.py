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
