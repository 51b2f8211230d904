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

from retrieval.lookup import content_words, normalize, with_parts, word_similarity
from retrieval.types import Paper

NAME_PART_MATCH = 0.86  # similarity a question word needs to a part of a name
MIN_NAME_PART = 4  # shorter name parts ("He", "Le", "Bo") are too ambiguous alone
TITLE_MATCH = 0.85
MIN_COMPACT_TITLE = 5


@dataclass(frozen=True)
class Mentions:
    people: tuple[str, ...] = ()  # as the catalog spells them, best match first
    papers: tuple[Paper, ...] = ()  # papers named by title, best match first
    title_score: float = 0.0  # how surely the best title is named, in [0, 1]

    @property
    def person_score(self) -> float:
        return 1.0 if self.people else 0.0


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", normalize(text))


def _short_title(title: str) -> str:
    return re.split(r"[:(]", title, maxsplit=1)[0]


def _person_score(question_words: Sequence[str], name: str) -> tuple[float, str]:
    """(how well, by which question word) the question names this person."""
    parts = [w for w in with_parts(content_words(name)) if len(w) >= MIN_NAME_PART]
    scored = [(word_similarity(q, part), q) for q in question_words for part in parts]
    return max(scored, default=(0.0, ""))


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
    if not words:
        return Mentions()
    people: dict[str, tuple[float, str]] = {}
    for paper in papers:
        for person in (*paper.authors, *([paper.presenter] if paper.presenter else [])):
            if person not in people:
                people[person] = _person_score(words, person)
    # A word that names someone exactly ("chen") doesn't also name look-alikes ("cheng").
    best_for_word: dict[str, float] = {}
    for score, word in people.values():
        best_for_word[word] = max(score, best_for_word.get(word, 0.0))
    named = sorted((p for p, (s, w) in people.items() if s >= NAME_PART_MATCH and s >= best_for_word[w] - 0.02),
                   key=lambda p: -people[p][0])
    compact = _compact(question)
    titles = sorted(((_title_score(words, compact, p.title), p) for p in papers), key=lambda t: -t[0])
    found = tuple(p for s, p in titles if s >= TITLE_MATCH)
    return Mentions(people=tuple(named), papers=found, title_score=titles[0][0] if titles else 0.0)
