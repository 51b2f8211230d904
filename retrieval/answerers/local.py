"""The offline answerer: the answer is the evidence's most relevant sentences, verbatim, each cited.

Deterministic and instant; it never states anything the summaries don't say word for word.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from retrieval.answerers.base import Draft, Evidence
from retrieval.citations import sentences
from retrieval.text_match import content_words
from retrieval.types import Turn

MAX_SENTENCES = 3
MAX_PER_PAPER = 2


def _score(question_words: set[str], sentence: str) -> float:
    words = set(content_words(sentence))
    if not words:
        return 0.0
    hits = question_words & words
    # Longer (rarer) words carry more meaning than short ones.
    return sum(min(len(w), 10) for w in hits) / (len(words) ** 0.3)


class LocalAnswerer:
    name = "local"

    def __init__(self, settings=None):
        self.settings = settings

    def answer(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Draft:
        if not evidence:
            return Draft(text="", abstained=True)
        question_words = set(content_words(question))
        candidates = []
        for rank, item in enumerate(evidence):
            for position, sentence in enumerate(sentences(item.text)):
                if position == 0 and sentence[:1].islower():
                    continue  # a chunk may start mid-sentence: don't quote half a sentence
                # Earlier evidence is more relevant: a small prior breaks ties in its favour.
                score = _score(question_words, sentence) + 0.6 / (rank + 1)
                candidates.append((score, rank, position, sentence, item))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        best = candidates[0][0]
        chosen, per_paper = [], {}
        for score, rank, position, sentence, item in candidates:
            if len(chosen) >= MAX_SENTENCES or score < 0.5 * best:
                break
            if per_paper.get(item.paper.id, 0) >= MAX_PER_PAPER or any(sentence == c[3] for c in chosen):
                continue
            per_paper[item.paper.id] = per_paper.get(item.paper.id, 0) + 1
            chosen.append((score, rank, position, sentence, item))
        # Read in evidence order, and in the summary's own order within a passage.
        chosen.sort(key=lambda c: (c[1], c[2]))
        return Draft(text=" ".join(f"{c[3]} [{c[4].n}]" for c in chosen))

    def stream(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = ()) -> Iterator[str]:
        yield self.answer(question, evidence, history).text
