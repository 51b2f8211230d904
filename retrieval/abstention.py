"""When the corpus does not support an answer, say so instead of guessing.

Three signals, none of them tied to particular questions:
- the question names something (a model, a dataset, a system) that no summary mentions;
- the question asks for a specific quantity, and the best paper has no sentence giving a figure
  about what is counted or measured (or does not mention everything the question names);
- nothing in the corpus is semantically or lexically close to the question.
"""

from __future__ import annotations

import re

import Stemmer
from rapidfuzz import fuzz, process

from retrieval.search import SearchResult
from retrieval.text_match import STOPWORDS, content_words
from retrieval.types import Paper

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-+][A-Za-z0-9]+)*")
_QUANTITY = re.compile(
    r"\bhow\s+(?:much|many|fast|faster|slow|slower|large|big|small|long|accurate|well)\b"
    r"|\bwhat(?:'s|\s+is|\s+was)?\s+(?:the\s+)?(?:[\w-]+\s+){0,3}(?:accuracy|percentage|number|score|speed-?up|rate|size|"
    r"cost|latency|throughput|f1|bleu|error)\b", re.I)
# A figure in the evidence: digits, or a number written out ("four soft tokens", "twice as fast").
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|twice|thrice|double|triple|half|dozens?)\b", re.I)

# A metric the question names: the summary must mention it to give its value.
_METRIC = re.compile(r"\b(?:accuracy|percentage|score|speed-?up|rate|latency|throughput|f1|bleu|error|perplexity|"
                     r"auc|miou|recall|precision)\b", re.I)
_STEMMER = Stemmer.Stemmer("english")

# Measured with the local embedder (titles are embedded with each chunk, which lifts every score):
# unrelated questions reach 0.40-0.48 with BM25 below 2; questions about a paper 0.52+ with BM25 2.5+.
MIN_DENSE = 0.35  # below this, nothing in the corpus is about the question
WEAK_DENSE = 0.50  # below this, abstain unless the question's words clearly occur in the best paper
MIN_LEXICAL = 2.5


def named_terms(question: str) -> list[str]:
    """Words that look like names: capitals inside or after the first word, or letters mixed with digits."""
    terms = []
    for index, match in enumerate(_TOKEN.finditer(question)):
        token = match.group(0)
        lowered = token.lower()
        if lowered in STOPWORDS or len(token) < 3:
            continue
        mixed = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        capitalised = any(c.isupper() for c in token[1:]) or (index > 0 and token[0].isupper())
        if mixed or capitalised:
            terms.append(token)
    return terms


def _known(term: str, vocabulary: set[str]) -> bool:
    parts = [p for p in term.lower().split("-") if p]
    if all(p in vocabulary for p in parts) or term.lower().replace("-", "") in vocabulary:
        return True
    if len(term) < 5:
        return False
    close = process.extractOne(term.lower(), vocabulary, scorer=fuzz.ratio, score_cutoff=90)
    return close is not None


def _stems(text: str) -> set[str]:
    return set(_STEMMER.stemWords(content_words(text)))


def _gives_figure(question: str, paper: Paper) -> bool:
    """Whether the paper can state the figure the question asks for.

    It must give some figure (digits or a number in words), and mention the metric the question
    names, if any ("what learning rate", "top-1 accuracy"). "How much text can it process" may be
    answered in words, so a count alone needs only a figure somewhere in the summary.
    """
    if not _NUMBER.search(paper.source_text):
        return False
    metrics = _stems(" ".join(m.group(0) for m in _METRIC.finditer(question)))
    return metrics <= _stems(paper.source_text)


def abstain_reason(question: str, result: SearchResult, vocabulary: set[str], best: Paper | None) -> str | None:
    """A short reason to abstain, or None when the corpus looks like it can answer."""
    if best is None or not result.hits:
        return "nothing in our papers matches"
    unknown = [t for t in named_terms(question) if not _known(t, vocabulary)]
    if unknown:
        return f"none of our papers mention {', '.join(unknown)}"
    if _QUANTITY.search(question):
        text = " ".join(best.source_text.split()).lower()
        missing = [t for t in named_terms(question) if t.lower() not in text]
        if missing or not _gives_figure(question, best):
            return "our summaries don't give that figure"
    if result.top_dense < MIN_DENSE:
        return "nothing in our papers is close to this question"
    if result.top_dense < WEAK_DENSE and result.lexical_scores.get(best.id, 0.0) < MIN_LEXICAL:
        return "nothing in our papers is close to this question"
    return None
