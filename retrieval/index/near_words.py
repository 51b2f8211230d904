"""Which words of a large list may lie within an edit-distance similarity of a typed word.

Character-trigram postings with the q-gram count filter: an edit changes at most three of a
word's trigrams (a transposition four), so a word within d edits of the typed one shares all but
so many of its trigrams. A lookup reads the postings of the typed word's dozen trigrams and
keeps the words sharing enough of them: it never compares the typed word with the whole list.
The filter only narrows the search: what it returns is a superset of the words that reach the
cutoff, and the callers score those with their own exact scoring, so results are the same as a
full scan.

Two similarities are covered, both in [0, 1]: the normalised Damerau-Levenshtein similarity
(1 - edits / longer length), and the larger of that and rapidfuzz's ``ratio`` (the normalised
InDel similarity, 1 - insertions and deletions / both lengths), as `lookup.word_similarity`.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

_PAD = "\x01\x01"  # around a word, so its first and last letters count in three trigrams too


def _trigrams(word: str) -> set[str]:
    padded = f"{_PAD}{word}{_PAD}"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _changed_trigrams(query_length: int, length: int, cutoff: float, with_ratio: bool) -> int | None:
    """The most of the typed word's trigrams a word of ``length`` letters may lack and still reach
    ``cutoff``; None: no word of that length can."""
    slack = 1.0 - cutoff + 1e-9
    most = None
    edits = math.floor(slack * max(query_length, length))  # Damerau-Levenshtein edits
    if abs(query_length - length) <= edits:
        most = 4 * edits
    if with_ratio:  # InDel: deletions from the typed word change 3 trigrams each, insertions 2
        indel = math.floor(slack * (query_length + length))
        if indel >= abs(query_length - length):
            deleted = (indel + query_length - length) // 2
            inserted = indel - deleted
            most = max(most if most is not None else 0, 3 * deleted + 2 * inserted)
    return most


class NearWords:
    """Append-only: a word keeps its position (callers index their own arrays by it)."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self._position: dict[str, int] = {}
        self._lengths = array("i")
        self._postings: dict[str, array] = {}  # trigram -> positions of the words that have it
        self._by_length: dict[int, array] = {}  # length -> positions (for words too short to filter)

    def add(self, word: str) -> int:
        at = self._position.get(word)
        if at is None:
            at = self._position[word] = len(self.words)
            self.words.append(word)
            self._lengths.append(len(word))
            self._by_length.setdefault(len(word), array("i")).append(at)
            for gram in _trigrams(word):
                self._postings.setdefault(gram, array("i")).append(at)
        return at

    def __len__(self) -> int:
        return len(self.words)

    def position(self, word: str) -> int | None:
        return self._position.get(word)

    def candidates(self, word: str, cutoff: float, *, with_ratio: bool) -> np.ndarray:
        """Positions of every word whose similarity to ``word`` may reach ``cutoff`` (and some that
        don't: score them). ``with_ratio``: the larger of ratio and Damerau-Levenshtein, else
        Damerau-Levenshtein alone."""
        if not self.words:
            return np.zeros(0, dtype=np.int64)
        grams = _trigrams(word)
        lists = [np.array(self._postings[g], dtype=np.int32) for g in grams if g in self._postings]
        if lists:
            found, shared = np.unique(np.concatenate(lists), return_counts=True)
        else:
            found, shared = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
        lengths = np.array(self._lengths, dtype=np.int32)[found] if len(found) else np.zeros(0, dtype=np.int32)
        needed = np.full(max(self._by_length) + 1, np.iinfo(np.int32).max, dtype=np.int64)
        unfiltered = []
        for length in self._by_length:
            most = _changed_trigrams(len(word), length, cutoff, with_ratio)
            if most is None:
                continue
            needed[length] = len(grams) - most
            if needed[length] <= 0:  # the count filter says nothing at this length: take them all
                unfiltered.append(np.array(self._by_length[length], dtype=np.int32))
        kept = found[shared >= needed[lengths]]
        if unfiltered:
            kept = np.union1d(kept, np.concatenate(unfiltered))
        return kept.astype(np.int64)
