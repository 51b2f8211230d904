"""Score the whole answer path on labelled questions (`paperbot eval`), per category.

Questions run through `Library.ask` exactly as users' do (conversations turn by turn, with the
previous answers as history). Figures: right paper first / in the top 3, answerable questions
refused, off-corpus / near-miss / chit-chat refused, catalog answers right, topic-list recall
and precision, conversation turns right, snippets verbatim, latency. Retrieval alone is compared
with plain BM25 over whole summaries and with dense search alone on the same questions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..answering.citations import is_verbatim
from .labelled import CATALOG, Conversation, Labelled, map_catalog, read_labelled
from ..questions.question_text import ordinal_index
from .reader_fitting import answering
from ..sentences.split import split_sentences as sentences
from ..types import Answer, Turn

if TYPE_CHECKING:
    from ..library import Library

_NOT_RECORDED = ("doesn't record", "aren't recorded", "don't say who")


@dataclass
class EvalReport:
    questions: int
    figures: dict[str, float]  # name -> value
    counts: dict[str, int]  # name -> how many questions the figure is over
    retrieval: dict[str, dict[str, float]]  # ours | bm25 | dense -> hit@1, hit@3
    latency_p50_ms: float
    latency_p95_ms: float
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def holds_fact(item: Labelled, answer: Answer) -> bool:
    """The answer (its text or a quoted snippet) states the labelled answer."""
    if any(t.lower() in answer.answer.lower() for t in item.answer_terms):
        return True
    return any(any(answering(item, sentences(c.snippet))) for c in answer.citations)


def _text(answer: Answer) -> str:
    return " ".join([answer.answer, *(c.snippet for c in answer.citations)]).lower()


class _Scorer:
    def __init__(self, papers):
        self.by_id = {p.id: p for p in papers}
        self.values: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []

    def add(self, name: str, value: float | bool) -> None:
        self.values[name].append(float(value))

    def judge(self, item: Labelled, answer: Answer, gold: Sequence[str] | None = None) -> bool:
        """Score one answer by its question's type; True when it is right."""
        gold = list(gold if gold is not None else item.gold)
        for c in answer.citations:
            self.add("snippets verbatim", c.paper_id in self.by_id and is_verbatim(c.snippet, self.by_id[c.paper_id]))
        about = answer.paper_ids
        kind = item.type
        if kind in ("off_corpus", "near_miss", "chitchat"):
            self.add(f"{kind.replace('_', '-')} refused", answer.abstained)
            ok = answer.abstained
        elif kind == "single":
            self.add("answerable refused", answer.abstained)
            top1 = bool(about) and about[0] in gold and not answer.abstained
            self.add("hit@1", top1)
            self.add("hit@3", bool(set(about[:3]) & set(gold)) and not answer.abstained)
            if item.answer_terms or item.answer_sentences:
                holds = top1 and holds_fact(item, answer)
                self.add("answer holds the asked-for fact", holds)
                if item.shape:
                    self.add(f"answer holds the fact: {item.shape}", holds)
                if item.lang != "en":
                    self.add("answer holds the fact: not English", holds)
            ok = top1
        elif kind == "catalog":
            text = _text(answer)
            if item.field == "missing":
                ok = any(n in text for n in _NOT_RECORDED) and not any(n.lower() in text for n in item.expect)
            else:
                ok = not answer.abstained and all(name.lower() in text for name in item.expect)
                if item.field == "yes_no" and item.yes is not None:
                    ok = ok and answer.answer.lower().startswith("yes" if item.yes else "no")
            self.add("catalog right", ok)
            self.add(f"catalog right: {item.field or 'other'}", ok)
        elif kind == "multi_part":
            parts = [self._part(part, answer) for part in item.parts]
            ok = bool(parts) and all(parts)
            self.add("multi-part: every part answered", ok)
        elif kind == "topic_list":
            found = set(about) & set(gold)
            recall = len(found) / len(gold) if gold else 1.0
            self.add("topic-list recall", recall)
            self.add("topic-list precision", len(found) / len(set(about)) if about else 0.0)
            ok = recall >= 0.99
        else:
            ok = False
        if not ok:
            self.failures.append(f"{item.id} [{kind}] {item.question!r} -> {answer.answer[:120]!r} about {about[:3]} gold {gold}")
        return ok


    def _part(self, part: Labelled, answer: Answer) -> bool:
        """One part of a multi-part question, judged against the whole answer."""
        text = _text(answer)
        if part.type == "single":
            return bool(set(answer.paper_ids) & set(part.gold)) and holds_fact(part, answer)
        if part.type == "near_miss":
            return "doesn't state" in text or "not in our papers" in text
        if part.type == "catalog":
            return all(name.lower() in text for name in part.expect)
        return True


def _reader_alone(library: "Library", singles: Sequence[Labelled]) -> dict[str, tuple[float, int]]:
    """The reader on its own, given the right paper: its top sentence states the answer; and the
    evidence a model would get holds it (that mode's ceiling)."""
    from ..answering.pipeline import understand

    index = library.searcher.index
    top, evidence = [], []
    for item in singles:
        if item.type != "single" or not item.gold or item.gold[0] not in index.papers:
            continue
        every = library.sentences.of(index.papers[item.gold[0]]).texts
        if not any(answering(item, every)):
            continue  # the labelled answer is in no quotable sentence
        q = understand(library.searcher, item.question)
        reading = library.decisions.read(q, item.gold[0], index, library.sentences)
        top.append(bool(reading.best) and answering(item, [reading.best.text])[0])
        passages = library.pipeline.evidence_for(q)
        evidence.append(any(any(answering(item, sentences(e.text))) for e in passages))
    if not top:
        return {}
    return {"reader alone: top sentence states the answer": (statistics.mean(top), len(top)),
            "evidence recall (the fact among the passages)": (statistics.mean(evidence), len(evidence))}


def _retrieval(library: "Library", singles: Sequence[Labelled]) -> dict[str, dict[str, float]]:
    """Right paper first / in top 3 for single questions: ours, BM25 whole summaries, dense alone."""
    from ..questions.question_text import clean_question

    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for item in singles:
        result = library.searcher.search(clean_question(item.question))
        rankings = {
            "ours (fused papers)": result.ranked_papers(),
            "bm25s, whole summaries": sorted(result.lexical_scores, key=result.lexical_scores.get, reverse=True),
            "dense alone": sorted(result.dense_scores, key=result.dense_scores.get, reverse=True),
        }
        for name, ranked in rankings.items():
            hits[name].append((bool(ranked) and ranked[0] in item.gold, bool(set(ranked[:3]) & set(item.gold))))
    return {name: {"hit@1": statistics.mean(a for a, _ in v), "hit@3": statistics.mean(b for _, b in v)}
            for name, v in hits.items() if v}


def evaluate(library: "Library", paths: Sequence[Path], catalog_path: Path | None = None) -> EvalReport:
    papers = library.papers()
    mapping = map_catalog(catalog_path or CATALOG, papers)
    singles, conversations = read_labelled(paths, mapping)
    library.searcher.search("warm-up")  # load the model and the indexes before timing anything
    scorer = _Scorer(papers)
    latencies = []
    for item in singles:
        answer = library.ask(item.question)
        latencies.append(answer.latency_ms)
        scorer.judge(item, answer)
    for conversation in conversations:
        _conversation(library, conversation, scorer, latencies)
    latencies.sort()
    figures = {name: statistics.mean(v) for name, v in sorted(scorer.values.items())}
    counts = {name: len(v) for name, v in sorted(scorer.values.items())}
    reader_singles = [s for s in singles if s.type == "single"]
    reader_singles += [p for s in singles for p in s.parts if p.type == "single"]
    for name, (value, count) in _reader_alone(library, reader_singles).items():
        figures[name], counts[name] = value, count
    return EvalReport(
        questions=len(singles) + sum(len(c.turns) for c in conversations), figures=figures, counts=counts,
        retrieval=_retrieval(library, [s for s in singles if s.type == "single"]),
        latency_p50_ms=statistics.median(latencies) if latencies else 0.0,
        latency_p95_ms=latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0,
        failures=scorer.failures)


def _conversation(library: "Library", conversation: Conversation, scorer: _Scorer, latencies: list[float]) -> None:
    history: list[Turn] = []
    previous_gold: list[str] = []
    for turn in conversation.turns:
        answer = library.ask(turn.question, history)
        latencies.append(answer.latency_ms)
        gold = list(turn.gold)
        ordinal = ordinal_index(turn.question)
        if turn.followup and ordinal is not None and history and set(previous_gold) <= set(history[-1].paper_ids):
            # "the second one" means the second paper the previous answer showed, in its order.
            shown = list(history[-1].paper_ids)
            if -len(shown) <= ordinal < len(shown):
                gold = [shown[ordinal]]
        scorer.add("conversation turns right", scorer.judge(turn, answer, gold))
        history.append(Turn(turn.question, answer.answer, tuple(answer.paper_ids)))
        previous_gold = list(turn.gold) or previous_gold
