"""Fit the decisions on the labelled training questions (`paperbot eval --fit`).

Every training question goes through the same steps as a real one (search, mentions, features),
so the models learn from exactly what they will see. Each model's regularisation and, for yes/no
decisions, its threshold are chosen on out-of-fold predictions (k-fold over the training set
only); the k-fold figures are kept in the saved file's report. The test split is never read here.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from ..questions.decisions import DecisionModels
from .labelled import Conversation, Labelled
from ..questions.linear_model import LinearModel, fit_linear_model
from ..answering.reader import READING_FEATURES
from .reader_fitting import fit_reader_and_readings, reader_items
from ..questions.signals import (
    CATALOG_FIELD_FEATURES,
    FOLLOWUP_FEATURES,
    OFF_CORPUS_FEATURES,
    ROUTE_FEATURES,
    TOPIC_MEMBER_FEATURES,
    catalog_field_features,
    followup_features,
    off_corpus_features,
    route_features,
    topic_member_features,
)

if TYPE_CHECKING:
    from ..library import Library

FOLDS = 5
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
ROUTE_OF_TYPE = {"single": "single", "near_miss": "single", "off_corpus": "single", "catalog": "catalog",
                 "topic_list": "topic_list", "chitchat": "chitchat"}
# Binary decisions: (negative, positive) labels, and what a false positive costs against a miss.
BINARY = {
    "off_corpus": (("in", "off"), 4.0),  # refusing an answerable question is worse than answering an odd one
    "near_miss": (("answered", "near"), 4.0),
    "followup": (("alone", "followup"), 1.0),
    "topic_member": (("apart", "member"), 0.5),  # lists are recall first
}
STANDALONE_NEGATIVES = 150  # standalone questions paired with unrelated earlier turns (not follow-ups)


@dataclass
class Examples:
    x: list[list[float]]
    y: list[str]
    groups: list[str]
    features: tuple[str, ...]

    def add(self, x: list[float], y: str, group: str) -> None:
        self.x.append(x)
        self.y.append(y)
        self.groups.append(group)


def build_examples(library: "Library", singles: Sequence[Labelled], conversations: Sequence[Conversation],
                   progress: Callable[[str], None] = lambda _: None, seed: int = 7) -> dict[str, Examples]:
    from ..answering.pipeline import understand

    index = library.searcher.index
    sentences = library.sentences
    out = {"route": Examples([], [], [], ("embedding", *ROUTE_FEATURES)),
           "off_corpus": Examples([], [], [], OFF_CORPUS_FEATURES),
           "topic_member": Examples([], [], [], TOPIC_MEMBER_FEATURES),
           "followup": Examples([], [], [], FOLLOWUP_FEATURES),
           "catalog_field": Examples([], [], [], CATALOG_FIELD_FEATURES)}
    known = set(index.papers)

    def standalone(item: Labelled, q) -> None:
        out["route"].add(route_features(q), ROUTE_OF_TYPE[item.type], item.id)
        if item.type == "catalog" and item.field in ("authors", "presenter"):
            out["catalog_field"].add(catalog_field_features(q), item.field, item.id)
        # Near misses may be refused either way; topic lists are refused when no paper is a member.
        if item.type in ("single", "off_corpus"):
            out["off_corpus"].add(off_corpus_features(q, index, sentences), "off" if item.type == "off_corpus" else "in", item.id)
        elif item.type == "catalog":
            # People questions are asked of the same decision: "anything by yann lecun?" (no paper of ours) is off.
            out["off_corpus"].add(off_corpus_features(q, index, sentences), "in" if item.gold else "off", item.id)
        ranked = q.result.ranked_papers()
        if item.type == "topic_list":
            for rank, paper_id in enumerate(ranked[:12]):
                out["topic_member"].add(topic_member_features(q, paper_id, rank, index, sentences),
                                        "member" if paper_id in item.gold else "apart", item.id)

    questions = {}
    for n, item in enumerate(singles):
        if item.type == "multi_part":
            continue  # its parts teach the reader; the route learns from whole questions
        if n % 50 == 0:
            progress(f"questions {n}/{len(singles)}")
        questions[item.id] = q = understand(library.searcher, item.question)
        standalone(item, q)
    firsts = []
    for conversation in conversations:
        previous: list[str] = []
        for number, turn in enumerate(conversation.turns):
            q = understand(library.searcher, turn.question)
            group = f"{conversation.id}/{number}"
            out["route"].add(route_features(q), ROUTE_OF_TYPE.get(turn.type, "single"), group)
            gold = [g for g in turn.gold if g in known]
            if previous:
                out["followup"].add(followup_features(q, previous, index), "followup" if turn.followup else "alone", group)
            elif turn.type != "chitchat":
                standalone(turn, q)
            if number == 0 and gold:
                firsts.append((conversation.id, gold))
            previous = gold or previous
    # Questions asked out of the blue after an unrelated answer are not follow-ups.
    rng = random.Random(seed)
    pool = [item for item in singles if item.type in ("single", "catalog", "topic_list", "off_corpus")]
    for item in rng.sample(pool, min(STANDALONE_NEGATIVES, len(pool))):
        conversation_id, gold = rng.choice(firsts) if firsts else ("", [])
        if gold and not set(gold) & set(item.gold):
            out["followup"].add(followup_features(questions[item.id], gold, index), "alone", f"{item.id}+{conversation_id}")
    return out


def _folds(examples: Examples, k: int = FOLDS):
    from sklearn.model_selection import StratifiedGroupKFold

    counts = Counter(examples.y)
    splits = max(2, min(k, min(counts.values())))
    return list(StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=0).split(
        examples.x, examples.y, examples.groups))


def _out_of_fold(examples: Examples, c: float, folds) -> tuple[list[dict[str, float]], tuple[str, ...]]:
    x = np.asarray(examples.x)
    y = np.asarray(examples.y)
    probabilities: list[dict[str, float] | None] = [None] * len(y)
    for train, test in folds:
        model = fit_linear_model(x[train], y[train], c=c)
        for i in test:
            probabilities[i] = model.probabilities(x[i])
    classes = tuple(sorted(set(examples.y)))
    return [p if p is not None else {cl: 0.0 for cl in classes} for p in probabilities], classes


def _log_loss(probabilities, y) -> float:
    return float(np.mean([-np.log(max(p.get(label, 0.0), 1e-9)) for p, label in zip(probabilities, y)]))


def _threshold(scores: list[float], positive: list[bool], false_positive_cost: float) -> float:
    """The threshold that minimises misses + cost x false positives on out-of-fold scores."""
    best, best_cost = 0.5, float("inf")
    n_pos, n_neg = max(1, sum(positive)), max(1, len(positive) - sum(positive))
    for t in np.linspace(0.05, 0.95, 91):
        misses = sum(1 for s, p in zip(scores, positive) if p and s < t) / n_pos
        false = sum(1 for s, p in zip(scores, positive) if not p and s >= t) / n_neg
        cost = misses + false_positive_cost * false
        if cost < best_cost - 1e-9:
            best, best_cost = float(t), cost
    return best


def fit_one(name: str, examples: Examples) -> tuple[LinearModel, dict]:
    folds = _folds(examples)
    scored = []
    for c in C_GRID:
        probabilities, classes = _out_of_fold(examples, c, folds)
        scored.append((_log_loss(probabilities, examples.y), c, probabilities, classes))
    loss, c, probabilities, classes = min(scored, key=lambda s: s[0])
    report = {"examples": dict(Counter(examples.y)), "c": c, "folds": len(folds), "log_loss": round(loss, 4)}
    threshold = 0.5
    if name in BINARY:
        (_, positive_label), cost = BINARY[name]
        scores = [p.get(positive_label, 0.0) for p in probabilities]
        positive = [label == positive_label for label in examples.y]
        threshold = _threshold(scores, positive, cost)
        hit = [s >= threshold for s in scores]
        report.update(threshold=round(threshold, 3),
                      kfold_recall=round(sum(h and p for h, p in zip(hit, positive)) / max(1, sum(positive)), 3),
                      kfold_false_positive_rate=round(sum(h and not p for h, p in zip(hit, positive))
                                                      / max(1, len(positive) - sum(positive)), 3))
    else:
        predicted = [max(p, key=p.get) for p in probabilities]
        report["kfold_accuracy"] = round(float(np.mean([a == b for a, b in zip(predicted, examples.y)])), 3)
        per_class = defaultdict(list)
        for a, b in zip(predicted, examples.y):
            per_class[b].append(a == b)
        report["kfold_recall_per_class"] = {k: round(float(np.mean(v)), 3) for k, v in sorted(per_class.items())}
    model = fit_linear_model(examples.x, examples.y, c=c, threshold=threshold, features=examples.features)
    return model, report


def fit_decisions(library: "Library", singles: Sequence[Labelled], conversations: Sequence[Conversation],
                  embedder_id: str, progress: Callable[[str], None] = lambda _: None) -> DecisionModels:
    from ..answering.pipeline import understand

    examples = build_examples(library, singles, conversations, progress)
    models, report = {}, {"fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          "questions": len(singles), "conversations": len(conversations)}
    asked = [(a, understand(library.searcher, a.question))
             for a in reader_items(singles, conversations, set(library.searcher.index.papers))]
    progress(f"fitting the reader on {sum(a.stated for a, _ in asked)} answerable questions")
    models["reader"], readings, report["reader"] = fit_reader_and_readings(library, asked, progress)
    # Is it stated? Learnt from out-of-fold readings: the reader as it reads questions it never saw.
    near = Examples([], [], [], READING_FEATURES)
    for a, _ in asked:
        near.add(list(readings[a.id].features), "answered" if a.stated else "near", a.id.split("/")[0])
    examples["near_miss"] = near
    for name, data in examples.items():
        progress(f"fitting {name} on {len(data.y)} examples")
        models[name], report[name] = fit_one(name, data)
    return DecisionModels(embedder=embedder_id, models=models, report=report)
