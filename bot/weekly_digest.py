"""The weekly digest: render it, post it once per period, and a scheduler for `paperbot serve`.

Posting is idempotent per period (the ISO week in the digest's time zone): the poster first
claims the period under a unique key in the shared state database, so a restart, a re-run
from cron or a second replica finds the claim and does not post again. A failed post
releases the claim so the next attempt can try again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal, Protocol
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..config import Settings
from ..config.settings import DigestSettings
from .blocks.digest_blocks import digest_message
from .state.schema import digest_featured, digest_posts
from ..retrieval.library import digest_period

if TYPE_CHECKING:
    from ..retrieval.library import Digest

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STALE_CLAIM = timedelta(minutes=15)  # a claim never completed (the poster died) may be taken over

def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


class DigestLedger:
    """Which periods were posted (or are being posted) and which papers were featured when."""

    def __init__(self, engine: Engine):
        self.engine = engine  # the state's engine: its tables exist (migrated when the state opened)

    def claim(self, period_key: str, now: datetime) -> bool:
        """Take the period for posting; False when someone posted it or is posting it."""
        with self.engine.begin() as conn:
            try:
                conn.execute(insert(digest_posts).values(period_key=period_key, claimed_at=now))
                return True
            except IntegrityError:
                pass
        with self.engine.begin() as conn:
            taken_over = conn.execute(
                update(digest_posts)
                .where(digest_posts.c.period_key == period_key, digest_posts.c.posted_at.is_(None))
                .where(digest_posts.c.claimed_at < now - STALE_CLAIM)
                .values(claimed_at=now)
            )
            return taken_over.rowcount == 1

    def release(self, period_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(digest_posts).where(digest_posts.c.period_key == period_key, digest_posts.c.posted_at.is_(None))
            )

    def complete(self, period_key: str, *, channel: str, ts: str, featured: Sequence[str], now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(digest_posts)
                .where(digest_posts.c.period_key == period_key)
                .values(posted_at=now, channel=channel, ts=ts)
            )
            for paper_id in dict.fromkeys(featured):
                conn.execute(insert(digest_featured).values(period_key=period_key, paper_id=paper_id, featured_at=now))

    def last_posted_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            posted = conn.execute(select(digest_posts.c.posted_at).order_by(digest_posts.c.posted_at.desc())
                                  .where(digest_posts.c.posted_at.is_not(None)).limit(1)).scalar()
            return _aware(posted) if posted else None

    def posts(self) -> list[tuple[str, str | None]]:
        with self.engine.connect() as conn:
            return [(r.period_key, r.ts) for r in conn.execute(select(digest_posts).order_by(digest_posts.c.period_key))]

    def featured(self) -> dict[str, datetime]:
        """Each paper's latest feature."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(digest_featured.c.paper_id, digest_featured.c.featured_at))
            latest: dict[str, datetime] = {}
            for paper_id, when in rows:
                when = _aware(when)
                if paper_id not in latest or when > latest[paper_id]:
                    latest[paper_id] = when
            return latest


class QuestionSource(Protocol):
    def questions_between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]: ...


class DigestSelector(Protocol):
    def digest(
        self, *, now: datetime, since: datetime | None, questions: Sequence[tuple[str, datetime]],
        featured: dict[str, datetime],
    ) -> Digest: ...


def build_digest(library: DigestSelector, ledger: DigestLedger, questions: QuestionSource, now: datetime) -> Digest:
    """This period's digest: new since the last posted digest, questions of the past week."""
    return library.digest(
        now=now,
        since=ledger.last_posted_at(),
        questions=questions.questions_between(now - timedelta(days=7), now),
        featured=ledger.featured(),
    )


@dataclass(frozen=True)
class PostOutcome:
    status: Literal["posted", "already_posted", "skipped_empty", "no_channel"]
    period: str
    ts: str | None = None


def post_digest(
    client: WebClient,
    settings: Settings,
    library: DigestSelector,
    ledger: DigestLedger,
    questions: QuestionSource,
    *,
    now: datetime,
) -> PostOutcome:
    """Post this period's digest to the digest channel, at most once per period."""
    channel = settings.digest.channel
    period = digest_period(now, ZoneInfo(settings.digest.timezone))
    if not channel:
        return PostOutcome("no_channel", period.key)
    if not ledger.claim(period.key, now):
        return PostOutcome("already_posted", period.key)
    try:
        digest = build_digest(library, ledger, questions, now)
        if settings.digest.skip_empty and not digest.has_news:
            ledger.complete(period.key, channel=channel, ts="", featured=(), now=now)
            return PostOutcome("skipped_empty", period.key)
        text, blocks = digest_message(digest)
        response = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    except BaseException:
        ledger.release(period.key)  # nothing went out: let the next attempt post it
        raise
    featured = [p.paper_id for p in digest.new_papers]
    if digest.archive_pick:
        featured.append(digest.archive_pick.paper_id)
    ledger.complete(period.key, channel=channel, ts=response["ts"], featured=featured, now=now)
    return PostOutcome("posted", period.key, response["ts"])


def next_slot(now: datetime, schedule: DigestSettings) -> datetime:
    """The first scheduled posting time at or after ``now`` (aware, in the digest's time zone)."""
    tz = ZoneInfo(schedule.timezone)
    local = now.astimezone(tz)
    hour, minute = (int(part) for part in schedule.time.split(":"))
    days_ahead = (WEEKDAYS.index(schedule.weekday) - local.weekday()) % 7
    day = local.date() + timedelta(days=days_ahead)
    slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    if slot < local:
        day += timedelta(days=7)
        slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    return slot


class DigestScheduler:
    """A background thread that posts the digest at each scheduled slot (for `paperbot serve`).

    Every replica may run one: the claim in the state database lets only one of them post.
    """

    def __init__(
        self,
        post: Callable[[datetime], PostOutcome],
        schedule: DigestSettings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        self._post = post
        self._schedule = schedule
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="digest-scheduler", daemon=True)

    def start(self) -> "DigestScheduler":
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            slot = next_slot(now, self._schedule)
            if self._stop.wait(max(0.0, (slot - now).total_seconds())):
                return
            try:
                outcome = self._post(self._clock())
                log.info("weekly digest %s: %s", outcome.period, outcome.status)
            except Exception:  # keep the schedule alive; the claim was released, the next slot retries
                log.exception("weekly digest failed")
            # Step past this slot so it is not handled twice (the claim would refuse it anyway).
            while self._clock() <= slot and not self._stop.wait(1.0):
                pass


def start_digest_scheduler(
    settings: Settings, library: DigestSelector, questions: QuestionSource, engine: Engine, client: WebClient
) -> DigestScheduler | None:
    """Start posting the weekly digest on schedule (for `paperbot serve`); None without a digest channel."""
    if not settings.digest.channel:
        log.info("no PAPERBOT_DIGEST__CHANNEL: the weekly digest is not scheduled")
        return None
    ledger = DigestLedger(engine)

    def post(now: datetime) -> PostOutcome:
        return post_digest(client, settings, library, ledger, questions, now=now)

    log.info("weekly digest scheduled for %s %s %s to %s", settings.digest.weekday, settings.digest.time,
             settings.digest.timezone, settings.digest.channel)
    return DigestScheduler(post, settings.digest).start()
