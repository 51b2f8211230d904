"""Several questions in one message ("what threshold do they use? and who presented it?").

Each part is answered as a question of its own, later parts seeing the earlier parts' answers as
the conversation so far (so "who presented it?" is about the paper the first part found), and
the answers are joined into one, their citations renumbered in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ..answering.citations import MARKER
from ..types import Answer

MAX_PARTS = 3
_MIN_WORDS = 2
_ASKS = r"(?:who|whom|whose|what|what's|whats|how|which|why|when|where|does|do|did|is|are|was|were|can|could|has|have)\b"
# A part ends at a question mark when more follows, and before ", and / ; also / plus" that starts
# a new question ("who wrote muzero, and how does it do on atari?").
_PART_END = re.compile(r"(?<=\?)\s+(?=\S)|[,;]\s+(?=(?:and|also|plus)\s+" + _ASKS + r")|\s+(?=also\s+" + _ASKS + r")",
                       re.IGNORECASE)


# "what's the core trick and how much throughput do they get": a second question word after a bare
# "and" starts a new question when both sides are questions of their own (not "who wrote and who presented X").
_AND_ASKS = re.compile(r"\s+(?=and\s+(?:who|whom|whose|what|what's|whats|how|which|why|when|where)\b)", re.IGNORECASE)
_MIN_SIDE_WORDS = 4


def _at_bare_and(part: str) -> list[str]:
    pieces = [part]
    for match in reversed(list(_AND_ASKS.finditer(part))):
        left, right = part[:match.start()], part[match.end():]
        if len(left.split()) >= _MIN_SIDE_WORDS and len(right.split()) >= _MIN_SIDE_WORDS:
            return [*_at_bare_and(left), right]
    return pieces


def split_parts(question: str) -> list[str]:
    """The message's questions, in order; one part when it asks one thing."""
    parts = [piece.strip() for p in _PART_END.split(question.strip()) if p.strip() for piece in _at_bare_and(p.strip())]
    merged: list[str] = []
    for part in parts:
        if merged and len(part.split()) < _MIN_WORDS:
            merged[-1] = f"{merged[-1]} {part}"  # "really?" or a stray word is not a question of its own
        else:
            merged.append(part)
    if len(merged) > MAX_PARTS:
        merged = [*merged[:MAX_PARTS - 1], " ".join(merged[MAX_PARTS - 1:])]
    return merged


def _shift(text: str, by: int) -> str:
    return MARKER.sub(lambda m: f" [{int(m.group(1)) + by}]", text) if by else text


def join_answers(question: str, answers: Sequence[Answer]) -> Answer:
    """One answer from the parts' answers: texts in order, citations renumbered to follow on."""
    texts, citations, papers, notes = [], [], [], []
    for answer in answers:
        base = len(citations)
        texts.append(_shift(answer.answer, base).strip())
        citations.extend([replace(c, n=base + c.n) for c in answer.citations])
        papers.extend(p for p in answer.paper_ids if p not in papers)
        if answer.note and answer.note not in notes:
            notes.append(answer.note)
    first = answers[0]
    return Answer(question=question, answer="\n".join(texts), abstained=all(a.abstained for a in answers),
                  citations=citations, note=" ".join(notes) or None,
                  suggestions=[] if not all(a.abstained for a in answers) else first.suggestions,
                  answerer=first.answerer, paper_ids=papers)
