"""The offline answerer: the sentences of the evidence that answer the question, verbatim, each cited.

It quotes the reader's choice (`retrieval.answering.reader`) when the evidence carries one; otherwise
sentences are scored by the reader's probabilities when known, else by shared words alone.
Deterministic and instant; it never states anything the summaries don't say word for word.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ....prompts import CANNOT_ANSWER
from .base import Draft, Evidence
from ...sentences.split import split_sentences as sentences
from ...index.text_match import content_words
from ...sentences.split import is_quotable
from ...types import Turn

MAX_SENTENCES = 2
KEEP_SHARE = 0.85  # a further sentence must score this share of the best one


def _lexical(question_words: set[str], sentence: str) -> float:
    words = set(content_words(sentence))
    if not words:
        return 0.0
    hits = question_words & words
    # Longer (rarer) words carry more meaning than short ones.
    return sum(min(len(w), 10) for w in hits) / (len(words) ** 0.3) / 20.0


class LocalAnswerer:
    name = "local"
    streams_progress = False  # answers in milliseconds
    checks_claims = False  # quotes the summaries word for word
    judges_near_misses = False  # the fitted near-miss decision judges for it

    def __init__(self, settings=None):
        self.settings = settings

    def extract(self, question: str, evidence: Sequence[Evidence]) -> Draft:
        """The extractive answer (also what LLM answerers fall back to)."""
        if not evidence:
            return Draft(text="", abstained=True)
        quoted = next((e for e in evidence if e.quote), None)
        if quoted is not None:  # the reader's choice: the answer, with the sentence before it when needed
            return Draft(text=f"{' … '.join(quoted.quote)} [{quoted.n}]")
        question_words = set(content_words(question))
        candidates = []
        for rank, item in enumerate(evidence):
            for position, sentence in enumerate(sentences(item.text)):
                if not is_quotable(sentence) or (position == 0 and sentence[:1].islower()):
                    continue  # a caption or heading, or half a sentence where a chunk starts
                known = (item.sentence_scores or {}).get(sentence)
                score = known if known is not None else _lexical(question_words, sentence)
                # Earlier evidence is more relevant: a small prior breaks ties in its favour.
                candidates.append((score + 0.02 / (rank + 1), rank, position, sentence, item))
        if not candidates:
            return Draft(text="", abstained=True)
        # Retrieval ranked the papers: quote the best paper's sentences that answer best.
        candidates = [c for c in candidates if c[4].paper.id == evidence[0].paper.id] or candidates
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
        best_score, best_paper = candidates[0][0], candidates[0][4].paper.id
        chosen: list[tuple[float, int, int, str, Evidence]] = []
        for candidate in candidates:
            score, _, _, sentence, item = candidate
            if len(chosen) >= MAX_SENTENCES or score < KEEP_SHARE * best_score:
                break
            if item.paper.id == best_paper and all(sentence != c[3] for c in chosen):
                chosen.append(candidate)
        # Read in the summary's own order.
        chosen.sort(key=lambda c: (c[1], c[2]))
        return Draft(text=" ".join(f"{c[3]} [{c[4].n}]" for c in chosen))

    def stream(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn] = (), *,
               deadline=None) -> Iterator[str]:
        """Instant, so the deadline never matters; abstaining is the cannot-answer sentinel, as for LLMs."""
        draft = self.extract(question, evidence)
        yield CANNOT_ANSWER if draft.abstained else draft.text
