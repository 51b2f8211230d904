"""Which people and which paper titles a question names (typo-, case- and spacing-tolerant).

"who presented the lotery ticket paper", "did hongbo present MNASnet?", "anything by frankle",
"reform er authors". People are every author and presenter the catalog records; a person is
named by the full name or by one of its longer parts (surname or first name). A title is named by
its short name (before the colon) or most of its words, written with or without spaces.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .lookup import content_words, normalize, with_parts, word_similarity
from ..types import Paper
from ..index.word_table import WordTable, similarity_matrix

NAME_PART_MATCH = 0.86  # similarity a question word needs to a part of a name
MIN_NAME_PART = 3  # shorter name parts ("He", "Le", "Bo") are too ambiguous alone; 3 letters match only exactly
TITLE_MATCH = 0.85
MIN_COMPACT_TITLE = 5
# Up to this many distinct title words every title is scored (a few milliseconds), so a mention's
# title_score is exact at any value; beyond, only the titles with a word near the question's.
EVERY_TITLE_UP_TO = 5000
REMEMBERED = 256  # texts whose mentions are kept: a question's steps and its thread ask for the same ones


@dataclass(frozen=True)
class Mentions:
    people: tuple[str, ...] = ()  # as the catalog spells them, best match first
    papers: tuple[Paper, ...] = ()  # papers named by title, best match first
    # How surely the best title is named, in [0, 1]: exact from TITLE_MATCH up; below it, exact
    # while the catalog has at most EVERY_TITLE_UP_TO title words, else the best of the titles that
    # have a word within TITLE_MATCH of a question word (0 when none has).
    title_score: float = 0.0
    name_words: tuple[str, ...] = ()  # the question's words that name the people

    @property
    def person_score(self) -> float:
        return 1.0 if self.people else 0.0


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", normalize(text))


def _short_title(title: str) -> str:
    return re.split(r"[:(]", title, maxsplit=1)[0]


def _person_scores(question_words: Sequence[str], name: str) -> dict[str, float]:
    """For each question word, how well it names this person (by the best part of the name)."""
    parts = _name_parts(name)
    return {q: max((word_similarity(q, part) for part in parts), default=0.0) for q in question_words}


def _name_parts(name: str) -> list[str]:
    return [w for w in with_parts(content_words(name)) if len(w) >= MIN_NAME_PART]


def _title_words(title: str) -> list[str]:
    return [w for w in content_words(_short_title(title)) if len(w) >= 3]


def _title_score(question_words: Sequence[str], question_compact: str, title: str) -> float:
    short = _short_title(title)
    compact = _compact(short)
    if len(compact) >= MIN_COMPACT_TITLE and compact in question_compact:
        return 1.0
    title_words = _title_words(title)
    if not title_words or not question_words:
        return 0.0
    # Every word of the short title must be (nearly) there: "lottery ticket" names the paper,
    # "neural networks" names none.
    covered = [max(word_similarity(t, q) for q in question_words) for t in title_words]
    return sum(covered) / len(covered) if len(title_words) >= 2 or len(title_words[0]) >= 6 else 0.0


def find_mentions(question: str, papers: Sequence[Paper]) -> Mentions:
    """The people and titles the question names among ``papers`` (a corpus keeps a `MentionIndex`)."""
    index = MentionIndex()
    for paper in papers:
        index.add(paper)
    return index.find(question, {p.id: p for p in papers})


class MentionIndex:
    """The catalog's people and titles, kept per index generation: `find` scores only the people
    and titles a question's words come near, and gives what `find_mentions` gives for all papers.
    What it found for a text is kept until the catalog changes (every step of a question, and each
    later question of its thread, reads the same texts' mentions)."""

    def __init__(self) -> None:
        self._parts = WordTable()  # a part of a name -> the people whose name has it
        self._people: dict[str, dict[str, int]] = {}  # person -> {paper id: place among its people}
        self._compact: dict[str, set[str]] = {}  # a short title run together -> papers
        self._longest = 0
        self._titles = WordTable()  # a short title's word -> papers
        self._title_columns: dict[str, np.ndarray] = {}  # paper id -> its title words' places in the table
        # Paper id -> its place in catalog order, numbered as papers are added (in catalog order)
        # with gaps where some were removed: only the order counts, so an added paper costs one entry.
        self._places: dict[str, int] = {}
        self._next_place = 0
        self._found: OrderedDict[str, Mentions] = OrderedDict()  # text -> mentions, newest last
        self._found_in: tuple = (None, 0)  # the papers mapping (and its size) they were found among
        self._found_lock = threading.Lock()  # questions are answered on several threads

    def __getstate__(self):  # saved without what questions found: it is found again
        return {k: v for k, v in self.__dict__.items() if k not in ("_found", "_found_in", "_found_lock")}

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        self._found, self._found_in, self._found_lock = OrderedDict(), (None, 0), threading.Lock()

    def add(self, paper: Paper) -> None:
        for place, person in enumerate((*paper.authors, *([paper.presenter] if paper.presenter else []))):
            papers = self._people.setdefault(person, {})
            if not papers:
                self._parts.add(person, _name_parts(person))
            papers.setdefault(paper.id, place)
        compact = _compact(_short_title(paper.title))
        if len(compact) >= MIN_COMPACT_TITLE:
            self._compact.setdefault(compact, set()).add(paper.id)
            self._longest = max(self._longest, len(compact))
        title_words = _title_words(paper.title)
        self._titles.add(paper.id, title_words)
        self._title_columns[paper.id] = np.asarray([self._titles.position(w) for w in title_words], dtype=np.int64)
        self._places[paper.id] = self._next_place
        self._next_place += 1
        self._found.clear()

    def remove(self, paper: Paper) -> None:
        for person in (*paper.authors, *([paper.presenter] if paper.presenter else [])):
            papers = self._people.get(person)
            if papers is not None and papers.pop(paper.id, None) is not None and not papers:
                del self._people[person]
                self._parts.remove(person, _name_parts(person))
        compact = _compact(_short_title(paper.title))
        if compact in self._compact:
            self._compact[compact].discard(paper.id)
            if not self._compact[compact]:
                del self._compact[compact]
        self._titles.remove(paper.id, _title_words(paper.title))
        self._title_columns.pop(paper.id, None)
        self._places.pop(paper.id, None)
        self._found.clear()

    def papers_of(self, people: Sequence[str], papers: Mapping[str, Paper]) -> list[Paper]:
        """The papers the people wrote or presented, in catalog order."""
        ids = {pid for person in people for pid in self._people.get(person, {})}
        return [papers[pid] for pid in sorted(ids, key=self._rank)]

    def find(self, question: str, papers: Mapping[str, Paper]) -> Mentions:
        with self._found_lock:
            if self._found_in[0] is not papers or self._found_in[1] != len(papers):  # other papers, other ranks
                self._found.clear()
                self._found_in = (papers, len(papers))
            found = self._found.get(question)
            if found is not None:
                self._found.move_to_end(question)
                return found
        found = self._find(question, papers)
        with self._found_lock:
            if self._found_in[0] is papers:
                self._found[question] = found
            if len(self._found) > REMEMBERED:
                self._found.popitem(last=False)
        return found

    def _find(self, question: str, papers: Mapping[str, Paper]) -> Mentions:
        words = content_words(question)
        if not words:
            return Mentions()
        people, claimed = self._find_people(words, papers)
        found, title_score = self._find_titles(words, _compact(question), papers)
        return Mentions(people=people, papers=found, title_score=title_score, name_words=tuple(sorted(claimed)))

    def _find_people(self, words: list[str], papers: Mapping[str, Paper]) -> tuple[tuple[str, ...], set[str]]:
        near = self._parts.near(words, NAME_PART_MATCH, exact_below=MIN_NAME_PART)
        candidates = {person for part in near for person in self._parts.items(part)}
        scores = {person: _person_scores(words, person) for person in candidates}
        best_for_word = {w: max((s[w] for s in scores.values()), default=0.0) for w in words}
        named: dict[str, dict[str, float]] = {}
        for person, by_word in scores.items():
            fits = {w: s for w, s in by_word.items() if s >= NAME_PART_MATCH and s >= best_for_word[w] - 0.02}
            if fits:
                named[person] = fits
        # As find_mentions: the best total first; among equals, whoever the catalog names first.
        order = sorted(named, key=lambda p: (-sum(named[p].values()), self._first_named(p, papers)))
        people, claimed = [], set()
        for person in order:
            if set(named[person]) - claimed:
                people.append(person)
                claimed |= set(named[person])
        return tuple(people), claimed

    def _find_titles(self, words: list[str], compact: str, papers: Mapping[str, Paper]) -> tuple[tuple[Paper, ...], float]:
        if not papers:
            return (), 0.0
        candidates = set()
        for size in range(MIN_COMPACT_TITLE, min(self._longest, len(compact)) + 1):
            for start in range(len(compact) - size + 1):
                candidates |= self._compact.get(compact[start:start + size], set())
        # The titles with a word near one of the question's (only those can reach TITLE_MATCH, as
        # a mean can't exceed its largest term): their scores at once, then the exact score of the
        # best ones and of those over the threshold.
        ids, approximate = self._approximate_title_scores(words)
        if len(ids):
            best = float(approximate.max())
            close = np.flatnonzero((approximate >= best - 1e-6) | (approximate >= TITLE_MATCH - 1e-6))
            candidates |= {ids[i] for i in close}
        scored = [(_title_score(words, compact, papers[pid].title), pid) for pid in candidates]
        scored.sort(key=lambda item: (-item[0], self._rank(item[1])))
        found = tuple(papers[pid] for s, pid in scored if s >= TITLE_MATCH)
        return found, scored[0][0] if scored else 0.0

    def _approximate_title_scores(self, words: list[str]) -> tuple[list[str], np.ndarray]:
        """(ids, scores) of every title, or of a large catalog's titles that have a word within
        TITLE_MATCH of a question word."""
        vocabulary = self._titles.words
        if len(vocabulary) <= EVERY_TITLE_UP_TO:
            ids = list(self._title_columns)
        else:
            near = self._titles.near_positions(words, TITLE_MATCH - 1e-6, exact_below=3)
            ids = list(dict.fromkeys(pid for at in near for pid in self._titles.items(vocabulary[at])))
        if not ids:
            return [], np.zeros(0)
        sizes = np.asarray([len(self._title_columns[i]) for i in ids], dtype=np.int64)
        columns = np.concatenate([self._title_columns[i] for i in ids])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        distinct, local = np.unique(columns, return_inverse=True)
        # word_similarity: words of three letters or fewer match only themselves.
        similarity = similarity_matrix(words, [vocabulary[c] for c in distinct], exact_below=3)
        per_word = similarity.max(axis=0)
        scores = np.zeros(len(ids))
        has = sizes > 0
        if has.any():
            scores[has] = np.add.reduceat(per_word[local], starts[has]) / sizes[has]
        # One short word is no title ("Deep" names nothing): as _title_score.
        lone = sizes == 1
        if lone.any():
            first = columns[starts[lone]]
            long_enough = np.asarray([len(vocabulary[c]) >= 6 for c in first])
            scores[np.flatnonzero(lone)[~long_enough]] = 0.0
        return ids, scores

    def _first_named(self, person: str, papers: Mapping[str, Paper]) -> tuple[int, int]:
        return min((self._rank(pid), place) for pid, place in self._people.get(person, {}).items())

    def renumber(self, paper_ids: Iterable[str]) -> None:
        """The catalog was put in order again (a changed paper sorts before others): these are its papers in order."""
        self._places = {pid: place for place, pid in enumerate(paper_ids)}
        self._next_place = len(self._places)
        self._found.clear()

    def _rank(self, paper_id: str) -> int:
        """Where the paper stands in catalog order (papers are added in that order)."""
        return self._places.get(paper_id, self._next_place)
