"""`paperbot eval`: per-category figures on labelled questions, and `--fit` on the training split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.retrieval.questions.decisions import MODEL_NAMES, local_path
from paperbot.retrieval.training.labelled import TEST_DIR, TRAIN_DIR, LabelsError, map_catalog, read_labelled

LABELLED = [
    {"id": "s1", "type": "single", "question": "what dataset does the adapool paper introduce?", "gold": ["p019"],
     "answer_terms": ["Inter4K"]},
    {"id": "o1", "type": "off_corpus", "question": "How does Mamba's selective state-space layer work?", "gold": []},
    {"id": "c1", "type": "chitchat", "question": "thanks, that's helpful!", "gold": []},
    {"id": "k1", "type": "catalog", "question": "who presented the soft sorting paper?", "gold": ["p007"],
     "expect": ["Chiao-Lun Cheng"], "field": "presenter"},
    {"id": "v1", "type": "conversation", "turns": [
        {"type": "catalog", "question": "who presented the lottery ticket paper?", "gold": ["p000"],
         "expect": ["Hongbo Tian"], "followup": False},
        {"type": "catalog", "question": "how many did he present?", "gold": ["p000", "p001", "p004"],
         "expect": ["Hongbo Tian"], "field": "count", "followup": True}]},
]


def _write(tmp_path: Path, rows) -> Path:
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_eval_prints_per_category_figures_and_the_retrieval_comparison(shipped_data_dir, tmp_path):
    result = CliRunner().invoke(main, ["eval", "--json", str(_write(tmp_path, LABELLED))])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    figures = report["figures"]
    assert report["questions"] == 6
    assert figures["hit@1"] == 1.0 and figures["answerable refused"] == 0.0
    assert figures["answer holds the asked-for fact"] == 1.0
    assert figures["off-corpus refused"] == 1.0 and figures["chitchat refused"] == 1.0
    assert figures["catalog right"] == 1.0 and figures["conversation turns right"] == 1.0
    assert figures["snippets verbatim"] == 1.0
    assert set(report["retrieval"]) == {"ours (fused papers)", "bm25s, whole summaries", "dense alone"}


def test_eval_counts_a_wrong_answer_as_wrong(shipped_data_dir, tmp_path):
    wrong = [{"id": "s1", "type": "single", "question": "what dataset does the adapool paper introduce?",
              "gold": ["p002"]}, {"id": "o1", "type": "off_corpus", "question": "who wrote reformer?"}]
    result = CliRunner().invoke(main, ["eval", "--json", str(_write(tmp_path, wrong))])
    figures = json.loads(result.output)["figures"]
    assert figures["hit@1"] == 0.0 and figures["off-corpus refused"] == 0.0


def test_eval_text_output_and_a_bad_file(shipped_data_dir, tmp_path):
    result = CliRunner().invoke(main, ["eval", str(_write(tmp_path, LABELLED[:2]))])
    assert result.exit_code == 0, result.output
    assert "hit@1" in result.output and "bm25s, whole summaries" in result.output and "latency p50 / p95" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "single", "question": "ok"}\nnot json\n')
    broken = CliRunner().invoke(main, ["eval", str(bad)])
    assert broken.exit_code == 1 and "bad.jsonl:2" in broken.output and "Traceback" not in broken.output


def test_eval_on_an_empty_index_says_to_ingest(tmp_path):
    result = CliRunner().invoke(main, ["eval", str(_write(tmp_path, LABELLED[:1]))])
    assert result.exit_code == 1 and "paperbot ingest" in result.output


@pytest.mark.slow
def test_fit_saves_decisions_the_library_then_uses(shipped_data_dir, tmp_path):
    # The first dozen of each question type of the training split (conversations and both catalog
    # fields too) keep the fit short while every decision still has each of its classes.
    rows = [json.loads(line) for path in sorted(TRAIN_DIR.glob("*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]
    kinds = {}
    for row in rows:
        kinds.setdefault((row.get("type"), row.get("field") if row.get("type") == "catalog" else None), []).append(row)
    train = tmp_path / "train" / "sample.jsonl"
    train.parent.mkdir()
    train.write_text("".join(json.dumps(r) + "\n" for group in kinds.values() for r in group[:12]))
    result = CliRunner().invoke(main, ["eval", "--fit", "--train", str(train), "--json",
                                       str(_write(tmp_path, LABELLED[:1]))])
    assert result.exit_code == 0, result.output
    saved = local_path(shipped_data_dir, "local:all-MiniLM-L6-v2-onnx-int8")
    data = json.loads(saved.read_text())
    singles, conversations = read_labelled([train], {})
    assert (data["report"]["questions"], data["report"]["conversations"]) == (len(singles), len(conversations))
    assert set(data["models"]) == set(MODEL_NAMES)
    assert json.loads(result.stdout)["figures"]["hit@1"] == 1.0  # the library answers with what was just fitted


def test_fit_reads_the_whole_training_split_by_default(shipped_data_dir, monkeypatch):
    import paperbot.retrieval.training.fitting as fitting

    seen = {}

    def fit_decisions(library, singles, conversations, *args, **kwargs):
        seen["questions"], seen["conversations"] = len(singles), len(conversations)
        raise LabelsError("stop after reading")

    monkeypatch.setattr(fitting, "fit_decisions", fit_decisions)
    result = CliRunner().invoke(main, ["eval", "--fit"])
    singles, conversations = read_labelled([TRAIN_DIR], {})
    assert result.exit_code == 1 and "stop after reading" in result.output
    assert seen == {"questions": len(singles), "conversations": len(conversations)} and len(singles) > 400


def test_train_and_test_splits_share_no_question():
    from paperbot.retrieval.training.labelled import CATALOG

    ids = {e["id"]: e["id"] for e in json.loads(CATALOG.read_text())}
    train, train_conversations = read_labelled([TRAIN_DIR], ids)
    test, test_conversations = read_labelled([TEST_DIR], ids)
    assert len(train) > 400 and len(test) > 200 and test_conversations
    seen = {s.question.lower() for s in train} | {t.question.lower() for c in train_conversations for t in c.turns}
    assert not {s.question.lower() for s in test} & seen


def test_a_gold_id_missing_from_the_index_is_marked_not_dropped(tmp_path):
    path = _write(tmp_path, [{"id": "x", "type": "single", "question": "q", "gold": ["p999"]}])
    singles, _ = read_labelled([path], map_catalog(tmp_path / "none.json", []) if False else {})
    assert singles[0].gold == ("unmapped:p999",)
    try:
        read_labelled([_write(tmp_path, [{"id": "y", "gold": []}])], {})
    except LabelsError as exc:
        assert "labelled.jsonl:1" in str(exc)
    else:
        raise AssertionError("a row without type/question must be refused")
