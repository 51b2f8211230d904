"""A question in, an answer out: route, retrieve, decide whether to abstain, answer, verify citations.

Separate steps, each in its own module: conversation (follow-ups), metadata_questions (who
wrote/presented what), search (hybrid retrieval), abstention, the answerer (local or LLM) and
citations (verification). Whatever the answerer does, only verified citations come out.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prompts import is_cannot_answer
from retrieval.abstention import abstain_reason
from retrieval.answerers.base import AnswererUnavailable, Draft, Evidence
from retrieval.answerers.local import LocalAnswerer
from retrieval.citations import cite
from retrieval.conversation import resolve
from retrieval.metadata_questions import MetadataAnswer, answer_metadata, header_line
from retrieval.search import SearchResult
from retrieval.types import Answer, Citation, Paper, PaperRef, Turn

if TYPE_CHECKING:
    from retrieval.library import Library

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
MAX_TOPIC_PAPERS = 8
UNCITED_NOTE = "The model's answer cited no sources, so here are the matching passages instead."
# Questions asking for every paper on a topic, not for one fact.
_TOPIC = re.compile(
    r"^\s*(?:which|what)\s+(?:other\s+)?(?:papers|entries|summaries|works|articles)\b"
    r"|\bwhat\s+(?:have|did|do)\s+we\s+(?:got|get|read|have|cover(?:ed)?)\b"
    r"|\b(?:do|did)\s+we\s+have\s+(?:any|anything|papers|something)\b"
    r"|\b(?:any|all|list)\s+(?:the\s+)?(?:papers|entries|summaries)\b"
    r"|\banything\s+(?:on|about|regarding|related\s+to|covering)\b"
    r"|\b(?:papers|entries|summaries)\s+(?:on|about|regarding|covering|related\s+to|that\s+(?:mention|discuss|cover)|mentioning)\b"
    r"|\bwhat\s+have\s+we\b", re.I)
# A paper belongs in a topic list when it is close to the best match both lexically (BM25 at least
# this share of the best paper's) and semantically (cosine at most this far below the best).
TOPIC_LEXICAL_SHARE = 0.6
TOPIC_DENSE_MARGIN = 0.17


class QuestionError(ValueError):
    """The question can't be asked as it is (empty, too long); the message says why."""


def _validate(question: str) -> str:
    question = " ".join((question or "").split())
    if not question:
        raise QuestionError("The question is empty: ask something about the papers.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}.")
    return question


def _suggestions(result: SearchResult, papers: dict[str, Paper], limit: int = 3) -> list[PaperRef]:
    ranked = sorted(result.paper_scores, key=result.paper_scores.get, reverse=True)[:limit]
    return [PaperRef(p, papers[p].title, papers[p].source, result.paper_scores[p]) for p in ranked if p in papers]


def _abstention(question: str, reason: str, suggestions: list[PaperRef]) -> Answer:
    text = f"That's not in our papers ({reason})."
    if suggestions:
        text += " The closest ones we have: " + "; ".join(f"“{s.title}”" for s in suggestions) + "."
    return Answer(question=question, answer=text, abstained=True, suggestions=suggestions)


def _metadata(question: str, meta: MetadataAnswer) -> Answer:
    citations: list[Citation] = []
    lines: list[str] = []
    label = "presenter" if meta.kind in ("presenter", "by_presenter") else "authors"
    for paper in meta.papers:
        quoted = header_line(paper, label)
        marker = ""
        if quoted:
            citations.append(Citation(len(citations) + 1, paper.id, paper.title, paper.source, quoted, 1.0))
            marker = f" [{len(citations)}]"
        if meta.kind == "authors":
            who = ", ".join(paper.authors)
            lines.append(f"“{paper.title}” was written by {who}.{marker}" if who else
                         f"Our summary of “{paper.title}” doesn't list its authors.")
        elif meta.kind == "presenter":
            lines.append(f"{paper.presenter} presented “{paper.title}”.{marker}" if paper.presenter else
                         f"Our notes don't say who presented “{paper.title}”.")
        else:
            lines.append(f"• “{paper.title}”{marker}")
    if meta.kind == "by_presenter":
        lines.insert(0, f"{meta.person} presented {len(meta.papers)} paper(s):")
    elif meta.kind == "by_author":
        lines.insert(0, f"{len(meta.papers)} of our papers list {meta.person} as an author:")
    return Answer(question=question, answer="\n".join(lines), abstained=False, citations=citations)


def _evidence(result: SearchResult, first: Paper | None = None) -> list[Evidence]:
    hits = sorted(result.hits, key=lambda h: (first is None or h.paper.id != first.id, -h.score))
    return [Evidence(n=i + 1, paper=h.paper, text=h.chunk.text, score=h.score) for i, h in enumerate(hits)]


def _topic_papers(result: SearchResult, best: Paper) -> list[str]:
    """Every paper that matches the topic: close to the best one both lexically and semantically."""
    top_lexical = max(result.lexical_scores.values(), default=0.0)
    chosen = [best.id]
    for paper_id in result.ranked_papers():
        if paper_id in chosen or len(chosen) >= MAX_TOPIC_PAPERS:
            continue
        lexical_ok = top_lexical > 0 and result.lexical_scores.get(paper_id, 0.0) >= TOPIC_LEXICAL_SHARE * top_lexical
        dense_ok = result.dense_scores.get(paper_id, 0.0) >= result.top_dense - TOPIC_DENSE_MARGIN
        if lexical_ok and dense_ok:
            chosen.append(paper_id)
    return chosen


def _topic_answer(library: "Library", question: str, search_text: str, result: SearchResult, best: Paper) -> Answer:
    local = LocalAnswerer()
    evidence: list[Evidence] = []
    lines = []
    for paper_id in _topic_papers(result, best):
        hit = result.best_hit(paper_id)
        if hit is None:  # the best paper of a follow-up may lie outside the candidates: search it alone
            found = library.searcher.search(search_text, k=1, embedding=result.embedding, paper_id=paper_id).hits
            hit = found[0] if found else None
        if hit is None:
            continue
        item = Evidence(n=len(evidence) + 1, paper=hit.paper, text=hit.chunk.text,
                        score=result.paper_scores.get(paper_id, 0.0))
        evidence.append(item)
        sentence = local.answer(question, [item]).text
        lines.append(f"• “{item.paper.title}”: {sentence}")
    header = f"{len(lines)} of our papers match:" if len(lines) > 1 else "One of our papers matches:"
    text, citations = cite("\n".join([header, *lines]), evidence)
    return Answer(question=question, answer=text, abstained=False, citations=citations)


def _prepare(library: "Library", question: str, history: Sequence[Turn]):
    """Route the question: returns (a finished Answer, None) or (None, (search text, result, evidence))."""
    searcher = library.searcher
    papers = searcher.papers
    resolved, referenced = resolve(question, history, papers)

    def find_paper(text: str) -> Paper | None:
        hits = searcher.search(text, k=1).hits
        return hits[0].paper if hits else None

    meta = answer_metadata(resolved, list(papers.values()), find_paper)
    if meta is not None and meta.papers:
        return _metadata(question, meta), None
    search_text = f"{resolved} {referenced.title}" if referenced else resolved
    # A follow-up about one paper is answered from that paper.
    result = searcher.search(search_text, paper_id=referenced.id) if referenced else searcher.search(search_text)
    best = referenced or (result.hits[0].paper if result.hits else None)
    reason = abstain_reason(resolved, result, searcher.vocabulary, best) if not referenced else None
    if reason:
        return _abstention(question, reason, _suggestions(result, papers)), None
    if _TOPIC.search(question) and not referenced:
        return _topic_answer(library, question, search_text, result, best), None
    return None, (result, _evidence(result, referenced))


def _finish(library: "Library", question: str, draft: Draft, evidence: list[Evidence],
            result: SearchResult, note: str | None = None) -> Answer:
    papers = library.searcher.papers
    if draft.abstained:
        return _abstention(question, "the summaries don't state that", _suggestions(result, papers))
    text, citations = cite(draft.text, evidence)
    if not citations:
        fallback = LocalAnswerer().answer(question, evidence)
        text, citations = cite(fallback.text, evidence)
        note = note or UNCITED_NOTE
    return Answer(question=question, answer=text, abstained=False, citations=citations, note=note)


def _extractive_fallback(library, question, evidence, result, exc: AnswererUnavailable) -> Answer:
    log.warning("answerer unavailable, answering extractively: %s", exc.__cause__ or exc)
    draft = LocalAnswerer().answer(question, evidence)
    return _finish(library, question, draft, evidence, result, note=exc.user_note)


def answer_question(library: "Library", question: str, history: Sequence[Turn] = ()) -> Answer:
    started = time.perf_counter()
    question = _validate(question)
    answer, prepared = _prepare(library, question, history)
    if answer is None:
        result, evidence = prepared
        answerer = library.answerer
        try:
            draft = answerer.answer(question, evidence, history)
            answer = _finish(library, question, draft, evidence, result)
        except AnswererUnavailable as exc:
            answer = _extractive_fallback(library, question, evidence, result, exc)
        answer.answerer = answerer.name
    answer.latency_ms = (time.perf_counter() - started) * 1000
    return answer


def stream_answer(library: "Library", question: str, history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
    """Yield the answer text as the answerer writes it, then the final verified :class:`Answer`."""
    started = time.perf_counter()
    question = _validate(question)
    answer, prepared = _prepare(library, question, history)
    if answer is None:
        result, evidence = prepared
        answerer = library.answerer
        pieces: list[str] = []
        try:
            for delta in answerer.stream(question, evidence, history):
                pieces.append(delta)
                if not is_cannot_answer(delta):  # the sentinel is for us, never for users
                    yield delta
            draft_text = "".join(pieces)
            draft = Draft(text=draft_text, abstained=is_cannot_answer(draft_text))
            answer = _finish(library, question, draft, evidence, result)
        except AnswererUnavailable as exc:
            answer = _extractive_fallback(library, question, evidence, result, exc)
        answer.answerer = answerer.name
    else:
        yield answer.answer
    answer.latency_ms = (time.perf_counter() - started) * 1000
    yield answer
