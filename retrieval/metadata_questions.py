"""Questions about who wrote or presented what, answered exactly from the catalog.

"who wrote Reformer?", "who presented the soft sorting paper?", "which papers did Hongbo Tian
present?", "anything by Kaiming He?". The paper in question is found by title (typo-tolerant)
or, failing that, by retrieval; people are matched against every author and presenter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from retrieval.types import Paper

_WHO_WROTE = re.compile(
    r"\bwho\s+(?:wrote|authored|are\s+the\s+authors?\s+(?:of|for|on)|is\s+the\s+author\s+(?:of|for)|were\s+the\s+authors\s+of)\s+(?P<what>.+)",
    re.I)
_AUTHORS_OF = re.compile(r"\b(?:authors?|writers?)\s+(?:of|for|on|behind)\s+(?P<what>.+)", re.I)
_WHO_PRESENTED = re.compile(r"\bwho\s+(?:presented|presents|is\s+presenting|was\s+the\s+presenter\s+(?:of|for))\s+(?P<what>.+)", re.I)
_PRESENTER_OF = re.compile(r"\bpresenter\s+(?:of|for)\s+(?P<what>.+)", re.I)
_PRESENTED_BY = re.compile(
    r"(?:\bpresented\s+by\s+(?P<a>.+)|\b(?:did|has|have)\s+(?P<b>.+?)\s+presents?(?:ed)?\b|\b(?P<c>[A-Z][\w.-]+(?:\s+[A-Z][\w.-]+)+)\s+presented\b)")
_BY_PERSON = re.compile(
    r"\b(?:papers?|anything|something|work|summaries)\s+(?:by|from|written\s+by|authored\s+by|of)\s+(?P<a>.+)"
    r"|\b(?:what|which)\s+(?:has|did)\s+(?P<b>.+?)\s+(?:written|write|authored|author)\b"
    r"|\bwritten\s+by\s+(?P<c>.+)", re.I)

_FILLER = re.compile(r"^(?:the|a|an)\s+|\s+(?:paper|one|summary|entry)$|[?.!]+$|^[\"'“]|[\"'”]$", re.I)
NAME_MATCH = 85


@dataclass(frozen=True)
class MetadataAnswer:
    kind: str  # "authors" | "presenter" | "by_presenter" | "by_author"
    papers: tuple[Paper, ...]
    person: str | None = None


def _clean(fragment: str) -> str:
    fragment = fragment.strip()
    for _ in range(3):
        fragment = _FILLER.sub("", fragment).strip()
    return fragment


def _people(papers: Sequence[Paper], kind: str) -> set[str]:
    if kind == "presenter":
        return {p.presenter for p in papers if p.presenter}
    return {a for p in papers for a in p.authors}


def match_person(name: str, papers: Sequence[Paper], kind: str) -> str | None:
    """The known author/presenter the name refers to (typo-tolerant), if any."""
    name = _clean(name)
    if len(name) < 3:
        return None
    best, best_score = None, 0.0
    for person in _people(papers, kind):
        score = max(fuzz.token_set_ratio(name.lower(), person.lower()),
                    fuzz.ratio(name.lower(), person.lower()))
        # A surname alone ("anything by Kitaev") should match too.
        if name.lower() in person.lower().split():
            score = max(score, 95)
        if score > best_score:
            best, best_score = person, score
    return best if best_score >= NAME_MATCH else None


def match_title(fragment: str, papers: Sequence[Paper]) -> Paper | None:
    fragment = _clean(fragment).lower()
    if len(fragment) < 3:
        return None
    best, best_score = None, 0.0
    for paper in papers:
        title = paper.title.lower()
        short = re.split(r"[:(]", title)[0].strip()  # "Reformer: The Efficient Transformer" -> "reformer"
        score = max(fuzz.ratio(fragment, title), fuzz.ratio(fragment, short),
                    fuzz.partial_ratio(fragment, title) if len(fragment) >= 8 else 0)
        if score > best_score:
            best, best_score = paper, score
    return best if best_score >= 85 else None


def answer_metadata(question: str, papers: Sequence[Paper],
                    find_paper: Callable[[str], Paper | None]) -> MetadataAnswer | None:
    """A catalog answer if the question is about authors/presenters, else None."""
    for pattern, kind in ((_WHO_WROTE, "authors"), (_AUTHORS_OF, "authors"),
                          (_WHO_PRESENTED, "presenter"), (_PRESENTER_OF, "presenter")):
        match = pattern.search(question)
        if match:
            what = match.group("what")
            paper = match_title(what, papers) or find_paper(_clean(what))
            return MetadataAnswer(kind, (paper,)) if paper else None
    for pattern, kind, field_kind in ((_PRESENTED_BY, "by_presenter", "presenter"), (_BY_PERSON, "by_author", "authors")):
        match = pattern.search(question)
        if match:
            raw = next(g for g in match.groups() if g)
            person = match_person(raw, papers, field_kind)
            if person:
                if field_kind == "presenter":
                    found = tuple(p for p in papers if p.presenter == person)
                else:
                    found = tuple(p for p in papers if person in p.authors)
                return MetadataAnswer(kind, found, person)
    return None


def header_line(paper: Paper, label: str) -> str | None:
    """The verbatim header text naming the authors or presenter (blog papers carry them)."""
    text = " ".join(paper.header.split())
    if not text:
        return None
    if label == "presenter":
        match = re.search(r"Presenter:\s*[^\n]+$", text)
        return match.group(0) if match else None
    match = re.search(r"Authors:.*?(?=\s*Presenter:|$)", text)
    return match.group(0) if match else None
