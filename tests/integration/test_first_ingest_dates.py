"""A fresh install's library is not "new this week"; papers added after it are; shipped papers keep their own dates.

On a real index: the shipped corpus ingested into an empty data directory (the session fixture),
then a paper added with `paperbot ingest`, as a team would on its first day.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from paperbot.bot.cli import main
from paperbot.bot.blocks.digest_blocks import digest_message, digest_text
from paperbot.bot.listeners.home import home_view


def _add_a_paper(tmp_path) -> None:
    folder = tmp_path / "this-week"
    folder.mkdir()
    (folder / "memory.md").write_text("---\ntitle: Tiny Recurrent Memory\npresenter: Ada\n---\n"
                                      "A small recurrent memory helps long sequences. " * 5)
    result = CliRunner().invoke(main, ["ingest", "--quiet", str(folder)])
    assert result.exit_code == 0 and "1 new" in result.output, result.output


def test_a_fresh_install_lists_nothing_as_new(shipped_library):
    papers = shipped_library.papers()
    assert len(papers) == 64 and all(p.added is None for p in papers)
    digest = shipped_library.digest(now=datetime.now(timezone.utc))
    assert digest.new_papers == () and not digest.has_news
    text = digest_text(digest)
    assert "New this week: no new summaries" in text and "New this week (" not in text
    _, blocks = digest_message(digest)
    assert "No new summaries this week" in str(blocks)
    latest = str(home_view(papers)["blocks"])
    assert "Nothing added since the library was set up" in latest


def test_shipped_papers_carry_their_sources_dates(shipped_library):
    dated = {p.title: p.date for p in shipped_library.papers() if p.date}
    assert dated["Identity Mappings in Deep Residual Networks"] == datetime(2016, 3, 16, tzinfo=timezone.utc)
    assert dated["Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"] \
        == datetime(2015, 2, 11, tzinfo=timezone.utc)
    assert len(dated) == 5  # the sidecar's arXiv papers; the other sources give no date


def test_a_paper_added_after_the_first_ingest_is_new(shipped_library, tmp_path):
    before = datetime.now(timezone.utc)
    _add_a_paper(tmp_path)
    papers = shipped_library.papers()
    (added,) = [p for p in papers if p.added]
    assert added.title == "Tiny Recurrent Memory" and before <= added.added <= datetime.now(timezone.utc)

    digest = shipped_library.digest(now=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert [p.title for p in digest.new_papers] == ["Tiny Recurrent Memory"]
    assert "New this week (1):\n  • Tiny Recurrent Memory" in digest_text(digest)
    home = home_view(papers)["blocks"]
    latest = [b["text"]["text"] for b in home if b.get("type") == "section"]
    start = latest.index("*Latest additions*")
    assert latest[start + 1].startswith("*Tiny Recurrent Memory* · added")
    assert latest[start + 2].startswith("*How to ask*")  # the shipped papers are not "additions"


def test_reingesting_the_shipped_corpus_changes_no_dates(shipped_library):
    result = CliRunner().invoke(main, ["ingest", "--quiet"])
    assert result.exit_code == 0 and "64 unchanged" in result.output, result.output
    assert all(p.added is None for p in shipped_library.papers())
