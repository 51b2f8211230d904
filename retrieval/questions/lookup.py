"""Find a paper by (typo'd) title, author, presenter or topic.

Names and titles are matched word by word with an edit-distance similarity (rapidfuzz), so
"refomer" finds *Reformer* and "lotery ticket" finds *The Lottery Ticket Hypothesis*. Topics
go through BM25 over the summaries, optionally fused with a dense "nearest papers" function
the caller supplies (the index's embeddings). A strong name match ranks above a topic match.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from ..index.lexical import LexicalIndex
from ..index.text_match import normalize
from ..types import Paper
from ..index.word_table import Vocabulary, WordLists

MatchKind = Literal["title", "author", "presenter", "topic"]
# (query, k) -> [(paper_id, similarity in [0, 1])], best first.
NearestPapers = Callable[[str, int], Sequence[tuple[str, float]]]

NAME_THRESHOLD = 0.8  # mean word similarity a title or a name needs to count as a match
TOPIC_WEIGHT = 0.6  # a topic match never outranks a good title or name match
DENSE_FLOOR = 0.3  # cosine similarity (MiniLM) below which a "nearest" paper is unrelated: measured on junk queries
_SHORT_WORD = 3  # words this short must match exactly (no typo tolerance)

_STOPWORDS = frozenset(
    "a an and are as at be by for from how in into is it its of on or the to what which who why with "
    "about paper papers that this those these do does we you i me my our".split()
)


@dataclass(frozen=True)
class LookupHit:
    paper: Paper
    score: float  # in [0, 1]
    matched_on: MatchKind


def lookup(
    papers: Sequence[Paper],
    query: str,
    *,
    limit: int = 5,
    nearest: NearestPapers | None = None,
) -> list[LookupHit]:
    """The papers that best match ``query``, best first (at most ``limit``)."""
    index = LookupIndex()
    for paper in papers:
        index.add(paper)
    return index.find({p.id: p for p in papers}, query, limit=limit, nearest=nearest)


class LookupIndex:
    """What `/paper` lookup reads, kept per index generation: every title's and name's words, and
    BM25 over the summaries. A query scores the titles and people with a word near its own
    (trigram postings find them; vectorised rapidfuzz and numpy give the same figures as
    `_title_score` and `_name_score`), then builds hits for the few papers that match by name or
    by topic."""

    def __init__(self) -> None:
        title_words = Vocabulary(exact_below=_SHORT_WORD)
        self._titles = WordLists(title_words)  # paper id -> its title's words, parts and short name
        self._title_content = WordLists(title_words)  # paper id -> its title's content words
        self._people = WordLists(Vocabulary(exact_below=_SHORT_WORD))  # person -> the words of the name
        self._people_papers: dict[str, set[str]] = {}  # person -> the papers they wrote or presented
        self._topic = LexicalIndex()

    def add(self, paper: Paper) -> None:
        self._titles.set(paper.id, _title_words(paper.title))
        self._title_content.set(paper.id, content_words(paper.title))
        for person in _people(paper):
            if person not in self._people_papers:
                self._people.set(person, with_parts(content_words(person)))
            self._people_papers.setdefault(person, set()).add(paper.id)
        self._topic.add([(paper.id, _topic_words(paper))])

    def remove(self, paper: Paper) -> None:
        self._titles.discard(paper.id)
        self._title_content.discard(paper.id)
        for person in _people(paper):
            holders = self._people_papers.get(person, set())
            holders.discard(paper.id)
            if not holders:
                self._people_papers.pop(person, None)
                self._people.discard(person)
        self._topic.remove([(paper.id, _topic_words(paper))])

    def find(self, papers: Mapping[str, Paper], query: str, *, limit: int = 5,
             nearest: NearestPapers | None = None) -> list[LookupHit]:
        words = lookup_words(query)
        if not words or not papers:
            return []
        # Only titles and people with a word near the query's can reach NAME_THRESHOLD (a mean can't
        # exceed its largest term; a title's share adds at most 0.1): they alone are scored.
        joined = ["".join(words)] if len(words) > 1 else []  # "fix match" for "FixMatch"
        vocabulary = self._titles.vocabulary
        ids = self._titles.keys_near(words + joined, (NAME_THRESHOLD - 0.1) / 0.9 - 1e-6)
        columns = np.union1d(self._titles.columns(ids), self._title_content.columns(ids))
        similarity = vocabulary.similarity(words, columns)
        packed = self._titles.pack(ids, columns)
        covered = WordLists.coverage(packed, similarity)
        if joined:
            covered = np.maximum(covered, WordLists.coverage(packed, vocabulary.similarity(joined, columns)))
        titles = 0.9 * covered + 0.1 * WordLists.share(self._title_content.pack(ids, columns), similarity)
        people = self._people.keys_near(words, NAME_THRESHOLD - 1e-6)
        people_columns = self._people.columns(people)
        packed = self._people.pack(people, people_columns)
        named = WordLists.coverage(packed, self._people.vocabulary.similarity(words, people_columns))
        too_short = packed[1] < len(words)  # "hongbo tian lottery" names no one
        person_score = {people[i]: float(named[i]) for i in np.flatnonzero((named >= NAME_THRESHOLD) & ~too_short)}
        title_score = {ids[i]: float(titles[i]) for i in np.flatnonzero(titles >= NAME_THRESHOLD)}
        candidates = set(title_score)
        for person in person_score:
            candidates |= {pid for pid in self._people_papers.get(person, ()) if pid in papers}
        topic = self._topic_scores(papers, query, words, nearest, candidates, limit)
        # Papers only the topic finds: no more than `limit` of them can make the list (ties kept).
        topical = [pid for pid in topic if pid in papers and pid not in candidates]
        if len(topical) > limit:
            floor = heapq.nlargest(limit, (topic[pid] for pid in topical))[-1]
            topical = [pid for pid in topical if topic[pid] >= floor]
        candidates |= set(topical)
        hits: list[LookupHit] = []
        for paper_id in candidates:
            paper = papers[paper_id]
            scores: list[tuple[float, MatchKind]] = [
                (title_score.get(paper_id, 0.0), "title"),
                (max((person_score.get(a, 0.0) for a in paper.authors), default=0.0), "author"),
                (person_score.get(paper.presenter, 0.0) if paper.presenter else 0.0, "presenter"),
            ]
            name_score, kind = max(scores, key=lambda c: c[0])
            topic_score = topic.get(paper.id, 0.0)
            if name_score >= NAME_THRESHOLD:
                # Among equally good name matches, the one the topic also supports comes first.
                hits.append(LookupHit(paper, min(1.0, 0.9 * name_score + 0.1 * topic_score), kind))
            elif topic_score > 0:
                hits.append(LookupHit(paper, TOPIC_WEIGHT * topic_score, "topic"))
        hits.sort(key=lambda h: (-h.score, h.paper.title, _catalog_rank(h.paper)))
        return hits[:limit]

    def _topic_scores(self, papers: Mapping[str, Paper], query: str, words: list[str],
                      nearest: NearestPapers | None, named: set[str], limit: int) -> dict[str, float]:
        """Topic scores (BM25 scaled so the best paper is 1, half and half with the dense neighbours)
        of the papers that can make the list: the named ones, the dense neighbours, and as many of
        the best by BM25 as could still fit (ties kept)."""
        scores = self._topic.scores(words)
        positive = np.flatnonzero(scores > 0)
        best = float(scores[positive].max()) if len(positive) else 0.0
        dense: dict[str, float] = {}
        if nearest is not None:
            similar = {paper_id: float(score) for paper_id, score in nearest(query, min(len(papers), 20))}
            top = max(similar.values(), default=0.0)
            # Scaled like BM25 (best paper = 1); similarities at the noise floor count for nothing.
            dense = {i: (s - DENSE_FLOOR) / (top - DENSE_FLOOR) for i, s in similar.items() if s > DENSE_FLOOR}
        room = limit + len(named) + len(dense)
        if len(positive) > room:
            floor = np.partition(scores[positive], -room)[-room]
            positive = positive[scores[positive] >= floor]
        keys = self._topic.keys
        lexical = {keys[i]: float(scores[i]) / best for i in positive}
        for paper_id in named | set(dense):  # their own BM25 counts too, however low
            slot = self._topic.slot_of.get(paper_id)
            if slot is not None and scores[slot] > 0:
                lexical[paper_id] = float(scores[slot]) / best
        if nearest is None:
            return lexical
        return {i: 0.5 * lexical.get(i, 0.0) + 0.5 * dense.get(i, 0.0) for i in set(lexical) | set(dense)}


def lookup_words(query: str) -> list[str]:
    """The words of a (markup-free) query that a lookup matches on; none: there is nothing to look up."""
    return [w for w in content_words(query) if len(w) > 1]  # a lone letter matches every summary


def _catalog_rank(paper: Paper) -> tuple:
    return (paper.added.isoformat() if paper.added else "", paper.source, paper.line or 0)


def _people(paper: Paper) -> list[str]:
    return [*paper.authors, *([paper.presenter] if paper.presenter else [])]


def _topic_words(paper: Paper) -> list[str]:
    """What BM25 sees of a paper: its title (twice: it says most) and summary."""
    return content_words(f"{paper.title} {paper.title} {paper.text}")


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", normalize(text)) if w not in _STOPWORDS]


def with_parts(words: list[str]) -> list[str]:
    """The words plus the parts of hyphenated ones ('chiao-lun' -> 'chiao', 'lun')."""
    return words + [part for w in words if "-" in w for part in w.split("-")]


def _title_words(title: str) -> list[str]:
    # Also the name before a colon written as one word ("u2net" for "U$^2$-Net: …").
    head = re.sub(r"[^a-z0-9]", "", normalize(title.split(":", 1)[0]))
    return with_parts(content_words(title)) + ([head] if head and len(head) <= 20 else [])


def word_similarity(query_word: str, word: str) -> float:
    if query_word == word:
        return 1.0
    if len(query_word) <= _SHORT_WORD or len(word) <= _SHORT_WORD:
        return 0.0
    return max(fuzz.ratio(query_word, word) / 100, DamerauLevenshtein.normalized_similarity(query_word, word))


def _coverage(query_words: Sequence[str], target_words: Sequence[str]) -> float:
    """Mean over query words of the best similarity to any target word."""
    if not target_words:
        return 0.0
    return sum(max(word_similarity(q, t) for t in target_words) for q in query_words) / len(query_words)


def _title_score(query_words: Sequence[str], title: str) -> float:
    words = _title_words(title)
    if not words:
        return 0.0
    covered = _coverage(query_words, words)
    if len(query_words) > 1:  # "fix match" for "FixMatch"
        covered = max(covered, _coverage(["".join(query_words)], words))
    # Of two titles the query covers equally well, the one it covers more of wins ("Deep Sets").
    share = _coverage(content_words(title), query_words)
    return 0.9 * covered + 0.1 * share


def _name_score(query_words: Sequence[str], name: str) -> float:
    """How well the query names this person: all of it ('hongbo tian') or part ('frankle')."""
    name_words = with_parts(content_words(name))
    if not name_words or len(query_words) > len(name_words):
        return 0.0
    return _coverage(query_words, name_words)
