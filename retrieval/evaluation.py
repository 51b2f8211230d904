"""Score the answerer on a question file (the format of tests/fixtures/dev.jsonl).

Each line: {"id", "type": single|multi|meta|abstain, "question", "gold": [catalog ids],
"near_miss": bool (abstain only)}. Gold ids refer to a catalog.json (id, source, title), mapped
to this index's paper ids by source and title.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval.citations import is_verbatim

if TYPE_CHECKING:
    from retrieval.library import Library


@dataclass
class EvalReport:
    questions: int
    hit_at_1: float
    hit_at_3: float
    multi_recall: float
    metadata_accuracy: float
    abstention_off_corpus: float
    abstention_near_miss: float
    false_abstention: float
    snippet_validity: float
    latency_p50_ms: float
    latency_p95_ms: float
    failures: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def _norm(title: str) -> str:
    return " ".join(title.lower().split())


def map_catalog(catalog_path: Path, papers) -> dict[str, str]:
    """Catalog id -> this index's paper id (by source file and title)."""
    ours = {(p.source, _norm(p.title)): p.id for p in papers}
    mapping = {}
    for entry in json.loads(catalog_path.read_text()):
        key = (entry["source"], _norm(entry["title"]))
        if key in ours:
            mapping[entry["id"]] = ours[key]
    return mapping


def _ratio(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 1.0


def evaluate(library: "Library", questions_path: Path, catalog_path: Path | None = None) -> EvalReport:
    catalog_path = catalog_path or questions_path.with_name("catalog.json")
    papers = library.papers()
    by_id = {p.id: p for p in papers}
    mapping = map_catalog(catalog_path, papers)
    rows = [json.loads(line) for line in questions_path.read_text().splitlines() if line.strip()]
    library.searcher.search("warm-up")  # load the model and the BM25 index before timing anything
    hit1, hit3, recall, meta, off, near, false_abs, valid, latencies, failures = ([] for _ in range(10))
    for row in rows:
        answer = library.ask(row["question"])
        latencies.append(answer.latency_ms)
        cited = list(dict.fromkeys(c.paper_id for c in answer.citations))
        gold = [mapping.get(g, f"unmapped:{g}") for g in row.get("gold", [])]
        for c in answer.citations:
            valid.append(c.paper_id in by_id and is_verbatim(c.snippet, by_id[c.paper_id]))
        kind = row["type"]
        if kind == "abstain":
            (near if row.get("near_miss") else off).append(answer.abstained)
            if not answer.abstained:
                failures.append(f"{row['id']}: should abstain")
            continue
        false_abs.append(answer.abstained)
        ok1 = bool(cited) and cited[0] in gold
        hit1.append(ok1 if kind != "multi" else bool(set(cited[:1]) & set(gold)))
        hit3.append(bool(set(cited[:3]) & set(gold)))
        if kind == "multi":
            recall.append(len(set(cited) & set(gold)) / len(gold))
        if kind == "meta":
            expected = [k.lower() for k in row.get("keywords", [])]
            meta.append(ok1 and all(k in answer.answer.lower() for k in expected))
        if not hit3[-1] or answer.abstained:
            failures.append(f"{row['id']}: cited {cited[:3]} gold {gold}")
    latencies.sort()
    return EvalReport(
        questions=len(rows), hit_at_1=_ratio(hit1), hit_at_3=_ratio(hit3),
        multi_recall=statistics.mean(recall) if recall else 1.0, metadata_accuracy=_ratio(meta),
        abstention_off_corpus=_ratio(off), abstention_near_miss=_ratio(near),
        false_abstention=sum(false_abs) / len(false_abs) if false_abs else 0.0,
        snippet_validity=_ratio(valid),
        latency_p50_ms=statistics.median(latencies) if latencies else 0.0,
        latency_p95_ms=latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0,
        failures=failures,
    )
