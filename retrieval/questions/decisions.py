"""The fitted decisions: question route, off-corpus, the reader, near miss, topic-list membership, follow-up.

Each is a logistic regression (`retrieval.questions.linear_model`) over the features of `retrieval.questions.signals`,
fitted by `paperbot eval --fit` on the labelled questions in `retrieval/training/labels/train/` for one
embedder (the route reads the question's embedding, so it belongs to that vector space). The
fitted parameters are a JSON file: `PAPERBOT_DATA_DIR/models/<embedder>.json` when fitted
locally, else the one shipped for the default embedder in `retrieval/training/fitted/`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ...config.errors import PaperbotError
from ..index.corpus_index import CorpusIndex
from .linear_model import LinearModel
from ..answering.reader import READER_FEATURES, READING_FEATURES, Reader, Reading
from ..sentences.paper_sentences import SentenceIndex
from .signals import (
    CATALOG_FIELD_FEATURES,
    FOLLOWUP_FEATURES,
    OFF_CORPUS_FEATURES,
    ROUTE_FEATURES,
    TOPIC_MEMBER_FEATURES,
    Question,
    catalog_field_features,
    field_named,
    followup_features,
    off_corpus_features,
    route_features,
    topic_member_features,
)
from .tree_model import TreeModel

log = logging.getLogger(__name__)
SHIPPED_DIR = Path(__file__).parent.parent / "training" / "fitted"  # fitted with the labelled questions
ROUTES = ("catalog", "topic_list", "single", "chitchat")
MODEL_NAMES = ("route", "off_corpus", "reader", "near_miss", "topic_member", "followup", "catalog_field")
TOPIC_CANDIDATES = 12
MODEL_KINDS = {"linear": LinearModel, "trees": TreeModel}  # a saved model's "kind" -> its class


class ModelsMissingError(PaperbotError, RuntimeError):
    """No fitted decisions for this embedder; the message says how to fit them."""


def file_name(embedder_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_id) + ".json"


@dataclass
class DecisionModels:
    embedder: str
    models: dict[str, LinearModel | TreeModel]
    report: dict = field(default_factory=dict)  # what they were fitted on and their k-fold figures

    def route(self, q: Question) -> tuple[str, dict[str, float]]:
        model = self.models["route"]
        probs = model.probabilities(route_features(q))
        return max(probs, key=probs.get), probs

    def asked_field(self, q: Question) -> str:
        """Which catalog field a question about a paper's people asks for: authors or presenter."""
        named = field_named(q.text)
        if named:
            return named
        probs = self.models["catalog_field"].probabilities(catalog_field_features(q))
        return max(probs, key=probs.get)

    def off_corpus(self, q: Question, index: CorpusIndex, sentences: SentenceIndex) -> tuple[bool, float]:
        return self._binary("off_corpus", off_corpus_features(q, index, sentences))

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.models["reader"])

    def read(self, q: Question, paper_id: str, index: CorpusIndex, sentences: SentenceIndex) -> Reading:
        """The paper's sentences ranked by how likely each states the answer."""
        return self.reader.read(q, paper_id, index, sentences)

    def near_miss(self, q: Question, paper_id: str, index: CorpusIndex, sentences: SentenceIndex) -> tuple[bool, float]:
        """Whether the paper's summary fails to state what is asked, judged from the reader's reading."""
        return self._binary("near_miss", list(self.read(q, paper_id, index, sentences).features))

    def followup(self, q: Question, previous: list[str], index: CorpusIndex) -> tuple[bool, float]:
        return self._binary("followup", followup_features(q, previous, index))

    def topic_members(self, q: Question, index: CorpusIndex, sentences: SentenceIndex) -> list[tuple[str, float]]:
        """Candidate papers that belong in the list, with their probability, best first."""
        members = []
        for rank, paper_id in enumerate(q.result.ranked_papers()[:TOPIC_CANDIDATES]):
            member, p = self._binary("topic_member", topic_member_features(q, paper_id, rank, index, sentences))
            if member:
                members.append((paper_id, p))
        return sorted(members, key=lambda m: -m[1])

    def _binary(self, name: str, x: list[float]) -> tuple[bool, float]:
        return self.models[name].decide(x)

    # -- files -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"embedder": self.embedder, "report": self.report,
                "models": {name: model.to_dict() for name, model in self.models.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "DecisionModels":
        missing = [n for n in MODEL_NAMES if n not in data.get("models", {})]
        if missing:
            raise ModelsMissingError(f"fitted decisions lack {', '.join(missing)}: re-run `paperbot eval --fit`")
        return cls(embedder=data["embedder"], report=data.get("report", {}),
                   models={n: MODEL_KINDS[m.get("kind", "linear")].from_dict(m) for n, m in data["models"].items()})

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict()))
        tmp.replace(path)  # readers never see half a file
        return path


def local_path(data_dir: Path, embedder_id: str) -> Path:
    return data_dir / "models" / file_name(embedder_id)


def expected_features() -> dict[str, tuple[str, ...]]:
    """The features each decision reads in this version (a file fitted by another version may differ)."""
    return {"route": ("embedding", *ROUTE_FEATURES), "catalog_field": CATALOG_FIELD_FEATURES,
            "off_corpus": OFF_CORPUS_FEATURES, "topic_member": TOPIC_MEMBER_FEATURES, "followup": FOLLOWUP_FEATURES,
            "reader": READER_FEATURES, "near_miss": READING_FEATURES}


def _outdated(models: DecisionModels) -> list[str]:
    expected = expected_features()
    return [name for name, model in models.models.items()
            if name in expected and model.features and tuple(model.features) != expected[name]]


def load_models(data_dir: Path, embedder_id: str) -> DecisionModels:
    """The decisions fitted for this embedder: fitted locally if so, else shipped.

    A local file fitted by an earlier version, whose decisions read other features, is passed over
    (with a warning to re-fit) rather than failing on the first question that reaches them.
    """
    for path in (local_path(data_dir, embedder_id), SHIPPED_DIR / file_name(embedder_id)):
        if path.exists():
            models = DecisionModels.from_dict(json.loads(path.read_text()))
            if models.embedder != embedder_id:
                raise ModelsMissingError(f"{path} was fitted for {models.embedder}, not {embedder_id}")
            outdated = _outdated(models)
            if outdated and path.parent != SHIPPED_DIR:
                log.warning("%s was fitted by an earlier version (%s read other features): using the shipped "
                            "decisions; run `paperbot eval --fit` to fit them again", path, ", ".join(outdated))
                continue
            if outdated:
                raise ModelsMissingError(f"{path} does not match this version ({', '.join(outdated)}): reinstall paperbot")
            return models
    raise ModelsMissingError(
        f"no fitted decisions for the embedder {embedder_id}: run `paperbot eval --fit` once after ingesting")
