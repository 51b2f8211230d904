"""A question in, an answer out: understand it, retrieve, decide, answer, verify citations.

1. The question is searched as it stands, and its people and titles are found (`mentions`).
2. Fitted decisions (`decisions`) say whether it continues the conversation, and which route it
   takes: the catalog (people and titles), a topic list, a single question, or chit-chat.
3. A standalone question the corpus doesn't cover is declined (off-corpus); a question about one
   of our papers whose summary doesn't state what is asked is declined too (near miss).
4. The answerer (local or LLM) writes from numbered passages; a language model's sentences are
   checked against the passages they cite (`model_answers`, `claims`); `citations` verifies every
   marker and quotes the passages word for word.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ...prompts import is_cannot_answer
from ..errors import QuestionError
from ..llm.answerers.base import AnswererUnavailable, ClaimChecker, Draft, Evidence, written
from ..llm.answerers.local import LocalAnswerer
from .catalog_answers import catalog_answer, nobody_of_ours
from .citations import cite, collapse
from ..llm.deadline import Deadline
from ..llm.model_answers import model_answer
from ..questions.question_text import (
    asked_kinds,
    asks_who,
    asks_whether,
    clean_question,
    name_asked_about,
    ordinal_index,
    refers_back,
    refers_to_person,
)
from ..questions.question_parts import join_answers, split_parts
from ..index.search import SearchResult
from .source_lists import named_source, source_list
from ..questions.signals import Question, field_named, make_question, names_one_paper
from .topic_answers import topic_answer
from ..types import Answer, Citation, Paper, PaperRef, Progress, Turn

if TYPE_CHECKING:
    from ..index.corpus_index import CorpusIndex
    from ..index.search import HybridSearcher
    from ..sentences.paper_sentences import SentenceIndex
    from ..llm.answerers.base import Answerer
    from ..questions.decisions import DecisionModels
    from .reader import Reading

log = logging.getLogger(__name__)

UNCITED_NOTE = "The model's answer cited no sources, so here are the matching passages instead."
UNSUPPORTED_NOTE = "The summaries the model cited don't state what it wrote, so here are the matching passages instead."
DISTINCTIVE_PAPERS = 3  # a word in at most this many summaries singles a paper out
EMPTY_INDEX_ANSWER = ("No papers are indexed yet: run `paperbot ingest` on the server (or add one with `/paper add`), "
                      "then ask again.")
CHITCHAT_ANSWER = ("That's not in our papers: I answer questions about the papers our group has read, quoting their summaries. "
                   "Try “what does Reformer change in attention?” or “who presented the lottery ticket paper?”.")


def _validate(question: str, max_chars: int) -> str:
    question = " ".join((question or "").split())
    if not question:
        raise QuestionError("The question is empty: ask something about the papers.")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question)} characters long; please keep it under {max_chars}.")
    return question


@dataclass
class Prepared:
    """A question ready for the answerer: the evidence it answers from."""

    result: SearchResult
    evidence: list[Evidence]
    paper_ids: list[str]


def _suggestions(result: SearchResult, papers: dict[str, Paper], limit: int = 3) -> list[PaperRef]:
    ranked = result.ranked_papers()[:limit]
    return [PaperRef(p, papers[p].title, papers[p].source, result.paper_scores[p]) for p in ranked if p in papers]


def _abstention(question: str, reason: str, suggestions: list[PaperRef]) -> Answer:
    text = f"That's not in our papers ({reason})."
    if suggestions:
        text += " The closest ones we have: " + "; ".join(f"“{s.title}”" for s in suggestions) + "."
    return Answer(question=question, answer=text, abstained=True, suggestions=suggestions)


def _previous(history: Sequence[Turn], index: "CorpusIndex") -> tuple[list[str], tuple[str, ...]]:
    """(paper ids, people) the latest answered turn was about.

    The people are those its question named, else the first person its answer names (catalog
    answers lead with the field that was asked for: "… was presented by Hongbo Tian").
    """
    papers = index.papers
    for turn in reversed(history):
        ids = [p for p in dict.fromkeys(turn.paper_ids) if p in papers]
        if ids:
            asked = index.mentions.find(turn.question, papers).people
            if asked:
                return ids, asked
            named = index.mentions.find(turn.answer, papers).people
            first = sorted(named, key=lambda person: _position(turn.answer, person))[:1]
            return ids, tuple(first)
    return [], ()


def _position(text: str, person: str) -> int:
    at = text.find(person)
    return at if at >= 0 else len(text)


def understand(searcher: "HybridSearcher", question: str) -> Question:
    """The question searched as it stands, with the people and titles it names."""
    index = searcher.index
    text = clean_question(question) or question
    embedding = searcher.embed(index.correct_spelling(text))  # "batchnorm" means "batch normalization"
    result = searcher.search(text, embedding=embedding)
    mentions = index.mentions.find(text, index.papers)
    return make_question(text, embedding, result, mentions, index)


def _focus(text: str, previous: list[str]) -> list[str]:
    """The earlier papers a follow-up is about: the one an ordinal points at, else all of them."""
    ordinal = ordinal_index(text)
    if ordinal is not None and -len(previous) <= ordinal < len(previous):
        return [previous[ordinal]]
    return previous


def _asks_gist_not_people(q: Question) -> bool:
    """A question for the gist of a paper that asks nothing about its people (no person, no "who",
    no author or presenter words); no people question of the training split is one."""
    return (asked_kinds(q.text)["gist"] and not q.mentions.people and not asks_who(q.text)
            and field_named(q.text) is None)


def _finish(question: str, draft: Draft, prepared: Prepared, papers: dict[str, Paper], note: str | None = None) -> Answer:
    if draft.abstained:
        return _abstention(question, "the summaries don't state that", _suggestions(prepared.result, papers))
    text, citations = cite(draft.text, prepared.evidence, _reader_quotes(prepared.evidence))
    if not citations:
        return _extractive(question, prepared, papers, note or UNCITED_NOTE)
    return _cited(question, text, citations, prepared, note)


def _reader_quotes(evidence: Sequence[Evidence]) -> dict[int, Sequence[str]]:
    """The reader's quote as each passage's snippet (for the extractive answer, which quotes it)."""
    return {e.n: e.quote for e in evidence if e.quote}


def _cited(question: str, text: str, citations, prepared: Prepared, note: str | None) -> Answer:
    return Answer(question=question, answer=text, abstained=False, citations=citations, note=note,
                  paper_ids=list(dict.fromkeys([c.paper_id for c in citations] + prepared.paper_ids)))


def _extractive(question: str, prepared: Prepared, papers: dict[str, Paper], note: str) -> Answer:
    """The local answerer's answer (or abstention), labelled with why it stands in for the model's."""
    draft = LocalAnswerer().extract(question, prepared.evidence)
    if draft.abstained:
        answer = _abstention(question, "the summaries don't state that", _suggestions(prepared.result, papers))
        answer.note = note
        return answer
    text, citations = cite(draft.text, prepared.evidence, _reader_quotes(prepared.evidence))
    return _cited(question, text, citations, prepared, note)


def _model_answer(answerer: ClaimChecker, question: str, prepared: Prepared, history: Sequence[Turn],
                  papers: dict[str, Paper], seconds: float) -> Generator[Progress, None, Answer]:
    """Yield progress while a language model writes and its claims are checked; return the Answer (with
    a note when it is the extractive one, or when sentences were left out).

    The model has ``seconds`` (``PAPERBOT_LLM__DEADLINE_S``) for all of it, from now.
    """
    deadline = Deadline(seconds)
    checked = None
    try:
        for item in model_answer(answerer, question, prepared.evidence, history, deadline):
            if isinstance(item, Progress):
                yield item
            else:
                checked = item
    except AnswererUnavailable as exc:
        log.warning("answerer unavailable, answering extractively: %s", exc.__cause__ or exc)
        return _extractive(question, prepared, papers, exc.user_note)
    if checked is None:  # model_answer always ends with its checked answer
        raise RuntimeError("the model's answer was never checked")
    if checked.abstained:
        return _abstention(question, "the summaries don't state that", _suggestions(prepared.result, papers))
    text, citations = cite(checked.text, prepared.evidence, checked.quotes)
    if not citations:
        return _extractive(question, prepared, papers, UNSUPPORTED_NOTE if checked.cited else UNCITED_NOTE)
    note = None
    if checked.dropped:
        left_out = "1 sentence" if checked.dropped == 1 else f"{checked.dropped} sentences"
        note = f"Left out {left_out} of the model's answer that the cited summaries don't state."
    return _cited(question, text, citations, prepared, note)


class AnswerPipeline:
    """A question in, an answer out, with the parts it needs passed in by the composition root
    (`retrieval.library.Library`): the searcher, the fitted decisions, the sentence index and the answerer."""

    def __init__(self, searcher: "HybridSearcher", decisions: "DecisionModels", sentences: "SentenceIndex",
                 answerer: "Answerer", *, deadline_s: float, max_question_chars: int):
        self.searcher = searcher
        self.decisions = decisions
        self.sentences = sentences
        self.answerer = answerer
        self.deadline_s = deadline_s  # for the answerer's whole answer (PAPERBOT_LLM__DEADLINE_S)
        self.max_question_chars = max_question_chars

    @property
    def decides_near_misses(self) -> bool:
        """Whether the fitted near-miss model decides; an answerer that judges its passages itself says so."""
        return not self.answerer.judges_near_misses

    def _read(self, q: Question, paper_id: str) -> "Reading":
        return self.decisions.read(q, paper_id, self.searcher.index, self.sentences)

    def answer(self, question: str, history: Sequence[Turn] = (), scope: Sequence[str] = ()) -> Answer:
        """Answer one question; ``scope`` (paper ids) says the question is about those papers.

        The same steps as :meth:`stream`, progress ignored: the two can't differ.
        """
        for item in self.stream(question, history, scope):
            if isinstance(item, Answer):
                return item
        raise RuntimeError("the answer was never made")

    def stream(self, question: str, history: Sequence[Turn] = (),
               scope: Sequence[str] = ()) -> Iterator[Progress | Answer]:
        """Yield :class:`Progress` while the answer is made, then the final verified :class:`Answer`.

        Nothing else comes out: a language model's text reaches users only after its claims were
        checked, inside the Answer.
        """
        started = time.perf_counter()
        question = _validate(question, self.max_question_chars)
        yield Progress("search", "Searching the summaries")
        parts = split_parts(question)
        answers: list[Answer] = []
        earlier = list(history)
        for part in parts:  # each question of the message, later ones seeing the earlier answers
            answer = yield from self._one_answer(part, earlier, scope)
            answers.append(answer)
            earlier.append(Turn(part, answer.answer, tuple(answer.paper_ids)))
        answer = answers[0] if len(answers) == 1 else join_answers(question, answers)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        yield answer

    def _one_answer(self, question: str, history: Sequence[Turn],
                    scope: Sequence[str]) -> Generator[Progress, None, Answer]:
        prepared = self._prepare(question, history, scope)
        if isinstance(prepared, Answer):
            return prepared
        papers = self.searcher.papers
        answerer = self.answerer
        if answerer.checks_claims:
            answer = yield from _model_answer(cast(ClaimChecker, answerer), question, prepared, history, papers,
                                              self.deadline_s)
        else:  # the answerer quotes the summaries word for word: nothing to check
            try:
                text = written(answerer, question, prepared.evidence, history,
                               deadline=Deadline(self.deadline_s))
                answer = _finish(question, Draft(text=text, abstained=is_cannot_answer(text)), prepared, papers)
            except AnswererUnavailable as exc:
                log.warning("answerer unavailable, answering extractively: %s", exc.__cause__ or exc)
                answer = _extractive(question, prepared, papers, exc.user_note)
        answer.answerer = answerer.name
        return answer

    def _prepare(self, question: str, history: Sequence[Turn],
                 scope: Sequence[str] = ()) -> Answer | Prepared:
        """Route the question: a finished Answer, or what the answerer needs (Prepared)."""
        searcher = self.searcher
        index = searcher.index
        papers = index.papers
        if not papers:  # a fresh install asked before anything was indexed
            return Answer(question=question, answer=EMPTY_INDEX_ANSWER, abstained=True)
        models = self.decisions
        q = understand(self.searcher, question)
        text, embedding, result, mentions = q.text, q.embedding.tolist(), q.result, q.mentions

        previous, previous_people = _previous(history, index)
        scope = [p for p in scope if p in papers]
        followup = bool(scope)
        if not followup and previous:
            followup, _ = models.followup(q, previous, index)
        if scope:
            previous = scope
        route, _ = models.route(q)
        if route == "catalog" and _asks_gist_not_people(q):
            route = "single"  # "was ist pointrend?" asks what it is, not who wrote it

        # Chit-chat never names one of our papers by its title (none of 120 chit-chat training
        # questions does): "tl;dr reformer" is a question about Reformer.
        if route == "chitchat" and not followup and not mentions.papers and not names_one_paper(q, index):
            return Answer(question=question, answer=CHITCHAT_ANSWER, abstained=True)
        # "list every paper from the reading-group blog"; not "who presented muzero in reading group?"
        lists_source = route in ("topic_list", "catalog") and not mentions.people and not mentions.papers and not asks_who(text)
        source = named_source(text, index.sources_by_word) if lists_source else None
        if source is not None:
            return source_list(question, source, papers.values())
        if route == "catalog":
            carried = not mentions.people and followup and refers_to_person(text)  # "what else did she present?"
            people = previous_people if carried else mentions.people
            whether = asks_whether(text)
            named = list(mentions.papers) if carried else self._catalog_papers(q, people, previous if followup else [])
            if not people and not named and not followup and previous and refers_back(text):
                # "who presented it?" after an answer has nothing else to be about: the thread's paper.
                followup = True
                named = self._catalog_papers(q, people, previous)
            if not people and not named and not followup:
                # Nobody we know and no paper of ours singled out: "anything by yann lecun?" gets a plain no;
                # another question is about our papers unless the off-corpus decision says otherwise.
                stranger = name_asked_about(text) if whether else None
                if stranger:
                    return nobody_of_ours(question, stranger)
                if models.off_corpus(q, index, self.sentences)[0]:
                    return _abstention(question, "none of our summaries covers this", _suggestions(result, papers))
                ranked = result.ranked_papers()
                named = [papers[ranked[0]]] if ranked else []
            if people or named:
                answer = catalog_answer(question, people, named, index.mentions.papers_of(people, papers),
                                        models.asked_field(q), whether=whether)
                if answer.answer:
                    answer.paper_ids = [p.id for p in named] or answer.paper_ids
                    return answer

        if followup:
            ordinal = ordinal_index(text)
            focus = _focus(text, previous)
            focused = searcher.search(f"{text} {papers[focus[0]].title}" if len(focus) == 1 else text,
                                      embedding=embedding, paper_ids=focus)
            best = focused.hits[0].paper.id if focused.hits else focus[0]
            if not scope and self.decides_near_misses:
                near, _ = models.near_miss(q, best, index, self.sentences)
                if near and ordinal is None:
                    return self._not_stated(q, question, best)
            return Prepared(focused, self._evidence(q, focused, best), [best])

        ranked = result.ranked_papers()
        if not ranked:
            return _abstention(question, "nothing in our papers matches", [])
        if route == "topic_list":
            members = models.topic_members(q, index, self.sentences)
            if not members:
                return _abstention(question, "none of our summaries is about this", _suggestions(result, papers))
            return topic_answer(q, members, self.searcher.index, self._read)
        # A question that names one of our papers by its title is about it (on the training split, 1
        # of 189 off-corpus questions names one, 198 of 578 answerable ones do): it is answered or
        # graded against that paper, never refused as off-corpus.
        off = not mentions.papers and models.off_corpus(q, index, self.sentences)[0]
        if off:
            return _abstention(question, "none of our summaries covers this", _suggestions(result, papers))
        # A paper the question names by its title is the one it asks about, wherever retrieval put it.
        best = next((p.id for p in mentions.papers if p.id in ranked), ranked[0])
        near = self.decides_near_misses and models.near_miss(q, best, index, self.sentences)[0]
        if near:
            return self._not_stated(q, question, best)
        return Prepared(result, self._evidence(q, result, best), [best])

    def _catalog_papers(self, q: Question, people: Sequence[str], previous: list[str]) -> list[Paper]:
        """The papers a people/title question is about: named by title, else found by what the rest says."""
        index = self.searcher.index
        if q.mentions.papers:
            return list(q.mentions.papers)
        name_words = set(q.mentions.name_words)
        rest = " ".join(w for w in q.text.split() if w.lower().strip("?,.!'\"") not in name_words)
        # A title run together and cut short reads as the title once spelled out ("batchnorm").
        spelled_out = index.correct_spelling(rest)
        spelled = index.mentions.find(spelled_out, index.papers).papers
        if spelled:
            return list(spelled)
        focus = _focus(q.text, previous)
        found = self.searcher.search(rest, embedding=None if name_words else q.embedding.tolist(),
                                        paper_ids=focus or None)
        ranked = [h.paper.id for h in found.hits] if focus else found.ranked_papers()
        if not ranked:
            return []
        if focus:
            return [index.papers[ranked[0]]]
        # Otherwise a paper counts as named only if the rest of the question has a word that singles it
        # out ("did hongbo present muzero?", "who wrote deeplabv3+?"), not "is there a david silver paper
        # in our list?" (a word of some summary is not a name for that paper).
        best = ranked[0]
        title = set(index.stems(index.paper_heading(index.papers[best]), joined=True))
        summary = index.paper_stems.get(best, ())
        distinctive = [s for s in index.stems(spelled_out)
                       if (s in title and index.document_frequency.get(s, 0) <= DISTINCTIVE_PAPERS)
                       or (s in summary and index.document_frequency.get(s, 0) == 1)]  # "muzero": only its summary says it
        return [index.papers[best]] if distinctive else []

    def evidence_for(self, question: str | Question) -> list[Evidence]:
        """The passages a standalone question would be answered from (for measuring evidence recall)."""
        q = understand(self.searcher, question) if isinstance(question, str) else question
        ranked = q.result.ranked_papers()
        return self._evidence(q, q.result, ranked[0] if ranked else None)

    def _evidence(self, q: Question, result: SearchResult, focus: str | None) -> list[Evidence]:
        """The passages to answer from, each with the reader's view of its paper's sentences.

        The passage holding the reader's best sentence of the focus paper carries the reader's quote;
        when retrieval didn't pick it, it is found among the candidates (else searched for within that
        paper) and goes first.
        """
        hits = list(result.hits)
        scores: dict[str, dict[str, float]] = {}
        quote: tuple[str, ...] = ()
        holder = None
        for paper_id in dict.fromkeys([*([focus] if focus else []), *(h.paper.id for h in hits[:4])]):
            reading = self._read(q, paper_id)
            scores[paper_id] = {r.text: r.probability for r in reading.ranked}
            if paper_id == focus and reading.ranked:
                quote = tuple(reading.quote())
                best = reading.ranked[0].text
                holder = next((h for h in hits if h.paper.id == paper_id and best in collapse(h.chunk.text)), None)
                if holder is None:  # not among the passages yet: the one holding it goes first
                    holder = next((h for h in result.candidates if h.paper.id == paper_id
                                   and best in collapse(h.chunk.text)), None)
                    if holder is None:
                        found = self.searcher.search(best, k=1, embedding=result.embedding, paper_id=paper_id).hits
                        holder = found[0] if found else None
                    if holder is not None:
                        hits.insert(0, holder)
        return [Evidence(n=i + 1, paper=h.paper, text=h.chunk.text, score=h.score, sentence_scores=scores.get(h.paper.id),
                         quote=quote if h is holder else ()) for i, h in enumerate(hits)]

    def _not_stated(self, q: Question, question: str, paper_id: str) -> Answer:
        """The paper is clear but its summary doesn't state what is asked: say so, and quote the
        closest it says (cited as context; still an abstention)."""
        index = self.searcher.index
        paper = index.papers[paper_id]
        reading = self._read(q, paper_id)
        text = f"Our summary of “{paper.title}” doesn't state that."
        if reading.best is None:
            return Answer(question=question, answer=text, abstained=True, paper_ids=[paper_id])
        closest = reading.best.text
        citation = Citation(n=1, paper_id=paper.id, title=paper.title, source=paper.source, snippet=closest,
                            score=reading.best.probability, url=paper.url)
        return Answer(question=question, answer=f"{text} The closest it says: “{closest}” [1]", abstained=True,
                      citations=[citation], paper_ids=[paper_id])
