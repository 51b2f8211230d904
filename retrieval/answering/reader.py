"""The reader: which sentence of a summary states the answer, and whether any does.

For each quotable sentence of a paper it computes a handful of features — how close the sentence
is to the question in meaning, how much of what the question asks (its detail words, exactly and
as near words) the sentence and the sentence before it hold, whether the sentence holds the kind
of answer the question asks for (a figure for "how much", a name for "what is it called", a
mechanism for "how", an outcome for "did it work", the main idea for "tl;dr"), where it stands,
and whether it opens with "This/It" and needs the sentence before — and boosted trees
(`retrieval.questions.tree_model`) fitted on labelled (question -> answering sentence) pairs
(`paperbot eval --fit`) turn them into the probability that the sentence states the answer.

The best sentence's probability, with a few figures about the paper, is what the near-miss
decision ("our summary doesn't state that") reads (`READING_FEATURES`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from ..questions.question_text import asked_kinds
from ..questions.signals import coverage, max_missing
from ..questions.tree_model import TreeModel

if TYPE_CHECKING:
    from ..index.corpus_index import CorpusIndex
    from ..sentences.paper_sentences import SentenceIndex
    from ..questions.signals import Question

MAX_QUOTED = 2
SECOND_SHARE = 0.35  # chosen on the training split: fact quoted 0.74 with 1.6 pieces a question, 0.61 with one

_NUMBER = re.compile(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|"
                     r"million|billion|twice|thrice|double|triple|half|dozen|times|fold)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b(?:[A-Z][a-z]*[A-Z0-9][A-Za-z0-9-]*|[A-Z]{2,}[A-Za-z0-9-]*)\b|“[^”]+”|\"[^\"]+\"|"
                   r"\b(?:called|named|term(?:ed)?|dubbed|known as)\b")
_MECHANISM = re.compile(r"\b(?:by|using|uses?|via|through|instead|replac\w*|introduc\w*|propos\w*|consists?|learns?|"
                        r"computes?|applies|applying|combin\w*|based on|relies|leverag\w*|encod\w*|predict\w*)\b", re.I)
_RESULT = re.compile(r"\b(?:outperform\w*|achiev\w*|improv\w*|better|faster|fewer|state-of-the-art|sota|beats?|"
                     r"results?|shows?|demonstrat\w*|surpass\w*|gains?|reduc\w*|accuracy|speed-?up|works?|"
                     r"comparable|competitive|worse)\b|%", re.I)
_CAUSE = re.compile(r"\b(?:because|since|due to|so that|in order to|needs?|reason|motivat\w*|problem|challeng\w*|"
                    r"suffers?|limit\w*|unfortunately|however)\b", re.I)
_GIST = re.compile(r"\b(?:we (?:propose|present|introduce)|this paper|the paper|in this work|the authors?|main "
                   r"contribution|the idea|the key idea|propos\w*|introduc\w*|presents?)\b", re.I)
_ANAPHOR = re.compile(r"^(?!this (?:paper|work|study|summary|article|post)\b)(?:this|these|that|those|it|its|they|"
                      r"their|such|the former|the latter|here|thus|therefore|hence|as a result|in addition|"
                      r"furthermore|moreover|however)\b", re.I)
_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:\\?%|x\b|×|times\b|-fold\b)|\d+\.\d+")
_DEFINES = re.compile(r"\b(?:is an?|are|refers? to|consists? of|we (?:propose|present|introduce|design)|in this (?:paper|work)|"
                      r"main contribution|key idea|the idea)\b", re.I)
_AFFIRM = re.compile(r"\b(?:not|no|never|cannot|can't|doesn't|don't|fails?|without)\b", re.I)

READER_FEATURES = (
    "dense", "dense_below_best", "coverage", "coverage_below_best", "near_coverage", "context_coverage",
    "quantity_asked_and_given", "quantity_asked_not_given", "has_number",
    "name_asked_and_given", "how_asked_and_mechanism", "result_asked_and_given", "why_asked_and_cause",
    "gist_asked_and_early", "gist_asked_and_stated", "gist_asked_and_dense",
    "yes_no_asked_and_negation", "position", "is_first", "needs_sentence_before", "log_words",
    "matched_weight", "near_coverage_below_best", "before_coverage", "after_coverage", "dense_rank", "coverage_rank",
    "figures", "quantity_asked_and_figures", "gist_asked_and_defines", "dense_times_coverage",
    "answer_match", "answer_match_below_best", "answer_match_rank",
)
_ANSWER_MATCH = READER_FEATURES.index("answer_match")
READING_FEATURES = (
    "best_probability", "best_log_odds", "second_probability", "best_dense", "best_coverage",
    "best_near_coverage", "paper_detail_coverage", "max_missing_detail_idf", "detail_words",
    "quantity_asked", "quantity_asked_not_given", "gist_asked", "paper_dense",
    "specific_words_missing", "detail_missing_near_share", "best_answer_match", "answer_match_of_best",
)


@dataclass(frozen=True)
class Read:
    """One sentence as the reader judged it."""

    text: str
    probability: float  # that it states the answer
    dense: float
    coverage: float
    near_coverage: float
    before: str | None  # the sentence before it, quoted with it when it needs it
    needs_before: bool
    position: int  # its place in the summary
    answer_match: float = 0.0  # how well it answers the question, by the answer matcher


@dataclass(frozen=True)
class Reading:
    """A paper read for one question: its sentences, best first, and the figures about them."""

    paper_id: str
    ranked: tuple[Read, ...]
    features: tuple[float, ...]  # READING_FEATURES

    @property
    def best(self) -> Read | None:
        return self.ranked[0] if self.ranked else None

    def quote(self, second_share: float = SECOND_SHARE) -> list[str]:
        """What to quote, the likeliest answer first: the answering sentence (with the sentence before
        it when it needs it), and a second one when it is at least ``second_share`` as likely;
        sentences that touch are read as one run."""
        if not self.ranked:
            return []
        chosen = [self.ranked[0]]
        for read in self.ranked[1:MAX_QUOTED]:
            if read.probability >= second_share * chosen[0].probability:
                chosen.append(read)
        runs: list[tuple[float, list[str]]] = []  # (best probability in it, consecutive sentences)
        for read in sorted(chosen, key=lambda r: r.position):
            run = [read.before, read.text] if read.needs_before and read.before else [read.text]
            last = runs[-1][1] if runs else None
            if last and (run[0] in last or (read.before is not None and read.before == last[-1])):
                last.extend(s for s in run if s not in last)  # touches the run before: read on
                runs[-1] = (max(runs[-1][0], read.probability), last)
            else:
                runs.append((read.probability, run))
        return [" ".join(run) for _, run in sorted(runs, key=lambda r: -r[0])]


def _stem_set(index: "CorpusIndex", text: str) -> set[str]:
    return set(index.stems(text, joined=True))


def _near_coverage(weights: dict[str, float], present: set[str]) -> float:
    """Coverage counting a word as present when a sentence word shares its first five letters
    ("faster" / "fast", "parameterised" / "parameters"): words said in another form."""
    total = sum(weights.values())
    if not total:
        return 0.0
    prefixes = {p[:5] for p in present if len(p) >= 4}
    return sum(w for s, w in weights.items() if s in present or (len(s) >= 4 and s[:5] in prefixes)) / total


def detail_weights(q: "Question", paper_id: str, index: "CorpusIndex") -> dict[str, float]:
    """The question's words beyond those naming the paper: what it asks about the paper."""
    title = _stem_set(index, index.paper_heading(index.papers[paper_id]))
    weights = q.idf(index)
    return {s: w for s, w in weights.items() if s not in title} or dict(weights)


def sentence_features(q: "Question", paper_id: str, index: "CorpusIndex", sentences: "SentenceIndex"):
    """(the paper's sentences, their feature rows as an (n, len(READER_FEATURES)) array, extras)."""
    found = sentences.of(index.papers[paper_id])
    n = len(found.texts)
    if not n:
        return found, np.zeros((0, len(READER_FEATURES))), []
    dense = found.similarities(q.embedding).astype(np.float64)
    answers = found.answer_similarities(q.answer_query(sentences)).astype(np.float64)
    answer_rank = np.argsort(np.argsort(-answers))
    weights = detail_weights(q, paper_id, index)
    kinds = asked_kinds(q.text)
    stems = [_stem_set(index, t) for t in found.texts]
    covered = np.array([coverage(weights, s) for s in stems])
    near = np.array([_near_coverage(weights, s) for s in stems])
    rows, extras = [], []
    total = max(found.count, 1)
    top = math.log(len(index.paper_ids) + 1) + math.log(2)
    matched = [sum(w for st, w in weights.items() if st in stems[i]) / top for i in range(n)]
    dense_rank = np.argsort(np.argsort(-dense))
    coverage_rank = np.argsort(np.argsort(-covered, kind="stable"), kind="stable")
    for i, text in enumerate(found.texts):
        before = found.before[i] if found.before else None
        context = coverage(weights, stems[i] | (_stem_set(index, before) if before else set()))
        number = bool(_NUMBER.search(text))
        position = (found.positions[i] if found.positions else i) / total
        needs_before = bool(_ANAPHOR.match(text)) and before is not None
        rows.append([
            dense[i], dense[i] - dense.max(), covered[i], covered[i] - covered.max(), near[i], context,
            float(kinds["quantity"] and number), float(kinds["quantity"] and not number), float(number),
            float(kinds["name"] and bool(_NAME.search(text))), float(kinds["how"] and bool(_MECHANISM.search(text))),
            float(kinds["result"] and bool(_RESULT.search(text))), float(kinds["why"] and bool(_CAUSE.search(text))),
            float(kinds["gist"]) * (1.0 - position), float(kinds["gist"] and bool(_GIST.search(text))),
            float(kinds["gist"]) * dense[i], float(kinds["yes_no"] and bool(_AFFIRM.search(text))),
            position, float(i == 0), float(needs_before), math.log1p(len(text.split())),
            matched[i], near[i] - near.max(), float(covered[i - 1]) if i else 0.0,
            float(covered[i + 1]) if i + 1 < n else 0.0, 1.0 / (1 + dense_rank[i]), 1.0 / (1 + coverage_rank[i]),
            float(len(_FIGURE.findall(text))), float(kinds["quantity"]) * len(_FIGURE.findall(text)),
            float(kinds["gist"] and bool(_DEFINES.search(text))), dense[i] * covered[i],
            answers[i], answers[i] - answers.max(), 1.0 / (1 + answer_rank[i]),
        ])
        extras.append((before, needs_before))
    return found, np.asarray(rows, dtype=np.float64), extras


class Reader:
    """Ranks a paper's sentences by the fitted probability that each states the answer."""

    def __init__(self, model: TreeModel):
        self.model = model

    def read(self, q: "Question", paper_id: str, index: "CorpusIndex", sentences: "SentenceIndex") -> Reading:
        cached = q.readings.get(paper_id)
        if cached is not None:
            return cached
        found, x, extras = sentence_features(q, paper_id, index, sentences)
        probabilities = self.model.positive_probabilities(x) if len(x) else np.zeros(0)
        reads = [Read(text=found.texts[i], probability=float(probabilities[i]), dense=float(x[i, 0]),
                      coverage=float(x[i, 2]), near_coverage=float(x[i, 4]), before=extras[i][0],
                      needs_before=extras[i][1], position=i, answer_match=float(x[i, _ANSWER_MATCH]))
                 for i in range(len(x))]
        reads.sort(key=lambda r: -r.probability)
        reading = Reading(paper_id, tuple(reads), tuple(_reading_features(q, paper_id, reads, index)))
        q.readings[paper_id] = reading
        return reading


def _reading_features(q: "Question", paper_id: str, reads: list[Read], index: "CorpusIndex") -> list[float]:
    weights = detail_weights(q, paper_id, index)
    kinds = asked_kinds(q.text)
    present = index.paper_stems.get(paper_id, frozenset())
    best = reads[0] if reads else None
    p = min(max(best.probability if best else 0.0, 1e-6), 1 - 1e-6)
    quantity_given = any(_NUMBER.search(r.text) for r in reads[:2])
    # Specific words of the question the summary has in no form ("optimizer", "GPUs", "epsilon").
    prefixes = {st[:5] for st in present if len(st) >= 4}
    missing = [st for st in weights if st not in present and not (len(st) >= 4 and st[:5] in prefixes)]
    specific_missing = sum(1 for st in missing if q.specific.get(st, 0.0) >= 0.5)
    return [p, math.log(p / (1 - p)), reads[1].probability if len(reads) > 1 else 0.0,
            best.dense if best else 0.0, best.coverage if best else 0.0, best.near_coverage if best else 0.0,
            coverage(weights, present), max_missing(weights, present, index), math.log1p(len(weights)),
            float(kinds["quantity"]), float(kinds["quantity"] and not quantity_given), float(kinds["gist"]),
            q.result.dense_scores.get(paper_id, 0.0), float(min(specific_missing, 3)),
            1.0 - _near_coverage(weights, set(present)),
            max((r.answer_match for r in reads), default=0.0), best.answer_match if best else 0.0]
