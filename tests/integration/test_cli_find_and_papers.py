"""`paperbot find` (the `/paper` lookup in a terminal) and the readable `paperbot papers`, on a real index."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperbot.bot.cli import main

NOTHING = "Error: nothing to look up: give a title, author, presenter or topic."


@pytest.fixture(autouse=True)
def _width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # what a terminal of 100 columns reports


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _column_starts(header: str, names: list[str]) -> list[int]:
    return [header.index(name) for name in names]


@pytest.mark.parametrize("query", ["lotery tiket", "hongbo tian", "pruning weights", "Kaiming He", "refomer"])
def test_find_ranks_as_the_slash_command_does(shipped_data_dir, shipped_library, query):
    result = _run("find", "--json", *query.split())
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    expected = shipped_library.lookup(query)  # what `/paper QUERY` renders, in its order
    assert [(f["id"], f["matched_on"]) for f in found] == [(h.paper.id, h.matched_on) for h in expected]
    assert found and set(found[0]) == {"id", "title", "authors", "presenter", "source", "added", "date",
                                       "matched_on", "score"}


def test_find_prints_aligned_lines(shipped_data_dir):
    result = _run("find", "hongbo", "tian")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    starts = _column_starts(header, ["PRESENTER", "DATE", "MATCHED ON"])
    assert header.startswith("TITLE") and len(rows) == 3
    for row in rows:
        assert [row[i - 2:i] for i in starts] == ["  "] * 3  # each column starts where its heading does
        assert row[starts[0]:].split()[:2] == ["Hongbo", "Tian"] and row.endswith("presenter")
        assert len(row) <= 100
    assert any(row.startswith("The Lottery Ticket Hypothesis") for row in rows)


def test_find_with_a_typo_and_a_date(shipped_data_dir):
    (row,) = _run("find", "--limit", "1", "identity mapings").stdout.splitlines()[1:]
    assert row.startswith("Identity Mappings in Deep Residual Networks") and "2016-03-16" in row
    assert row.endswith("title")


@pytest.mark.parametrize("args", [[], [""], ["   "], ["<@U0ALICE> <!here>"], ["<https://example.com/x|>"], ["a"]])
def test_an_empty_or_markup_only_query_is_one_line_and_fails(shipped_data_dir, args):
    result = _run("find", *args)
    assert result.exit_code == 2
    assert result.stdout == "" and result.stderr.splitlines() == [NOTHING]


def test_no_match_is_one_line_and_exit_1(shipped_data_dir):
    result = _run("find", "zzqxv")
    assert result.exit_code == 1 and result.stdout.splitlines() == ["No paper matches “zzqxv”."]
    as_json = _run("find", "--json", "zzqxv")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout) == []


def test_papers_are_aligned_columns_newest_first_with_a_count(shipped_data_dir, shipped_library, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "w.md").write_text("---\ntitle: A Rather Long Title About Sparse Mixtures of Low-Rank Adapters for "
                                 "Efficient Multi-Task Fine-Tuning of Language Models\npresenter: Ada\n---\n"
                                 + "Adapters are routed per token. " * 10)
    assert _run("ingest", "--quiet", str(folder)).exit_code == 0

    result = _run("papers")
    assert result.exit_code == 0, result.output
    header, *rows, count = result.stdout.splitlines()
    assert count == "65 papers." and len(rows) == 65
    starts = _column_starts(header, ["PRESENTER", "DATE"])
    titles = {p.title for p in shipped_library.papers()}
    for row in rows:
        assert len(row) <= 100 and [row[i - 2:i] for i in starts] == ["  "] * 2
        title = row[:starts[0]].rstrip()
        if title.endswith("…"):  # cut at a word: a real title begins with it, and a space follows there
            assert any(t.startswith(title[:-1]) and t[len(title) - 1] == " " for t in titles), title
        else:
            assert title in titles
    # The added paper first (added today), then the shipped papers by their sources' dates, then the rest by title.
    assert rows[0].startswith("A Rather Long Title About Sparse Mixtures of Low-Rank Adapters") \
        and rows[0].split()[-2] == "added" and " Ada " in rows[0]
    dates = [row[starts[1]:].strip() for row in rows[1:6]]
    assert dates == ["2020-11-25", "2020-06-26", "2018-07-31", "2016-03-16", "2015-02-11"]
    undated = [row[:starts[0]].rstrip() for row in rows[6:]]
    assert all(row[starts[1]:].strip() == "—" for row in rows[6:])
    assert undated == sorted(undated, key=str.casefold)
    assert any(r.startswith("The Lottery Ticket Hypothesis") and "Hongbo Tian" in r for r in rows)


def test_papers_json_is_unchanged(shipped_data_dir):
    listed = json.loads(_run("papers", "--json").stdout)
    assert len(listed) == 64 and all(set(p) == {"id", "title", "authors", "presenter", "source", "added"}
                                     for p in listed)
