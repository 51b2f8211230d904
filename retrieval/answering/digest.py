"""What goes into the weekly digest: pure selection, with the clock passed in.

    select_digest(papers, now=…, since=…, questions=[(text, asked_at)], featured={id: when})

picks the papers added since the last digest, the questions asked most this week (near
duplicates grouped, never who asked), one paper "from the archive" that was not featured
recently, and the week's topics. Rendering and posting live in ``bot/digest.py``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from rapidfuzz import fuzz

from ..questions.lookup import normalize
from .tldr import tldr
from ..types import Paper

WEEK = timedelta(days=7)
ARCHIVE_COOLDOWN = timedelta(weeks=12)  # a paper featured from the archive rests this long
SAME_QUESTION = 85  # token-set similarity (0-100) at which two questions count as one
MAX_QUESTIONS = 5
MAX_TOPICS = 5

_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers how i if in into is it its itself just like made make many may me
    might more most much must my new no nor not now of off on once one only or other our out over own
    paper papers per propose proposed same she should show shows so some such than that the their them
    then there these they this those through to too two under until up us use used uses using very via
    was we well were what when where which while who whom why will with within without work would you
    your yet based approach approaches method methods results result present presents study studies
    existing recent however first different various including large often across without achieve
    achieves performance tasks task model models state art""".split()
)

# Too general to be a topic alone, fine inside a phrase ("active learning").
_GENERIC_WORDS = frozenset(
    "neural network networks learning deep training data machine efficient simple architecture architectures".split()
)


@dataclass(frozen=True)
class DigestPeriod:
    """One digest week: the ISO week of the digest's time zone."""

    key: str  # e.g. "2025-W07": the unique key a posted digest is claimed under
    start: datetime  # Monday 00:00 local time, timezone-aware
    end: datetime  # the next Monday 00:00

    @classmethod
    def of(cls, moment: datetime, tz: tzinfo) -> "DigestPeriod":
        local = moment.astimezone(tz)
        year, week, weekday = local.isocalendar()
        monday = (local - timedelta(days=weekday - 1)).date()
        start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
        following = monday + WEEK
        return cls(f"{year}-W{week:02d}", start, datetime(following.year, following.month, following.day, tzinfo=tz))


@dataclass(frozen=True)
class DigestPaper:
    paper_id: str
    title: str
    source: str
    tldr: str
    url: str | None
    added_by: str | None
    added: datetime | None


@dataclass(frozen=True)
class PopularQuestion:
    text: str  # the wording asked most often within its group
    count: int


@dataclass(frozen=True)
class Digest:
    period: DigestPeriod
    since: datetime
    now: datetime
    new_papers: tuple[DigestPaper, ...]
    questions: tuple[PopularQuestion, ...]
    archive_pick: DigestPaper | None
    topics: tuple[str, ...]
    corpus_size: int

    @property
    def has_news(self) -> bool:
        return bool(self.new_papers)


def select_digest(
    papers: Sequence[Paper],
    *,
    now: datetime,
    tz: tzinfo = timezone.utc,
    since: datetime | None = None,
    questions: Sequence[tuple[str, datetime]] = (),
    featured: Mapping[str, datetime] | None = None,
) -> Digest:
    """The digest for the week of ``now``; ``since`` is when the last digest went out."""
    since = since or now - WEEK
    new = sorted((p for p in papers if p.added and since < p.added <= now), key=lambda p: p.added)
    recent_questions = [text for text, asked_at in questions if now - WEEK < asked_at <= now]
    period = DigestPeriod.of(now, tz)
    new_ids = {p.id for p in new}
    pick = archive_pick(
        [p for p in papers if p.id not in new_ids], period_key=period.key, now=now, featured=featured or {}
    )
    return Digest(
        period=period,
        since=since,
        now=now,
        new_papers=tuple(digest_paper(p) for p in new),
        questions=tuple(popular_questions(recent_questions)),
        archive_pick=digest_paper(pick) if pick else None,
        topics=tuple(week_topics(new, recent_questions, papers)),
        corpus_size=len(papers),
    )


def digest_paper(paper: Paper) -> DigestPaper:
    return DigestPaper(paper.id, paper.title, paper.source, tldr(paper), paper.url, paper.added_by, paper.added)


def popular_questions(questions: Sequence[str], limit: int = MAX_QUESTIONS) -> list[PopularQuestion]:
    """Group near-duplicate questions; the most asked first (ties: the earliest asked)."""
    groups: list[list[str]] = []
    keys: list[str] = []
    for text in questions:
        text = " ".join(text.split())
        key = " ".join(re.findall(r"[a-z0-9]+", normalize(text)))
        if not key:
            continue
        match = next((i for i, k in enumerate(keys) if fuzz.token_set_ratio(key, k) >= SAME_QUESTION), None)
        if match is None:
            groups.append([text])
            keys.append(key)
        else:
            groups[match].append(text)
    ranked = sorted(groups, key=len, reverse=True)  # stable: ties keep the order first asked
    return [PopularQuestion(Counter(g).most_common(1)[0][0], len(g)) for g in ranked[:limit]]


def archive_pick(
    candidates: Sequence[Paper], *, period_key: str, now: datetime, featured: Mapping[str, datetime]
) -> Paper | None:
    """One older paper not featured within the cooldown; the choice is stable within a period."""
    if not candidates:
        return None
    rested = [p for p in candidates if p.id not in featured or now - featured[p.id] >= ARCHIVE_COOLDOWN]
    if not rested:  # everything was featured lately: the one featured longest ago
        return min(candidates, key=lambda p: (featured[p.id], p.id))
    return min(rested, key=lambda p: hashlib.sha256(f"{period_key}\n{p.id}".encode()).hexdigest())


def week_topics(
    new_papers: Sequence[Paper], questions: Sequence[str], corpus: Sequence[Paper], limit: int = MAX_TOPICS
) -> list[str]:
    """Key phrases of this week's papers and questions, weighed against the whole corpus (tf-idf)."""
    weighted_texts = [(p.title, 3.0) for p in new_papers] + [(p.text, 1.0) for p in new_papers]
    weighted_texts += [(q, 2.0) for q in questions]
    weights: Counter[str] = Counter()
    for text, weight in weighted_texts:
        for term, count in Counter(_terms(text)).items():
            weights[term] += weight * min(count, 3)
    if not weights:
        return []
    document_terms = [set(_terms(f"{p.title} {p.text}")) for p in corpus]
    total = len(document_terms)

    def score(term: str) -> float:
        seen_in = sum(term in terms for terms in document_terms)
        bonus = 1.5 if " " in term else 1.0
        return weights[term] * bonus * (math.log((total + 1) / (seen_in + 1)) + 1)

    chosen: list[str] = []
    for term in sorted(weights, key=lambda t: (-score(t), t)):
        if weights[term] < 2.0:  # said once in one summary: not a topic of the week
            continue
        if set(term.split()) & {word for c in chosen for word in c.split()}:
            continue  # "ticket hypothesis" adds nothing after "lottery ticket"
        chosen.append(term)
        if len(chosen) == limit:
            break
    return chosen


def _terms(text: str) -> list[str]:
    """Words of four letters or more and two-word phrases, none of them stop words."""
    terms: list[str] = []
    for clause in re.split(r"[.,;:!?()\[\]\n]", normalize(text)):
        words = re.findall(r"[a-z][a-z0-9-]+", clause)
        for i, word in enumerate(words):
            if word in _STOPWORDS:
                continue
            if len(word) >= 4 and word not in _GENERIC_WORDS:
                terms.append(word)
            following = words[i + 1] if i + 1 < len(words) else ""
            if len(following) >= 3 and following not in _STOPWORDS:
                if not (word in _GENERIC_WORDS and following in _GENERIC_WORDS):  # "neural networks"
                    terms.append(f"{word} {following}")
    return terms
