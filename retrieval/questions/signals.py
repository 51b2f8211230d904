"""The numbers the fitted decisions look at, computed from a question and what retrieval found.

Each ``*_features`` function returns a fixed-length list of floats, in the order of its
``*_FEATURES`` names; `retrieval.questions.decisions` feeds them to the fitted models and
`retrieval.training.fitting` builds training examples with the very same functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .mentions import Mentions
from .question_text import asked_kinds, asks_quantity, referring_words
from ..index.corpus_index import CorpusIndex
from ..index.search import SearchResult
from ..sentences.paper_sentences import SentenceIndex, unit
from ..index.word_rarity import specificity

_HAS_NUMBER = "0123456789"
DISTINCTIVE_WORD = 0.5  # specificity (0 everyday .. 1 rare) of a word that names what only one summary has
_NUMBER_WORDS = frozenset("""two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
hundreds thousand thousands million millions billion billions twice thrice double triple half dozen dozens""".split())


@dataclass
class Question:
    """One question and what was found for it, standalone (before any follow-up resolution)."""

    text: str  # cleaned of Slack markup
    embedding: np.ndarray  # unit length
    result: SearchResult
    mentions: Mentions
    stems: list[str]  # content stems, spelling corrected
    specific: dict[str, float]  # stem -> how specific its word is (0 everyday .. 1 rare)
    _idf: dict[str, float] = field(default_factory=dict)
    readings: dict = field(default_factory=dict)  # paper id -> the reader's Reading, once read
    _answer_query: list = field(default_factory=list)  # the answer matcher's vector, once computed

    def idf(self, index: CorpusIndex) -> dict[str, float]:
        """Weight of each stem: rare in the corpus and specific in everyday language weigh most."""
        if not self._idf:
            self._idf.update({s: index.idf(s) * (0.2 + 0.8 * self.specific[s]) for s in self.stems})
        return self._idf

    def answer_query(self, sentences: SentenceIndex) -> np.ndarray | None:
        """The question as the answer matcher reads it (None without one); computed once."""
        if not self._answer_query:
            matcher = sentences.answer_matcher
            self._answer_query.append(matcher.query(self.text) if matcher else None)
        return self._answer_query[0]


def make_question(text: str, embedding, result: SearchResult, mentions: Mentions, index: CorpusIndex) -> Question:
    found = index.content_words(result.query or text)
    specific: dict[str, float] = {}
    for word, stem in zip(found, index.stemmer.stemWords(found)):
        specific[stem] = max(specific.get(stem, 0.0), specificity(word))
    return Question(text=text, embedding=unit(embedding), result=result, mentions=mentions,
                    stems=list(specific), specific=specific)


def coverage(weights: dict[str, float], present: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for s, w in weights.items() if s in present) / total if total else 0.0


def max_missing(weights: dict[str, float], present, index: CorpusIndex) -> float:
    top = math.log(len(index.paper_ids) + 1) + math.log(2)
    return max((w for s, w in weights.items() if s not in present), default=0.0) / top


def names_one_paper(q: Question, index: CorpusIndex) -> bool:
    """A rare word only one of our summaries has ("bnas", "muzero") names that paper."""
    return any(index.document_frequency.get(s, 0) == 1 and q.specific.get(s, 0.0) >= DISTINCTIVE_WORD for s in q.stems)


def has_number(sentence: str) -> bool:
    return any(c in _HAS_NUMBER for c in sentence) or any(w in _NUMBER_WORDS for w in sentence.lower().split())


# -- route: catalog | topic_list | single | chitchat ------------------------------------------

ROUTE_FEATURES = ("person_named", "title_named", "content_words", "referring_words", "asks_quantity", "asks_gist",
                  "asks_gist_of_a_named_paper")


def route_features(q: Question) -> list[float]:
    extra = [q.mentions.person_score, q.mentions.title_score, math.log1p(len(q.stems)),
             min(referring_words(q.text), 3), float(asks_quantity(q.text))]
    gist = float(asked_kinds(q.text)["gist"])
    extra += [gist, gist * q.mentions.title_score]  # "tl;dr reformer" asks about a paper, it isn't chatter
    return [*q.embedding.tolist(), *extra]


# -- catalog field: who wrote it, or who presented it? ----------------------------------------

CATALOG_FIELD_FEATURES = ("embedding", *ROUTE_FEATURES, "presenting_words", "writing_words")
# The verbs people use for each field, in the group's languages ("who gave the talk", "wer hat es vorgestellt").
_PRESENTING = re.compile(r"\b(?:present\w*|talks?|gave|give|giving|speaker|vorgestellt|vorgetragen|pr[ée]sent\w*|"
                         r"apresent\w*|expuso|charla|expos[ée])\b", re.I)
_WRITING = re.compile(r"\b(?:wr[io]te|writ\w*|authors?\w*|co-?authors?|geschrieben|autor\w*|auteurs?|[ée]crit\w*|"
                      r"escribi\w*|behind)\b", re.I)


def field_named(text: str) -> str | None:
    """The field the question's verbs name when they name just one ("who gave the talk" -> presenter);
    on the training split they never named the wrong one (67 of 67), so the fitted model only
    decides the rest ("pointrend athors pls", "who walked us through muzero?")."""
    presenting, writing = bool(_PRESENTING.search(text)), bool(_WRITING.search(text))
    return ("presenter" if presenting else "authors") if presenting != writing else None


def catalog_field_features(q: Question) -> list[float]:
    return [*route_features(q), float(bool(_PRESENTING.search(q.text))), float(bool(_WRITING.search(q.text)))]


# -- off-corpus: is anything in the corpus about this question? -------------------------------

OFF_CORPUS_FEATURES = ("top_dense", "dense_gap", "best_coverage", "unknown_share", "max_missing_idf",
                       "lexical_strength", "content_words", "rankings_agree", "title_named", "person_named",
                       "best_sentence_dense", "unknown_specific", "names_one_paper", "gist_of_one_paper",
                       "best_sentence_answer_match")


def off_corpus_features(q: Question, index: CorpusIndex, sentences: SentenceIndex) -> list[float]:
    result = q.result
    ranked = result.ranked_papers()
    best = ranked[0] if ranked else None
    weights = q.idf(index)
    dense = sorted(result.dense_scores.values(), reverse=True) + [0.0, 0.0]
    present = index.paper_stems.get(best, frozenset()) if best else frozenset()
    known = {s for s in weights if s in index.document_frequency}
    lexical_top = max(result.lexical_scores.values(), default=0.0)
    dense_top = max(result.dense_scores, key=result.dense_scores.get) if result.dense_scores else None
    lexical_best = max(result.lexical_scores, key=result.lexical_scores.get) if result.lexical_scores else None
    return [dense[0], dense[0] - dense[1], coverage(weights, present), 1.0 - coverage(weights, known),
            max_missing(weights, present, index), lexical_top / (sum(weights.values()) + 1.0),
            math.log1p(len(q.stems)), float(dense_top is not None and dense_top == lexical_best),
            q.mentions.title_score, q.mentions.person_score, _best_sentence_dense(q, best, index, sentences),
            max((q.specific[s] for s in q.stems if s not in index.document_frequency), default=0.0),
            *_one_paper_named(q, index), _best_sentence_answer_match(q, best, index, sentences)]


def _one_paper_named(q: Question, index: CorpusIndex) -> list[float]:
    # "tl;dr muzero": a nickname only one summary uses, asked about on its own, is that paper.
    named = float(names_one_paper(q, index))
    return [named, named * float(asked_kinds(q.text)["gist"])]


def _best_sentence_answer_match(q: Question, paper_id: str | None, index: CorpusIndex,
                                sentences: SentenceIndex) -> float:
    if paper_id is None:
        return 0.0
    return sentences.best_answer_match(index.papers[paper_id], q.answer_query(sentences))


def _best_sentence_dense(q: Question, paper_id: str | None, index: CorpusIndex, sentences: SentenceIndex) -> float:
    if paper_id is None:
        return 0.0
    found = sentences.of(index.papers[paper_id])
    return float(found.similarities(q.embedding).max()) if found.texts else 0.0


# -- topic lists: is this candidate paper about the asked topic? -------------------------------

TOPIC_MEMBER_FEATURES = ("paper_dense", "dense_below_top", "lexical_share", "lexical_strength", "coverage",
                         "inverse_rank", "best_sentence_answer_match")


def topic_member_features(q: Question, paper_id: str, rank: int, index: CorpusIndex,
                          sentences: SentenceIndex) -> list[float]:
    result = q.result
    weights = q.idf(index)
    lexical_top = max(result.lexical_scores.values(), default=0.0)
    lexical = result.lexical_scores.get(paper_id, 0.0)
    dense = result.dense_scores.get(paper_id, 0.0)
    return [dense, result.top_dense - dense, lexical / lexical_top if lexical_top else 0.0,
            lexical / (sum(weights.values()) + 1.0), coverage(weights, index.paper_stems.get(paper_id, frozenset())),
            1.0 / (rank + 1), _best_sentence_answer_match(q, paper_id, index, sentences)]


# -- follow-ups: does the question continue the thread? ----------------------------------------

FOLLOWUP_FEATURES = ("referring_words", "content_words", "title_named", "person_named", "top_dense",
                     "previous_dense", "best_is_previous", "previous_coverage_gain", "asks_quantity")


def followup_features(q: Question, previous: Sequence[str], index: CorpusIndex) -> list[float]:
    result = q.result
    weights = q.idf(index)
    ranked = result.ranked_papers()
    previous_dense = max((result.dense_scores.get(p, 0.0) for p in previous), default=0.0)
    previous_cover = max((coverage(weights, index.paper_stems.get(p, frozenset())) for p in previous), default=0.0)
    best_cover = coverage(weights, index.paper_stems.get(ranked[0], frozenset())) if ranked else 0.0
    return [min(referring_words(q.text), 3), math.log1p(len(q.stems)), q.mentions.title_score,
            q.mentions.person_score, result.top_dense, previous_dense,
            float(bool(ranked) and ranked[0] in previous), previous_cover - best_cover, float(asks_quantity(q.text))]
