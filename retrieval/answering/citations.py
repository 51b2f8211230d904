"""Citations are checked by code: every snippet must be verbatim corpus text.

An answerer writes ``[n]`` markers that refer to evidence passages. Here they become citations
numbered 1..k (best evidence first), each quoting the sentence of its passage that the answer
used: for an LLM's answer, the sentence its claim check found (`retrieval.llm.claims`). Markers that
point at nothing are removed; a snippet that is not verbatim is never returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..llm.answerers.base import Evidence
from ..sentences.split import split_sentences as sentences
from ..types import Citation, Paper

MARKER = re.compile(r"\s?\[(\d{1,3})\]")
_WORD = re.compile(r"[a-z0-9]+")
MAX_SNIPPET_CHARS = 700  # two sentences: an answer and the one it needs before it
# Typographic variants a model may write for the same character (one for one, so offsets hold).
_FOLD = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def collapse(text: str) -> str:
    return " ".join(text.split())


def fold(text: str) -> str:
    """Text for comparing quotes: whitespace collapsed, lower case, typographic quotes and dashes plain."""
    return collapse(text).translate(_FOLD).lower()


def quoted_sentences(passage: str, quote: str) -> list[str]:
    """The passage's sentences (verbatim) that hold ``quote``; [] when the passage doesn't hold it."""
    wanted = fold(quote)
    if not wanted:
        return []
    candidates = sentences(passage) or [collapse(passage)]
    folded = [fold(s) for s in candidates]
    for size in range(1, 4):  # the fewest sentences that hold it
        for start in range(len(candidates) - size + 1):
            if wanted in " ".join(folded[start:start + size]):
                return candidates[start:start + size]
    return []


def is_verbatim(snippet: str, paper: Paper) -> bool:
    """True when every '…'-separated piece of the snippet occurs in the paper's corpus text."""
    source = collapse(paper.source_text)
    pieces = [collapse(p) for p in snippet.split("…") if collapse(p)]
    return bool(pieces) and all(piece in source for piece in pieces)


def _overlap(a: str, b: str) -> float:
    """How much of claim ``a`` sentence ``b`` covers (shorter sentences win ties)."""
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(wa & wb) - 0.01 * len(wb)


def best_sentence(passage: str, claim: str) -> str:
    """The sentence of the passage that the claim most overlaps with (trimmed to a readable length)."""
    candidates = sentences(passage) or [collapse(passage)]
    chosen = max(candidates, key=lambda s: _overlap(claim, s))
    if len(chosen) > MAX_SNIPPET_CHARS:
        chosen = chosen[:MAX_SNIPPET_CHARS].rsplit(" ", 1)[0]
    return chosen


def _claims(text: str) -> list[tuple[int, str]]:
    """(marker number, the text the marker closes) for each marker in the answer."""
    out, start = [], 0
    for match in MARKER.finditer(text):
        out.append((int(match.group(1)), text[start:match.start()]))
        start = match.end()
    return out


def _snippet(item: Evidence, claim: str, quotes: Sequence[str]) -> str:
    """The passage's sentences a claim check (or the reader) found, else the sentence the claim most
    overlaps with."""
    found: list[str] = []
    for quote in quotes:
        held = " ".join(quoted_sentences(item.text, quote) or quoted_sentences(item.paper.text, quote))
        if held and held not in found:
            found.append(held)
    if not found:
        return best_sentence(item.text, claim)
    snippet = " … ".join(found[:2])  # what two claims quoted from different places
    if len(snippet) > MAX_SNIPPET_CHARS:
        snippet = found[0][:MAX_SNIPPET_CHARS].rsplit(" ", 1)[0]
    return snippet


def cite(text: str, evidence: Sequence[Evidence],
         quotes: Mapping[int, Sequence[str]] | None = None) -> tuple[str, list[Citation]]:
    """Turn an answerer's [n] markers into verified citations; return (answer text, citations).

    ``quotes`` (evidence number -> the passage text claim checks found) picks each snippet.
    """
    by_n = {e.n: e for e in evidence}
    used: dict[int, str] = {}
    for n, claim in _claims(text):
        if n in by_n and n not in used:
            used[n] = claim
    # Best evidence first: citations are ordered by relevance and numbered in that order.
    ordered = sorted(used, key=lambda n: -by_n[n].score)
    number = {old: new for new, old in enumerate(ordered, start=1)}
    citations = []
    for old in ordered:
        item = by_n[old]
        snippet = _snippet(item, used[old], (quotes or {}).get(old, ()))
        if not is_verbatim(snippet, item.paper):
            number.pop(old)
            continue
        citations.append(Citation(n=len(citations) + 1, paper_id=item.paper.id, title=item.paper.title,
                                  source=item.paper.source, snippet=snippet, score=item.score,
                                  url=item.paper.url))
        number[old] = len(citations)

    def renumber(match: re.Match) -> str:
        old = int(match.group(1))
        return f" [{number[old]}]" if old in number else ""

    answer = MARKER.sub(renumber, text)
    answer = re.sub(r"(\[\d+\])(\s*\1)+", r"\1", answer)  # "[1] [1]" -> "[1]"
    return answer.strip(), citations
