"""Fitting the reader and the "is it stated?" decision on labelled questions.

A single question's answering sentences are those of its gold paper that hold one of its
``answer_terms`` or match one of its ``answer_sentences``; every other quotable sentence of that
paper is a negative. The near-miss decision learns from what the reader makes of answerable
questions and of near misses; so that it sees the reader as it behaves on new questions, those
readings come from a reader fitted without the question's fold (out-of-fold), never in-sample.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from ..answering.citations import fold
from .labelled import Conversation, Labelled
from ..answering.reader import READER_FEATURES, Reader, sentence_features
from ..questions.tree_model import TreeModel, fit_tree_model

FOLDS = 5


@dataclass(frozen=True)
class Asked:
    """A labelled question as the reader meets it: one question, one paper."""

    id: str
    question: str
    paper_id: str
    stated: bool  # single (the summary states it) or near miss (it doesn't)
    item: Labelled


def reader_items(singles: Sequence[Labelled], conversations: Sequence[Conversation], known: set[str]) -> list[Asked]:
    """Every single question and near miss with its gold paper: standalone, as a part of a
    multi-part question, or as a turn of a conversation (asked as the turn was written)."""
    out: list[Asked] = []

    def visit(item: Labelled, key: str) -> None:
        if item.type == "multi_part":
            for n, part in enumerate(item.parts):
                visit(part, f"{key}/part{n}")
        elif item.type in ("single", "near_miss") and item.gold and item.gold[0] in known:
            out.append(Asked(key, item.question, item.gold[0], item.type == "single", item))

    for item in singles:
        visit(item, item.id)
    for conversation in conversations:
        for n, turn in enumerate(conversation.turns):
            visit(turn, f"{conversation.id}/{n}")
    return out


def _words(text: str) -> set[str]:
    return set(fold(text).replace(",", " ").replace(".", " ").split())


def answering(item: Labelled, texts: Sequence[str]) -> list[bool]:
    """Which of the paper's sentences state the labelled answer."""
    terms = [fold(t) for t in item.answer_terms if fold(t)]
    golden = [fold(s) for s in item.answer_sentences if fold(s)]
    out = []
    for text in texts:
        folded = fold(text)
        hit = any(t in folded for t in terms)
        for gold in golden:
            if folded in gold or gold in folded:
                hit = True
            else:
                a, b = _words(folded), _words(gold)
                hit = hit or (bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.7)
        out.append(hit)
    return out


def fold_of(asked: Asked) -> int:
    return zlib.crc32(asked.id.split("/")[0].encode()) % FOLDS


def reader_examples(items: Iterable[tuple[Asked, object]], index, sentences):
    """(x, y, groups) over the sentences of each answerable question's gold paper."""
    xs, ys, groups = [], [], []
    for asked, q in items:
        if not asked.stated:
            continue
        found, x, _ = sentence_features(q, asked.paper_id, index, sentences)
        labels = answering(asked.item, found.texts)
        if not any(labels):
            continue  # the labelled answer is not in a quotable sentence: nothing to learn from
        xs.extend(x.tolist())
        ys.extend("states" if hit else "apart" for hit in labels)
        groups.extend(asked.id for _ in labels)
    return xs, ys, groups


def fit_reader(xs, ys) -> TreeModel:
    return fit_tree_model(xs, ys, features=READER_FEATURES)


def fit_reader_and_readings(library, items: list[tuple[Asked, object]],
                            progress: Callable[[str], None] = lambda _: None):
    """The reader fitted on every answerable question, its k-fold top-sentence figure, and each
    question's out-of-fold Reading (for the near-miss decision)."""
    index, sentences = library.searcher.index, library.sentences
    xs, ys, _ = reader_examples(items, index, sentences)
    model = fit_reader(xs, ys)
    readings = {}
    right = []
    for k in range(FOLDS):
        progress(f"reader fold {k + 1}/{FOLDS}")
        train = [(a, q) for a, q in items if fold_of(a) != k]
        held = [(a, q) for a, q in items if fold_of(a) == k]
        x, y, _ = reader_examples(train, index, sentences)
        reader = Reader(fit_reader(x, y))
        for asked, q in held:
            q.readings.clear()
            reading = reader.read(q, asked.paper_id, index, sentences)
            q.readings.clear()
            readings[asked.id] = reading
            if asked.stated and reading.best is not None:
                labels = answering(asked.item, [r.text for r in reading.ranked])
                if any(labels):  # the answer is in some quotable sentence: is it the top one?
                    right.append(labels[0])
    report = {"examples": {"states": ys.count("states"), "apart": ys.count("apart")},
              "kfold_top_sentence_right": round(float(np.mean(right)), 3) if right else None,
              "questions": len(right)}
    return model, readings, report
