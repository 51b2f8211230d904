"""Incremental ingest into a real embedded Chroma, and the corpus CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import main
from config import load_settings
from retrieval.library import Library
from retrieval.store import EmbedderMismatchError, IndexStore


def _write(path, title, body, **front):
    meta = "".join(f"{k}: {v}\n" for k, v in front.items())
    path.write_text(f"---\ntitle: {title}\n{meta}---\n{body}\n")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    _write(folder / "a.md", "Sparse Mixtures of Adapters", "We route tokens to adapters. " * 60, presenter="Ada")
    _write(folder / "b.md", "Contrastive Decoding Revisited", "Decoding contrasts two models. " * 60)
    _write(folder / "c.md", "Tiny Recurrent Memory", "A small memory helps recurrence. " * 60)
    return folder


@pytest.fixture
def library(tmp_path):
    return Library(load_settings(data_dir=tmp_path / "data"))


def _chunk_ids(library):
    return sorted(c.id for c in library.store.chunks())


def test_first_ingest_indexes_every_paper(library, corpus):
    report = library.ingest([corpus])
    assert len(report.added) == 3 and report.unchanged == 0
    assert {p.title for p in library.papers()} == {
        "Sparse Mixtures of Adapters", "Contrastive Decoding Revisited", "Tiny Recurrent Memory"}
    assert report.chunks_embedded == library.store.count_chunks() > 3
    assert all(p.added is not None for p in library.papers())


def test_unchanged_corpus_embeds_nothing_and_keeps_ids(library, corpus):
    library.ingest([corpus])
    ids_before, added_before = [p.id for p in library.papers()], [p.added for p in library.papers()]
    chunks_before = _chunk_ids(library)
    report = library.ingest([corpus])
    assert report.chunks_embedded == 0 and report.unchanged == 3 and not report.added
    assert [p.id for p in library.papers()] == ids_before
    assert [p.added for p in library.papers()] == added_before
    assert _chunk_ids(library) == chunks_before


def test_changed_paper_is_replaced_not_duplicated(library, corpus):
    library.ingest([corpus])
    _write(corpus / "b.md", "Contrastive Decoding Revisited", "Now about amateur models only. " * 3)
    report = library.ingest([corpus])
    assert len(report.updated) == 1 and report.unchanged == 2
    paper = next(p for p in library.papers() if p.title == "Contrastive Decoding Revisited")
    chunks = [c for c in library.store.chunks() if c.paper_id == paper.id]
    assert len(chunks) == 1 and "amateur models" in chunks[0].text
    assert all("Decoding contrasts" not in c.text for c in library.store.chunks())


def test_prune_removes_papers_whose_file_is_gone(library, corpus):
    library.ingest([corpus])
    (corpus / "c.md").unlink()
    assert len(library.ingest([corpus]).removed) == 0  # without --prune nothing is removed
    report = library.ingest([corpus], prune=True)
    assert len(report.removed) == 1
    assert "Tiny Recurrent Memory" not in {p.title for p in library.papers()}
    assert {c.paper_id for c in library.store.chunks()} == {p.id for p in library.papers()}


def test_prune_keeps_papers_of_a_file_that_failed_to_parse(library, corpus):
    library.ingest([corpus])
    (corpus / "c.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    report = library.ingest([corpus], prune=True)
    assert report.failed and "c.md" in report.failed[0]
    assert "Tiny Recurrent Memory" in {p.title for p in library.papers()}


def test_interrupted_ingest_recovers_on_rerun(library, corpus, monkeypatch):
    embedder = library.embedder
    real = type(embedder)._get_text_embeddings
    calls = {"n": 0}

    def dies_on_second_call(self, texts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed half-way")
        return real(self, texts)

    monkeypatch.setattr(type(embedder), "_get_text_embeddings", dies_on_second_call)
    monkeypatch.setattr("retrieval.ingest._CHUNKS_PER_BATCH", 1)  # one paper per batch
    with pytest.raises(KeyboardInterrupt):
        library.ingest([corpus])
    assert len(library.papers()) == 1  # only the paper whose batch finished is in the catalog
    monkeypatch.setattr(type(embedder), "_get_text_embeddings", real)

    report = library.ingest([corpus])
    assert len(report.added) == 2 and report.unchanged == 1
    papers = library.papers()
    assert len(papers) == 3
    chunks = library.store.chunks()
    assert len(chunks) == len({c.id for c in chunks})  # no duplicates
    assert {c.paper_id for c in chunks} == {p.id for p in papers}  # nothing missing, no orphans


def test_orphan_chunks_are_invisible_and_cleaned(library, corpus):
    library.ingest([corpus])
    victim = library.papers()[0]
    library.store._papers.delete(ids=[victim.id])  # as if killed between chunks and record
    assert all(hit.paper.id != victim.id for hit in library.searcher.search(victim.text[:200]).hits)
    report = library.ingest([corpus])
    assert report.orphan_chunks_removed > 0 and report.added == [victim.id]


def test_other_embedder_is_refused_with_reindex_hint(library, corpus):
    library.ingest([corpus])
    with pytest.raises(EmbedderMismatchError, match="paperbot ingest --reindex"):
        IndexStore(library.settings, "openai:text-embedding-3-small")


def test_cli_ingest_and_papers_json_on_the_shipped_corpus(shipped_data_dir):
    runner = CliRunner()
    result = runner.invoke(main, ["ingest", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "0 chunks embedded" in result.output and "64 unchanged" in result.output
    listed = json.loads(runner.invoke(main, ["papers", "--json"]).output)
    assert len(listed) == 64
    by_title = {p["title"]: p for p in listed}
    assert by_title["Fast Differentiable Sorting and Ranking"]["presenter"] == "Chiao-Lun Cheng"
    assert by_title["Reformer: The Efficient Transformer"]["presenter"] is None
    assert by_title["Reformer: The Efficient Transformer"]["authors"] == ["Nikita Kitaev", "Łukasz Kaiser", "Anselm Levskaya"]
    assert by_title["Critic Regularized Regression"]["source"] == "shortscience-summaries.txt"
    assert set(listed[0]) == {"id", "title", "authors", "presenter", "source", "added"}


def test_cli_reports_bad_files_and_ingests_the_rest(tmp_path, corpus):
    (corpus / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    result = CliRunner().invoke(main, ["ingest", "--quiet", str(corpus)])
    assert result.exit_code == 1
    assert "broken.md" in result.output and "3 paper(s)" in result.output


def test_cli_missing_path_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "nope" in result.output and "Traceback" not in result.output
