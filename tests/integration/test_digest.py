"""Digest selection: new papers, popular questions, an archive pick and topics, with a frozen clock."""

from __future__ import annotations

from dataclasses import replace
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from paperbot.retrieval.answering.digest import ARCHIVE_COOLDOWN, DigestPeriod, popular_questions, select_digest
from paperbot.retrieval.corpus.loaders import corpus_files, load_file
from tests.conftest import SHIPPED_CORPUS

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=timezone.utc)  # a Monday
LONG_AGO = NOW - timedelta(days=90)


@pytest.fixture(scope="module")
def corpus():
    papers = [paper for path in corpus_files([SHIPPED_CORPUS]) for paper in load_file(path)]
    return [replace(p, added=LONG_AGO) for p in papers]


def _added_this_week(corpus, prefixes, by="U0ALICE"):
    chosen = []
    for i, prefix in enumerate(prefixes):
        (paper,) = [p for p in corpus if p.title.startswith(prefix)]
        chosen.append(replace(paper, added=NOW - timedelta(days=3, hours=i), added_by=by))
    ids = {p.id for p in chosen}
    return [p for p in corpus if p.id not in ids] + chosen


def test_new_papers_are_those_added_since_the_last_digest(corpus):
    papers = _added_this_week(corpus, ["The Lottery Ticket", "Reformer"])
    digest = select_digest(papers, now=NOW, since=NOW - timedelta(days=7))
    assert [p.title[:18] for p in digest.new_papers] == ["Reformer: The Effi", "The Lottery Ticket"]
    lottery = digest.new_papers[1]
    assert lottery.added_by == "U0ALICE"
    assert lottery.tldr.startswith("Pruned neural network architectures")
    assert digest.corpus_size == len(corpus)
    # The last digest went out after these were added: nothing is new any more.
    assert select_digest(papers, now=NOW, since=NOW - timedelta(days=1)).new_papers == ()


def test_popular_questions_group_near_duplicates_and_drop_old_ones(corpus):
    asked = [
        ("How does Reformer make attention cheaper?", NOW - timedelta(days=1)),
        ("What is the lottery ticket hypothesis?", NOW - timedelta(days=1)),
        ("what's the lottery ticket hypothesis", NOW - timedelta(days=2)),
        ("What is the  lottery ticket hypothesis?", NOW - timedelta(days=5)),
        ("Who wins at soccer betting?", NOW - timedelta(days=20)),  # not this week
    ]
    digest = select_digest(corpus, now=NOW, questions=asked)
    assert [(q.text, q.count) for q in digest.questions] == [
        ("What is the lottery ticket hypothesis?", 3),
        ("How does Reformer make attention cheaper?", 1),
    ]


def test_different_questions_stay_apart():
    grouped = popular_questions(["What is FixMatch?", "What is PointRend?", "What is FixMatch"])
    assert [(q.text, q.count) for q in grouped] == [("What is FixMatch?", 2), ("What is PointRend?", 1)]


def test_archive_pick_is_old_not_recently_featured_and_stable_within_the_week(corpus):
    papers = _added_this_week(corpus, ["Reformer"])
    first = select_digest(papers, now=NOW).archive_pick
    assert first is not None and not first.title.startswith("Reformer")
    assert select_digest(papers, now=NOW + timedelta(hours=5)).archive_pick == first
    featured = {first.paper_id: NOW - timedelta(days=1)}
    second = select_digest(papers, now=NOW, featured=featured).archive_pick
    assert second is not None and second.paper_id != first.paper_id
    # After the cooldown the paper may come back.
    rested = {first.paper_id: NOW - ARCHIVE_COOLDOWN}
    assert select_digest(papers, now=NOW, featured=rested).archive_pick == first


def test_when_everything_was_featured_the_longest_rested_paper_comes_back(corpus):
    featured = {p.id: NOW - timedelta(days=1 + i) for i, p in enumerate(corpus)}
    pick = select_digest(corpus, now=NOW, featured=featured).archive_pick
    assert pick.paper_id == corpus[-1].id


def test_topics_come_from_the_new_papers_and_questions(corpus):
    papers = _added_this_week(corpus, ["The Lottery Ticket", "Reformer", "MnasNet"])
    asked = [("lottery ticket pruning at init?", NOW - timedelta(days=1))]
    topics = select_digest(papers, now=NOW, questions=asked).topics
    assert topics[0] == "lottery ticket"
    assert "reformer" in topics and "architecture search" in topics
    assert len(topics) == len(set(topics)) <= 5
    assert select_digest(corpus, now=NOW).topics == ()


def test_a_quiet_week_has_no_news_but_still_an_archive_pick(corpus):
    digest = select_digest(corpus, now=NOW)
    assert not digest.has_news and digest.questions == () and digest.archive_pick is not None


def test_the_period_is_the_iso_week_in_the_digest_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    # Sunday 23:30 UTC is already Monday in Berlin: the next ISO week there.
    sunday_night = datetime(2025, 3, 16, 23, 30, tzinfo=timezone.utc)
    assert DigestPeriod.of(sunday_night, timezone.utc).key == "2025-W11"
    period = DigestPeriod.of(sunday_night, berlin)
    assert period.key == "2025-W12"
    assert period.start == datetime(2025, 3, 17, tzinfo=berlin) and period.end == datetime(2025, 3, 24, tzinfo=berlin)
    assert DigestPeriod.of(datetime(2027, 1, 1, 12, tzinfo=timezone.utc), timezone.utc).key == "2026-W53"


# -- posting: once per period, whatever happens ------------------------------------------------

import threading  # noqa: E402

from slack_sdk import WebClient  # noqa: E402
from slack_sdk.errors import SlackApiError  # noqa: E402

from paperbot.bot.weekly_digest import DigestLedger, DigestScheduler, next_slot, post_digest  # noqa: E402
from paperbot.config.settings import DigestSettings  # noqa: E402
from paperbot.bot.state.store import State  # noqa: E402
from tests.paper_slack_harness import start_fake_slack  # noqa: E402


@pytest.fixture
def poster(shipped_data_dir, tmp_path):
    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    fake, server = start_fake_slack()
    settings = load_settings(data_dir=shipped_data_dir, corpus_dir=SHIPPED_CORPUS,
                             digest={"channel": "C9DIGEST", "timezone": "Europe/Berlin"})
    library = Library(settings)
    state = State(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    client = WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{server.server_port}/api/")

    def post(now, *, ledger=None):
        return post_digest(client, settings, library, ledger or DigestLedger(state.engine), state, now=now)

    # The clock is frozen an hour from now, after the (fresh) install's ingest.
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    yield fake, post, state, settings, start
    server.shutdown()


def test_the_digest_is_posted_once_per_week_across_reruns_and_restarts(poster):
    fake, post, state, _, NOW = poster
    first = post(NOW)
    assert first.status == "posted" and first.period == DigestPeriod.of(NOW, ZoneInfo("Europe/Berlin")).key
    (call,) = fake.of("chat.postMessage")
    assert call.args["channel"] == "C9DIGEST" and call.args["blocks"][0]["type"] == "header"
    # A re-run from cron, then a "restarted" process with a fresh ledger object: no second post.
    assert post(NOW + timedelta(minutes=5)).status == "already_posted"
    assert post(NOW + timedelta(days=2), ledger=DigestLedger(state.engine)).status == "already_posted"
    assert len(fake.of("chat.postMessage")) == 1
    # Next week posts again, and its archive pick is not last week's.
    assert post(NOW + timedelta(days=7)).status == "posted"
    posts = fake.of("chat.postMessage")
    assert len(posts) == 2


def test_two_replicas_posting_at_the_same_moment_post_once(poster):
    fake, post, state, _, NOW = poster
    barrier = threading.Barrier(4)
    outcomes = []

    def replica(ledger):
        barrier.wait(timeout=5)
        outcomes.append(post(NOW, ledger=ledger).status)

    # Each replica has its own ledger (its own process, in real life); all share the database.
    threads = [threading.Thread(target=replica, args=(DigestLedger(state.engine),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_posted"] * 3 + ["posted"]
    assert len(fake.of("chat.postMessage")) == 1


def test_a_failed_post_releases_the_claim_so_the_next_run_posts(poster):
    fake, post, _, _, NOW = poster
    fake.fail_methods.add("chat.postMessage")
    with pytest.raises(SlackApiError):
        post(NOW)
    fake.fail_methods.clear()
    assert post(NOW + timedelta(minutes=1)).status == "posted"


def test_archive_picks_are_remembered_between_weeks(poster):
    fake, post, state, _, NOW = poster
    ledger = DigestLedger(state.engine)
    post(NOW, ledger=ledger)
    featured_first = set(ledger.featured())
    assert featured_first  # the archive pick (a fresh install's papers are not news)
    assert ledger.last_posted_at() == NOW


def test_skip_empty_weeks_by_setting(poster, tmp_path):
    from paperbot.retrieval.library import Library
    from paperbot.retrieval.types import Paper, paper_id_for

    fake, post, state, settings, NOW = poster
    settings.digest.skip_empty = True
    assert post(NOW).status == "skipped_empty"  # a fresh install's papers are not news
    added = NOW + timedelta(days=3)
    Library(settings).add_paper(Paper(id=paper_id_for("slack", "Tiny Recurrent Memory"), title="Tiny Recurrent Memory",
                                      text="A small memory helps recurrence.", source="slack", added=added))
    assert post(NOW + timedelta(days=7)).status == "posted"
    assert post(NOW + timedelta(days=14)).status == "skipped_empty"
    (posted,) = fake.of("chat.postMessage")
    assert "Tiny Recurrent Memory" in str(posted.args["blocks"])


def test_next_slot_is_the_configured_weekday_and_time_in_the_configured_zone():
    schedule = DigestSettings(weekday="mon", time="09:00", timezone="Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 07:30 UTC is 08:30 in Berlin (CET): the slot is today at 09:00 local.
    assert next_slot(datetime(2025, 3, 10, 7, 30, tzinfo=timezone.utc), schedule) == datetime(2025, 3, 10, 9, 0, tzinfo=berlin)
    # Monday 08:30 UTC is past 09:00 local: next week's Monday; summer time has begun by then.
    after = next_slot(datetime(2025, 3, 31, 8, 30, tzinfo=timezone.utc), schedule)
    assert after == datetime(2025, 4, 7, 9, 0, tzinfo=berlin) and after.utcoffset() == timedelta(hours=2)


def test_the_scheduler_posts_at_the_slot_and_only_once(poster):
    _, post, _, settings, NOW = poster
    schedule = DigestSettings(weekday="mon", time="09:00", timezone="UTC")
    slot = next_slot(NOW, schedule)
    clock = {"now": slot - timedelta(milliseconds=100)}
    posted = threading.Event()
    outcomes = []

    def post_and_advance(now):
        outcomes.append(post(now))
        clock["now"] += timedelta(seconds=1)  # time moves on past the slot
        posted.set()
        return outcomes[-1]

    scheduler = DigestScheduler(post_and_advance, schedule, clock=lambda: clock["now"]).start()
    assert posted.wait(5)
    time.sleep(0.3)
    scheduler.stop()
    assert [o.status for o in outcomes] == ["posted"]
