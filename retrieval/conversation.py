"""Follow-ups: resolve "it", "that paper", "the second one" against the previous answer's papers."""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.types import Paper, Turn

_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "last": -1}
_ORDINAL_WORDS = "|".join(_ORDINALS)
# "the second one", "the 3rd paper", or a bare "… the second?" closing the question.
_ORDINAL_REF = re.compile(
    rf"\b(?:the\s+)?({_ORDINAL_WORDS})\s+(?:one|paper|entry|result|summary)\b|\bthe\s+({_ORDINAL_WORDS})\s*[?.!]*\s*$",
    re.I)
_PRONOUN_REF = re.compile(
    r"\b(?:that|this|the\s+same)\s+(?:paper|one|summary|entry|work)\b|\b(?:it|its|they|them|their)\b"
    r"|\b(?:that|this)(?=\s*[?.!]*\s*$)", re.I)


def referenced_paper(question: str, history: Sequence[Turn], papers: dict[str, Paper]) -> tuple[Paper, str] | None:
    """(paper, the words that referred to it) if the question points back at an earlier answer."""
    if not history:
        return None
    previous = next((t for t in reversed(history) if t.paper_ids), None)
    if previous is None:
        return None
    ids = [i for i in dict.fromkeys(previous.paper_ids) if i in papers]
    if not ids:
        return None
    ordinal = _ORDINAL_REF.search(question)
    if ordinal:
        index = _ORDINALS[(ordinal.group(1) or ordinal.group(2)).lower()]
        if index < len(ids):
            return papers[ids[index]], ordinal.group(0)
        return None
    pronoun = _PRONOUN_REF.search(question)
    if pronoun:
        return papers[ids[0]], pronoun.group(0)
    return None


def resolve(question: str, history: Sequence[Turn], papers: dict[str, Paper]) -> tuple[str, Paper | None]:
    """The question with its back-reference replaced by the paper's title (for retrieval and routing)."""
    found = referenced_paper(question, history, papers)
    if not found:
        return question, None
    paper, words = found
    if words.lower() in ("its", "their"):
        return question.replace(words, f"{paper.title}'s", 1), paper
    return question.replace(words, paper.title, 1), paper
