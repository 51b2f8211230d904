"""The labelled question sets: reading them, and mapping their gold papers to this index.

One JSON object per line. Types: ``single`` (gold: the paper; answer_terms: verbatim words a right
answer quotes), ``near_miss`` (gold: our paper whose summary doesn't state what is asked),
``off_corpus``, ``chitchat``, ``catalog`` (gold: the papers; expect: names the answer must give;
field: authors|presenter|by_person|yes_no|count|missing), ``topic_list`` (gold: every member), and
``conversation`` (turns: objects of the types above, each with ``followup``: true|false), and
``multi_part`` (parts: objects of the types above, each a part of the one question).
Single questions may name ``answer_sentences`` (verbatim: the sentences that state the answer);
near misses ``closest`` (the verbatim sentence that comes closest).
The older dev-set types map onto these: meta -> catalog, multi -> topic_list, abstain -> off_corpus
or near_miss. Gold ids refer to a catalog.json (id, source, title).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...config.errors import PaperbotError
from ..types import Paper

LABELS_DIR = Path(__file__).parent / "labels"
TRAIN_DIR = LABELS_DIR / "train"
TEST_DIR = LABELS_DIR / "test"
CATALOG = LABELS_DIR / "catalog.json"
_OLD_TYPES = {"meta": "catalog", "multi": "topic_list"}


class LabelsError(PaperbotError, ValueError):
    """A labelled file can't be read; the message names the file and line."""


@dataclass(frozen=True)
class Labelled:
    id: str
    type: str
    question: str
    gold: tuple[str, ...] = ()  # this index's paper ids
    answer_terms: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()
    field: str | None = None
    followup: bool = False
    yes: bool | None = None
    answer_sentences: tuple[str, ...] = ()  # verbatim: the sentences that state the answer
    closest: str | None = None  # near misses: the verbatim sentence that comes closest
    shape: str | None = None  # how a single question asks (how, how_much, tldr, yes_no, …)
    lang: str = "en"
    parts: tuple["Labelled", ...] = ()  # multi_part: each part as a question of its own


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[Labelled, ...] = field(default_factory=tuple)


def _norm(title: str) -> str:
    return " ".join(title.lower().split())


def map_catalog(catalog_path: Path, papers: Iterable[Paper]) -> dict[str, str]:
    """Catalog id -> this index's paper id (by source file and title)."""
    ours = {(p.source, _norm(p.title)): p.id for p in papers}
    mapping = {}
    for entry in json.loads(catalog_path.read_text()):
        key = (entry["source"], _norm(entry["title"]))
        if key in ours:
            mapping[entry["id"]] = ours[key]
    return mapping


def _item(row: dict, mapping: dict[str, str], where: str) -> Labelled:
    kind = _OLD_TYPES.get(row.get("type", ""), row.get("type", ""))
    if kind == "abstain":
        kind = "near_miss" if row.get("near_miss") else "off_corpus"
    if "question" not in row or not kind:
        raise LabelsError(f"{where}: needs 'type' and 'question'")
    gold = tuple(mapping.get(g, f"unmapped:{g}") for g in row.get("gold", []))
    expect = row.get("expect") or (row.get("keywords") if kind == "catalog" else None) or []
    parts = tuple(_item(part, mapping, f"{where} part {i + 1}") for i, part in enumerate(row.get("parts", [])))
    return Labelled(id=str(row.get("id", where)), type=kind, question=row["question"], gold=gold,
                    answer_terms=tuple(row.get("answer_terms", [])), expect=tuple(expect),
                    field=row.get("field"), followup=bool(row.get("followup")), yes=row.get("yes"),
                    answer_sentences=tuple(row.get("answer_sentences", [])), closest=row.get("closest"),
                    shape=row.get("shape"), lang=row.get("lang", "en"), parts=parts)


def read_labelled(paths: Sequence[Path], mapping: dict[str, str]) -> tuple[list[Labelled], list[Conversation]]:
    """(standalone questions, conversations) of every file (or directory of .jsonl files)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.jsonl")) if path.is_dir() else [path])
    singles, conversations = [], []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelsError(f"{where}: not JSON ({exc.msg})") from None
            if row.get("type") == "conversation":
                turns = tuple(_item(t, mapping, f"{where} turn {i + 1}") for i, t in enumerate(row.get("turns", [])))
                conversations.append(Conversation(str(row.get("id", where)), turns))
            else:
                singles.append(_item(row, mapping, where))
    return singles, conversations
