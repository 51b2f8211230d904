"""`paperbot add <arXiv id | link>` against a local stand-in for arXiv's API, on a real index."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.retrieval.corpus.arxiv import ArxivClient, ArxivId, RequestSpacing, parse_arxiv_id
from tests.fake_arxiv import ArxivPaper, start_fake_arxiv

SPARSE_MOE = ArxivPaper(
    "2405.01234v2", "Quokka Routing: Sparse Experts That Share Their Keys",
    ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
    "Mixture-of-experts layers route each token to a few experts. We introduce Quokka Routing, in which "
    "experts share one key projection so that routing costs a single matrix product. Quokka Routing cuts "
    "the routing memory of a 64-expert layer by 37 percent while matching the perplexity of top-2 routing.",
    published="2024-05-02T17:59:01Z",
)


@pytest.fixture
def arxiv(monkeypatch):
    fake, server, url = start_fake_arxiv()
    fake.add(SPARSE_MOE)
    monkeypatch.setenv("PAPERBOT_ARXIV__API_URL", url)
    yield fake
    server.shutdown()


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _catalog() -> list[dict]:
    result = _run("papers", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("text, expected", [
    ("2405.01234", ("2405.01234", "")),
    ("arXiv:2405.01234v2", ("2405.01234", "v2")),
    ("https://arxiv.org/abs/2405.01234v2", ("2405.01234", "v2")),
    ("http://export.arxiv.org/abs/2405.01234", ("2405.01234", "")),
    ("https://arxiv.org/pdf/2405.01234v3.pdf", ("2405.01234", "v3")),
    ("arxiv.org/pdf/2405.01234", ("2405.01234", "")),
    ("<https://arxiv.org/abs/1706.03762>", ("1706.03762", "")),  # as Slack writes a link
    ("hep-th/9901001", ("hep-th/9901001", "")),
    ("https://arxiv.org/abs/hep-th/9901001v1", ("hep-th/9901001", "v1")),
    ("math.gt/0309136", ("math.GT/0309136", "")),
    ("0704.0001", ("0704.0001", "")),
])
def test_ids_and_links_are_read(text, expected):
    parsed = parse_arxiv_id(text)
    assert parsed is not None and (parsed.id, parsed.version) == expected
    assert parsed.abs_url == f"https://arxiv.org/abs/{expected[0]}"


@pytest.mark.parametrize("text", ["", "hello", "12345", "2405.123", "https://example.com/abs/2405.01234",
                                  "https://arxiv.org/list/cs.LG/recent", "ftp://arxiv.org/abs/2405.01234"])
def test_anything_else_is_no_id(text):
    assert parse_arxiv_id(text) is None


def test_add_a_versioned_abs_link_then_list_it_and_ask_about_it(shipped_data_dir, arxiv):
    before = _catalog()
    result = _run("add", "https://arxiv.org/abs/2405.01234v2")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Added “Quokka Routing: Sparse Experts That Share Their Keys” by Ada Lovelace, "
                                     "Alan Turing, Grace Hopper et al. (arXiv 2405.01234, published 2024-05-02).")
    assert [ids for _, ids in arxiv.requests] == ["2405.01234v2"]  # the version asked for

    after = _catalog()
    assert len(after) == len(before) + 1
    (added,) = [p for p in after if p["title"] == "Quokka Routing: Sparse Experts That Share Their Keys"]
    assert added["source"] == "arxiv" and added["authors"] == list(SPARSE_MOE.authors) and added["added"]
    listed = _run("papers").stdout
    rows = listed.splitlines()  # newest first; long titles cut at a word to fit the table
    assert rows[1].startswith("Quokka Routing: Sparse Experts") and rows[-1] == f"{len(after)} papers."

    answer = json.loads(_run("ask", "--json", "How much routing memory does Quokka Routing save?").stdout)
    assert not answer["abstained"], answer
    assert answer["citations"][0]["paper_id"] == added["id"]
    assert "37 percent" in answer["citations"][0]["snippet"]


def test_a_paper_already_in_is_reported_not_added_again(shipped_data_dir, arxiv):
    assert _run("add", "2405.01234").exit_code == 0
    count = len(_catalog())
    for again in ("https://arxiv.org/pdf/2405.01234v1.pdf", "arXiv:2405.01234v2"):
        result = _run("add", again)
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == ("Already in the library: “Quokka Routing: Sparse Experts That Share Their "
                                         "Keys” (https://arxiv.org/abs/2405.01234); nothing added.")
    assert len(_catalog()) == count
    assert len(arxiv.requests) == 1  # the library knew the id: arXiv was not asked again


def test_a_shipped_paper_with_an_arxiv_link_is_known_without_asking_arxiv(shipped_data_dir, arxiv):
    result = _run("add", "https://arxiv.org/abs/1603.05027v3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Already in the library: “Identity Mappings in Deep Residual Networks”")
    assert arxiv.requests == []


def test_the_same_title_under_another_id_is_reported(shipped_data_dir, arxiv):
    arxiv.add(ArxivPaper("2501.00001v1", "Identity mappings in deep residual networks!", ("K. He",), "An abstract."))
    count = len(_catalog())
    result = _run("add", "2501.00001")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Already in the library: “Identity Mappings in Deep Residual Networks”")
    assert len(_catalog()) == count


@pytest.mark.parametrize("setup, expected", [
    (lambda fake: None, "Error: no arXiv paper 2499.99999: check the id (e.g. 1706.03762 or hep-th/9901001)"),
    (lambda fake: fake.bad_ids.add("2499.99999"), "Error: arXiv does not know 2499.99999: incorrect id format for 2499.99999"),
    (lambda fake: fake.add(ArxivPaper("2499.99999v2", "Gone", ("A. B.",), "This paper has been withdrawn by the author.",
                                      comment="withdrawn due to an error in Lemma 2")),
     "Error: arXiv 2499.99999 has been withdrawn by its authors: nothing to add"),
    (lambda fake: fake.malformed.add("2499.99999"), "Error: arXiv's API (http://127.0.0.1:PORT/api/query) sent a "
                                                    "malformed feed (<unknown>:1:101: no element found): try again later"),
    (lambda fake: setattr(fake, "status", 503), "Error: arXiv's API answered HTTP 503 (http://127.0.0.1:PORT/api/query): "
                                                "try again later, or check PAPERBOT_ARXIV__API_URL"),
])
def test_what_cannot_be_added_is_one_line_a_failure_and_nothing_written(shipped_data_dir, arxiv, monkeypatch,
                                                                          setup, expected):
    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    setup(arxiv)
    version = Library(load_settings()).store.version()
    result = _run("add", "2499.99999")
    assert result.exit_code == 1
    port = load_settings().arxiv.api_url.split(":")[2].split("/")[0]
    assert result.output.splitlines() == [expected.replace("PORT", port)]
    assert Library(load_settings()).store.version() == version


def test_an_api_that_is_down_is_one_line(shipped_data_dir, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("PAPERBOT_ARXIV__API_URL", f"http://127.0.0.1:{port}/api/query?key=secret")
    result = _run("add", "2405.01234")
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error: cannot reach arXiv's API (http://127.0.0.1:{port}/api/query: "
                                          "ConnectError): check the network or PAPERBOT_ARXIV__API_URL"]


def test_not_an_id_is_a_usage_error():
    result = _run("add", "attention is all you need")
    assert result.exit_code == 2
    assert result.output.splitlines() == ["Error: “attention is all you need” is not an arXiv id or link "
                                          "(e.g. 2401.12345 or https://arxiv.org/abs/2401.12345)."]


def test_requests_from_one_process_are_spaced(arxiv):
    import time

    class Recorded(RequestSpacing):
        starts: list[float] = []

        def wait(self) -> None:
            super().wait()
            self.starts.append(time.monotonic())  # the request goes out now

    spacing = 0.4
    client = ArxivClient(os.environ["PAPERBOT_ARXIV__API_URL"], spacing=Recorded(spacing))
    for _ in range(3):
        client.fetch(ArxivId("2405.01234"))
    starts, received = Recorded.starts, [at for at, _ in arxiv.requests]
    assert len(received) == 3 and all(b - a >= spacing - 0.005 for a, b in zip(starts, starts[1:]))
    assert all(sent <= got for sent, got in zip(starts, received))  # each reached arXiv after its wait


def test_spacing_waits_only_for_what_is_left():
    now, slept = [100.0], []
    spacing = RequestSpacing(3.0, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    spacing.wait()
    now[0] += 1.0
    spacing.wait()
    now[0] += 5.0
    spacing.wait()
    assert slept == [2.0]

