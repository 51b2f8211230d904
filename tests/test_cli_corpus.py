"""`paperbot ingest` and `paperbot papers` through click's CliRunner, on a real embedded Chroma."""

from __future__ import annotations

import json

from click.testing import CliRunner

from paperbot.bot.cli import main
from tests.conftest import FIXTURES


def _write(path, title, body, **front):
    meta = "".join(f"{k}: {v}\n" for k, v in front.items())
    path.write_text(f"---\ntitle: {title}\n{meta}---\n{body}\n")


def _corpus(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    _write(folder / "a.md", "Sparse Mixtures of Adapters", "We route tokens to adapters. " * 20,
           presenter="Ada", authors="[Grace Hopper, Alan Turing]")
    _write(folder / "b.md", "Contrastive Decoding Revisited", "Decoding contrasts two models. " * 20)
    return folder


def test_papers_json_lists_the_shipped_corpus(shipped_data_dir):
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--quiet"])  # no path: the shipped corpus, already indexed
    assert result.exit_code == 0, result.output
    assert "0 chunks embedded" in result.output and "64 unchanged" in result.output
    listed = json.loads(runner.invoke(main, ["papers", "--json"]).output)
    assert len(listed) == 64 and len({p["id"] for p in listed}) == 64
    assert set(listed[0]) == {"id", "title", "authors", "presenter", "source", "added"}
    by_title = {p["title"]: p for p in listed}
    assert by_title["Fast Differentiable Sorting and Ranking"]["presenter"] == "Chiao-Lun Cheng"
    reformer = by_title["Reformer: The Efficient Transformer"]
    assert reformer["presenter"] is None
    assert reformer["authors"] == ["Nikita Kitaev", "Łukasz Kaiser", "Anselm Levskaya"]
    assert by_title["Critic Regularized Regression"]["source"] == "shortscience-summaries.txt"
    assert by_title["U$^2$-Net: Going Deeper with Nested U-Structure for Salient Object Detection"][
        "source"] == "hf-daily-papers.txt"


def test_papers_json_matches_the_catalog(shipped_data_dir):
    catalog = json.loads((FIXTURES / "catalog.json").read_text())
    listed = json.loads(CliRunner().invoke(main, ["papers", "--json"]).output)
    assert sorted((p["source"], p["title"]) for p in listed) == sorted((e["source"], e["title"]) for e in catalog)


def test_ingest_then_list_a_folder(tmp_path):
    corpus = _corpus(tmp_path)
    runner = CliRunner()
    first = runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    assert first.exit_code == 0, first.output
    assert "2 new" in first.output and "0 unchanged" in first.output
    again = runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    assert "0 chunks embedded" in again.output and "2 unchanged" in again.output

    listed = json.loads(runner.invoke(main, ["papers", "--json"]).output)
    adapters = next(p for p in listed if p["title"] == "Sparse Mixtures of Adapters")
    assert adapters["presenter"] == "Ada" and adapters["authors"] == ["Grace Hopper", "Alan Turing"]
    plain = runner.invoke(main, ["papers"]).output
    assert "Contrastive Decoding Revisited" in plain and "presented by Ada" in plain and "2 papers." in plain


def test_prune_and_reindex(tmp_path):
    corpus = _corpus(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    (corpus / "b.md").unlink()
    pruned = runner.invoke(main, ["ingest", "--quiet", "--prune", str(corpus)])
    assert pruned.exit_code == 0 and "1 removed" in pruned.output
    rebuilt = runner.invoke(main, ["ingest", "--quiet", "--reindex", str(corpus)])
    assert rebuilt.exit_code == 0 and "1 new" in rebuilt.output and "0 unchanged" in rebuilt.output
    assert [p["title"] for p in json.loads(runner.invoke(main, ["papers", "--json"]).output)] == [
        "Sparse Mixtures of Adapters"]


def test_other_embedder_is_a_clear_error_with_the_fix(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    monkeypatch.setenv("PAPERBOT_EMBEDDING__PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    result = runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "paperbot ingest --reindex" in result.output
    listed = runner.invoke(main, ["papers"])
    assert listed.exit_code == 1 and "paperbot ingest --reindex" in listed.output


def test_bad_files_are_listed_and_the_rest_ingested(tmp_path):
    corpus = _corpus(tmp_path)
    (corpus / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    result = CliRunner().invoke(main, ["ingest", "--quiet", str(corpus)])
    assert result.exit_code == 1
    assert "2 paper(s)" in result.output
    assert any("broken.md:" in line and line.startswith("error:") for line in result.output.splitlines())


def test_missing_path_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "nope" in result.output and "Traceback" not in result.output


def test_empty_index_says_how_to_fill_it():
    result = CliRunner().invoke(main, ["papers"])
    assert result.exit_code == 0 and "paperbot ingest" in result.output
    assert json.loads(CliRunner().invoke(main, ["papers", "--json"]).output) == []
