"""`paperbot ingest` and `paperbot papers` through click's CliRunner, on a real embedded Chroma."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest
from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.config import load_settings
from paperbot.retrieval.library import Library
from tests import sandbox
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
    assert "Contrastive Decoding Revisited" in plain and "2 papers." in plain
    assert re.search(r"^Sparse Mixtures of Adapters +Ada +", plain, re.M)  # title, presenter, date columns


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


# -- bad input and a data directory that cannot be written -------------------------------------


def test_each_bad_file_is_one_line_and_the_rest_is_ingested(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    (corpus / "leap.md").write_text("---\ntitle: Leap Day\nadded: 2024-02-30\n---\nBody.\n")
    (corpus / "mapping.md").write_text("---\ntitle: {x: y}\n---\nBody.\n")
    (corpus / "copy.md").write_text("---\ntitle: Sparse mixtures of adapters\n---\nThe same paper again.\n")
    (corpus / "big.txt").write_bytes(b"word " * 300_000)  # 1.5 MB
    monkeypatch.setenv("PAPERBOT_INGEST__MAX_FILE_MB", "1")
    result = CliRunner().invoke(main, ["ingest", "--quiet", str(corpus)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    errors = sorted(line for line in result.output.splitlines() if line.startswith("error: "))
    assert errors == sorted([
        f"error: {corpus / 'leap.md'}:3: bad `added` value '2024-02-30': day is out of range for month "
        "(expected a date such as 2024-02-29)",
        f"error: {corpus / 'mapping.md'}:2: `title` must be text, not a mapping (`key: value` pairs); "
        "quote it if it is text",
        f"error: {corpus / 'big.txt'}: skipped: too large (1.5 MB; the limit is 1 MB, set by "
        "PAPERBOT_INGEST__MAX_FILE_MB)",
        f"error: {corpus / 'copy.md'}:4: duplicate title “Sparse mixtures of adapters”: already indexed from "
        f"{corpus / 'a.md'}:6; this one is not (change one title or remove one file)",
    ])
    assert "4 problem(s) above" in result.output
    listed = json.loads(CliRunner().invoke(main, ["papers", "--json"]).output)
    assert sorted(p["title"] for p in listed) == ["Contrastive Decoding Revisited", "Sparse Mixtures of Adapters"]


def test_changed_chunk_size_is_refused_with_the_command_to_run(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    monkeypatch.setenv("PAPERBOT_RETRIEVAL__CHUNK_SIZE", "400")
    refused = runner.invoke(main, ["ingest", "--quiet", str(corpus)])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert refused.output.strip().splitlines() == [
        "Error: the index was built with chunks of 200 tokens overlapping by 30 (chunker v1) but chunks of 400 "
        "tokens overlapping by 30 (chunker v1) are configured: re-index with `paperbot ingest --reindex` (or set "
        "PAPERBOT_RETRIEVAL__CHUNK_SIZE / PAPERBOT_RETRIEVAL__CHUNK_OVERLAP back)"]
    assert runner.invoke(main, ["papers"]).exit_code == 0  # reading still works
    saved_before = set((tmp_path / "data" / "index").glob("corpus-*.pickle"))
    assert saved_before  # the first ingest saved the in-memory index
    rebuilt = runner.invoke(main, ["ingest", "--quiet", "--reindex", str(corpus)])
    assert rebuilt.exit_code == 0 and "2 new" in rebuilt.output

    # The rebuilt index starts a new change log, and no saved index of the dropped one is left to load.
    reader = Library(load_settings())
    assert [(c.generation, sorted(c.paper_ids)) for c in reader.store.changes_since(0)] == [
        (1, sorted(p.id for p in reader.store.catalog()))]
    assert not saved_before & set((tmp_path / "data" / "index").glob("corpus-*.pickle"))
    index = reader.searcher.index
    assert reader.searcher.live.generation == 1
    assert {(c.id, c.text) for chunks in index.chunks_of.values() for c in chunks} == \
        {(c.id, c.text) for c in reader.store.chunks()}  # what the rebuilt index holds


def _read_only_reason() -> str:
    return "it is on a read-only file system" if sandbox.read_only_technique() == "mount" \
        else "it is not writable by this user"


def _read_only_remedy() -> str:
    return "mount it read-write" if sandbox.read_only_technique() == "mount" else "give this user write access to it"


@pytest.mark.skipif(sandbox.read_only_technique() is None,
                    reason="running as root where user namespaces are not allowed: no read-only mount can be "
                           "made, and chmod does not restrict root")
@pytest.mark.slow
def test_read_only_data_directory_reads_and_refuses_writes_in_one_line(tmp_path):
    corpus = _corpus(tmp_path)
    data = tmp_path / "data"
    assert CliRunner().invoke(main, ["ingest", "--quiet", str(corpus)]).exit_code == 0
    assert list((data / "index").glob("corpus-*.pickle"))  # the in-memory index, saved for readers
    papers, ask, ingest, reindex = sandbox.run_read_only(
        data,
        sandbox.paperbot_command("papers"),
        sandbox.paperbot_command("ask", "who presented the adapters paper?"),
        sandbox.paperbot_command("ingest", "--quiet", str(corpus)),
        sandbox.paperbot_command("ingest", "--quiet", "--reindex", str(corpus)),
    )
    assert papers.returncode == 0, papers.stderr
    assert "Sparse Mixtures of Adapters" in papers.stdout and "2 papers." in papers.stdout
    assert ask.returncode == 0 and "Ada" in ask.stdout and "Sparse Mixtures of Adapters" in ask.stdout
    expected = (f"Error: cannot write the index in {data / 'chroma'}: {_read_only_reason()}; {_read_only_remedy()}, "
                "or point PAPERBOT_DATA_DIR at another directory (nothing already indexed is lost)")
    for refused in (ingest, reindex):
        assert refused.returncode == 1 and refused.stderr.strip().splitlines() == [expected]
        assert refused.stdout == ""

    # Without a saved in-memory index, a reader builds one from the copy and leaves saving it alone.
    shutil.rmtree(data / "index")
    (ask_unsaved,) = sandbox.run_read_only(data, sandbox.paperbot_command("ask", "who presented the adapters paper?"))
    assert ask_unsaved.returncode == 0 and "Ada" in ask_unsaved.stdout, ask_unsaved.stderr
    without_times = [line.split(" ", 2)[2] for line in ask_unsaved.stderr.splitlines()]
    assert without_times == [f"WARNING paperbot.retrieval.corpus.data_dir: the index directory {data / 'chroma'} cannot be "
                             f"written ({_read_only_reason()}): reading a copy of it; nothing can be added"]
    assert not (data / "index").exists()
    listed = json.loads(CliRunner().invoke(main, ["papers", "--json"]).output)  # writable again: all there
    assert len(listed) == 2


needs_namespaces = pytest.mark.skipif(
    not sandbox.namespaces_available(),
    reason="user namespaces are not allowed here, so no small file system can be mounted to fill up")


def _indexed_with_more(tmp_path, files):
    """The test corpus indexed in tmp_path/data; ``files`` (name, title, summary) waiting in tmp_path/more;
    the mount point for a small file system, and where the data directory goes on it."""
    assert CliRunner().invoke(main, ["ingest", "--quiet", str(_corpus(tmp_path))]).exit_code == 0
    more = tmp_path / "more"
    more.mkdir()
    for name, title, summary in files:
        _write(more / name, title, summary)
    mount = tmp_path / "mnt"
    mount.mkdir()
    return more, mount, mount / "data"


@needs_namespaces
@pytest.mark.slow
def test_full_disk_is_one_line_reading_still_works_and_nothing_is_lost(tmp_path):
    more, mount, data = _indexed_with_more(tmp_path, [("c.md", "Tiny Recurrent Memory", "A small memory helps recurrence.")])
    q = sandbox.quote
    paperbot = " ".join(q(part) for part in sandbox.paperbot_command())
    full = q(str(tmp_path / "full.out"))
    result = sandbox.in_namespace(f"""
        mount -t tmpfs -o size=16m tmpfs {q(str(mount))}
        cp -a {q(str(tmp_path / 'data'))} {q(str(data))}
        dd if=/dev/zero of={q(str(mount / 'filler'))} bs=64k 2>/dev/null || true
        {paperbot} ingest --quiet {q(str(more))} > {full} 2>&1 || echo "exit $?" >> {full}
        {paperbot} papers > {q(str(tmp_path / 'papers.out'))}
        rm {q(str(mount / 'filler'))}
        {paperbot} ingest --quiet {q(str(more))} > {q(str(tmp_path / 'freed.out'))}
        {paperbot} papers --json > {q(str(tmp_path / 'after.json'))}
    """, data)
    assert result.returncode == 0, result.stderr
    full = (tmp_path / "full.out").read_text().splitlines()
    assert full == [f"Error: cannot write the index in {data / 'chroma'}: no space left on the device; free some "
                    "space on that disk, or point PAPERBOT_DATA_DIR at another directory (nothing "
                    "already indexed is lost)", "exit 1"]
    assert "2 papers." in (tmp_path / "papers.out").read_text()
    assert "1 new" in (tmp_path / "freed.out").read_text()
    assert sorted(p["title"] for p in json.loads((tmp_path / "after.json").read_text())) == [
        "Contrastive Decoding Revisited", "Sparse Mixtures of Adapters", "Tiny Recurrent Memory"]


@needs_namespaces
@pytest.mark.slow
def test_disk_filling_up_during_an_ingest_is_one_line_and_the_next_run_completes(tmp_path):
    more, mount, data = _indexed_with_more(tmp_path, [
        (f"p{i:03d}.md", f"Paper Number {i} About Things", f"A short summary {i} of many things.") for i in range(100)])
    q = sandbox.quote
    paperbot = " ".join(q(part) for part in sandbox.paperbot_command())
    full = q(str(tmp_path / "full.out"))
    check = ("from paperbot.config import load_settings; from paperbot.retrieval.library import Library; "
             "lib = Library(load_settings()); chunks = lib.store.chunks(); "
             "print(len(lib.papers()), len(chunks) == len({c.id for c in chunks}), "
             "{c.paper_id for c in chunks} == {p.id for p in lib.papers()})")
    result = sandbox.in_namespace(f"""
        mount -t tmpfs -o size=16m tmpfs {q(str(mount))}
        cp -a {q(str(tmp_path / 'data'))} {q(str(data))}
        free=$(df -k --output=avail {q(str(mount))} | tail -1)
        # room to open the index (over 1 MB), not to write 100 papers into it
        dd if=/dev/zero of={q(str(mount / 'filler'))} bs=1k count=$((free - 1300)) 2>/dev/null
        {paperbot} ingest --quiet {q(str(more))} > {full} 2>&1 || echo "exit $?" >> {full}
        mount -o remount,size=64m {q(str(mount))}
        {paperbot} ingest --quiet {q(str(more))} > {q(str(tmp_path / 'again.out'))} 2>&1
        {q(sys.executable)} -c {q(check)} > {q(str(tmp_path / 'check.out'))}
    """, data)
    assert result.returncode == 0, result.stderr
    full = (tmp_path / "full.out").read_text().splitlines()
    assert len(full) == 2 and full[1] == "exit 1", full
    assert full[0].startswith(f"Error: cannot write the index in {data / 'chroma'}: no space left on the device")
    assert "Traceback" not in (tmp_path / "full.out").read_text()
    assert "Indexed" in (tmp_path / "again.out").read_text()
    assert (tmp_path / "check.out").read_text().split() == ["102", "True", "True"]  # none lost, none twice


def test_a_named_file_of_an_unsupported_type_is_a_clear_error(tmp_path):
    (tmp_path / "slides.pptx").write_bytes(b"PK")
    result = CliRunner().invoke(main, ["ingest", "--quiet", str(tmp_path / "slides.pptx")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(f"Error: {tmp_path / 'slides.pptx'}: unsupported file type '.pptx'")
