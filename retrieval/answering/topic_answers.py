"""Topic lists ("what have we read on pruning?"): every paper the fitted membership model admits.

Members are ranked by relevance; each of the strongest is shown with the sentence of its summary
that best matches the topic, the weaker ones are folded into one closing line, still cited.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..llm.answerers.base import Evidence
from .citations import cite
from ..questions.signals import Question
from ..types import Answer

if TYPE_CHECKING:
    from ..index.corpus_index import CorpusIndex
    from .reader import Reading

SHOWN = 5  # members quoted in full; the rest are folded
STRONG = 0.5  # membership probability of a member quoted in full


def topic_answer(q: Question, members: list[tuple[str, float]], index: "CorpusIndex",
                 read: Callable[[Question, str], "Reading"]) -> Answer:
    """The list, each member shown with the sentence ``read`` (the reader) finds best for the topic."""
    evidence: list[Evidence] = []
    shown: list[str] = []
    folded: list[str] = []
    for paper_id, probability in members:
        best = read(q, paper_id).best
        paper = index.papers[paper_id]
        sentence = best.text if best else " ".join(paper.text.split()[:40])
        item = Evidence(n=len(evidence) + 1, paper=paper, text=sentence, score=probability)
        evidence.append(item)
        if len(shown) < SHOWN and (probability >= STRONG or not shown):
            shown.append(f"• “{paper.title}”: {sentence} [{item.n}]")
        else:
            folded.append(f"“{paper.title}” [{item.n}]")
    header = f"{len(members)} of our papers match:" if len(members) > 1 else "One of our papers matches:"
    lines = [header, *shown]
    if folded:
        lines.append(f"Also related ({len(folded)} more): " + "; ".join(folded) + ".")
    text, citations = cite("\n".join(lines), evidence)
    return Answer(question=q.text, answer=text, abstained=False, citations=citations,
                  paper_ids=[p for p, _ in members])
