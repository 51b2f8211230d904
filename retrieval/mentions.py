"""Which people and which paper titles a question names (typo-, case- and spacing-tolerant).

"who presented the lotery ticket paper", "did hongbo present MNASnet?", "anything by frankle",
"reform er authors". People are every author and presenter the catalog records; a person is
named by the full name or by one of its longer parts (surname or first name). A title is named by
its short name (before the colon) or most of its words, written with or without spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from paperbot.retrieval.lookup import content_words, normalize, with_parts, word_similarity
from paperbot.retrieval.types import Paper

NAME_PART_MATCH = 0.86  # similarity a question word needs to a part of a name
MIN_NAME_PART = 3  # shorter name parts ("He", "Le", "Bo") are too ambiguous alone; 3 letters match only exactly
TITLE_MATCH = 0.85
MIN_COMPACT_TITLE = 5


@dataclass(frozen=True)
class Mentions:
    people: tuple[str, ...] = ()  # as the catalog spells them, best match first
    papers: tuple[Paper, ...] = ()  # papers named by title, best match first
    title_score: float = 0.0  # how surely the best title is named, in [0, 1]
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
    parts = [w for w in with_parts(content_words(name)) if len(w) >= MIN_NAME_PART]
    return {q: max((word_similarity(q, part) for part in parts), default=0.0) for q in question_words}


def _title_score(question_words: Sequence[str], question_compact: str, title: str) -> float:
    short = _short_title(title)
    compact = _compact(short)
    if len(compact) >= MIN_COMPACT_TITLE and compact in question_compact:
        return 1.0
    title_words = [w for w in content_words(short) if len(w) >= 3]
    if not title_words or not question_words:
        return 0.0
    # Every word of the short title must be (nearly) there: "lottery ticket" names the paper,
    # "neural networks" names none.
    covered = [max(word_similarity(t, q) for q in question_words) for t in title_words]
    return sum(covered) / len(covered) if len(title_words) >= 2 or len(title_words[0]) >= 6 else 0.0


def find_mentions(question: str, papers: Sequence[Paper]) -> Mentions:
    words = content_words(question)
    claimed: set[str] = set()
    if not words:
        return Mentions()
    scores: dict[str, dict[str, float]] = {}
    for paper in papers:
        for person in (*paper.authors, *([paper.presenter] if paper.presenter else [])):
            if person not in scores:
                scores[person] = _person_scores(words, person)
    # A word that names someone exactly ("cheng") doesn't also name look-alikes ("chen").
    best_for_word = {w: max((s[w] for s in scores.values()), default=0.0) for w in words}
    named: dict[str, dict[str, float]] = {}
    for person, by_word in scores.items():
        fits = {w: s for w, s in by_word.items() if s >= NAME_PART_MATCH and s >= best_for_word[w] - 0.02}
        if fits:
            named[person] = fits
    # Full names beat a single matching part; a word already naming a better match names no one else
    # ("jonathan barron" is Jonathan T. Barron, not also Jonathan Frankle).
    people = []
    for person in sorted(named, key=lambda p: -sum(named[p].values())):
        if set(named[person]) - claimed:
            people.append(person)
            claimed |= set(named[person])
    compact = _compact(question)
    titles = sorted(((_title_score(words, compact, p.title), p) for p in papers), key=lambda t: -t[0])
    found = tuple(p for s, p in titles if s >= TITLE_MATCH)
    return Mentions(people=tuple(people), papers=found, title_score=titles[0][0] if titles else 0.0,
                    name_words=tuple(sorted(claimed)))
