"""The index against a real Chroma server (`chroma run`), as a team that outgrew one machine runs it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.config import load_settings
from paperbot.retrieval.library import Library
from paperbot.retrieval.index.store import EmbedderMismatchError, IndexStore, StoreError
from paperbot.retrieval.types import Paper, paper_id_for

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_cli() -> str:
    beside_python = Path(sys.executable).with_name("chroma")
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    assert found, "the `chroma` command comes with the chromadb package"
    return found


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([_chroma_cli(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _server_library(tmp_path, port: int, collection: str = "paperbot") -> Library:
    return Library(load_settings(data_dir=tmp_path / "data", chroma={"host": "127.0.0.1", "port": port,
                                                                      "collection": collection}))


def test_ingest_and_query_through_the_server(tmp_path, chroma_server):
    corpus = tmp_path / "papers"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: Learned Bloom Filters\n---\nA learned model replaces the Bloom filter.\n")
    (corpus / "b.md").write_text("---\ntitle: Soft Sorting\n---\nDifferentiable sorting via projections.\n")
    library = _server_library(tmp_path, chroma_server, "server_test")
    assert len(library.ingest([corpus]).added) == 2
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to an embedded database

    # A second replica sees the same index through the server, and ingest is still incremental.
    replica = _server_library(tmp_path / "replica", chroma_server, "server_test")
    assert {p.title for p in replica.papers()} == {"Learned Bloom Filters", "Soft Sorting"}
    assert replica.ingest([corpus]).unchanged == 2
    hits = replica.store.query(replica.embedder.get_query_embedding("bloom filter"), 2)
    assert hits[0].chunk.paper_id == next(p.id for p in replica.papers() if p.title == "Learned Bloom Filters")


def test_server_down_is_a_clear_error(tmp_path):
    library = _server_library(tmp_path, _free_port())
    with pytest.raises(StoreError, match="PAPERBOT_CHROMA__HOST"):
        library.papers()


def test_server_down_in_the_cli_is_one_line_not_a_traceback(monkeypatch):
    monkeypatch.setenv("PAPERBOT_CHROMA__HOST", "127.0.0.1")
    monkeypatch.setenv("PAPERBOT_CHROMA__PORT", str(_free_port()))
    result = CliRunner().invoke(main, ["papers"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot reach the Chroma server at 127.0.0.1" in result.output


def test_server_index_refuses_another_embedder(tmp_path, chroma_server):
    library = _server_library(tmp_path, chroma_server, "mismatch_test")
    library.add_paper(Paper(id=paper_id_for("slack", "One"), title="One", text="One paper.", source="slack"))
    with pytest.raises(EmbedderMismatchError, match="--reindex"):
        IndexStore(library.settings, "openai:text-embedding-3-small")


def test_a_running_replica_sees_papers_another_replica_adds(tmp_path, chroma_server):
    from tests.integration.test_live_index import KEYWORD_QUESTION, MEANING_QUESTION, _new_paper_file

    corpus = tmp_path / "papers"
    corpus.mkdir()
    (corpus / "a.md").write_text("---\ntitle: Learned Bloom Filters\n---\nA learned model replaces the Bloom filter "
                                 "and uses 36 percent less memory on URL blacklists.\n")
    (corpus / "b.md").write_text("---\ntitle: Soft Sorting\n---\nDifferentiable sorting via projections onto the "
                                 "permutahedron.\n")
    serving = _server_library(tmp_path / "serving", chroma_server, "live_test")
    serving.ingest([corpus])
    assert "Learned Bloom Filters" in [c.title for c in serving.ask("How much memory do learned Bloom filters save?").citations]

    writer = _server_library(tmp_path / "writer", chroma_server, "live_test")
    assert len(writer.ingest([_new_paper_file(tmp_path / "new").parent]).added) == 1

    answer = serving.ask(KEYWORD_QUESTION)
    assert answer.citations and answer.citations[0].title.startswith("Quokka"), answer.answer
    found = serving.searcher.search(MEANING_QUESTION)
    new_id = next(p.id for p in serving.papers() if p.title.startswith("Quokka"))
    assert max(found.dense_scores, key=found.dense_scores.get) == new_id
