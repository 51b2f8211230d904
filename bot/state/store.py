"""The bot's state, in one SQL database (SQLite by default; PostgreSQL lets replicas share it).

The schema lives in ``schema.py`` and is migrated on open (``migrate.py``).

- claims: Slack re-sends events; claiming a delivery's key (a primary key) makes sure exactly
  one replica handles it once (see ``once.py``); claims older than a day are pruned;
- the question log: what was asked where and what was cited (the digest and thread follow-ups
  read it; the digest never reads who asked);
- feedback on answers;
- who asked the bot in each channel thread (their follow-ups there need no mention);
- who has been greeted in the bot's Messages tab (once per person).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from .migrate import migrate
from .schema import feedback, greeted_users, processed_events, questions, thread_askers
from ...retrieval.types import Turn

CLAIM_RETENTION = timedelta(days=1)  # Slack re-sends within minutes; a day is ample
PRUNE_EVERY = 500  # claims between prunes of old claims (each replica counts its own)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class State:
    def __init__(self, url: str, *, claim_retention: timedelta = CLAIM_RETENTION, prune_every: int = PRUNE_EVERY):
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # pre-ping: a replica outlives database restarts and idle connections cut by the network
        self.engine = sa.create_engine(parsed, pool_pre_ping=True)
        self.revision = migrate(self.engine)
        self.claim_retention, self.prune_every = claim_retention, prune_every
        self._claims = 0

    @classmethod
    def from_settings(cls, settings) -> "State":
        return cls(settings.state_url)

    def ping(self) -> None:
        """Raise unless the database answers (for the readiness check)."""
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- claims ------------------------------------------------------------------------------

    def claim(self, key: str) -> bool:
        """True for the first caller (any replica) with this key, False for every other."""
        if self._claims % self.prune_every == 0:
            self.prune_claims()
        self._claims += 1
        row = {"event_id": key, "claimed_at": _now()}
        dialect = self.engine.dialect.name
        if dialect in ("postgresql", "sqlite"):
            # ON CONFLICT DO NOTHING: a taken claim is an answer, not an error in the server's log
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            statement = (insert(processed_events).values(**row).on_conflict_do_nothing()
                         .returning(processed_events.c.event_id))  # a row back: this caller took it
            with self.engine.begin() as conn:
                return conn.execute(statement).first() is not None
        try:
            with self.engine.begin() as conn:
                conn.execute(processed_events.insert().values(**row))
            return True
        except IntegrityError:
            return False

    def release(self, key: str) -> None:
        """Give a claim back (the reply never reached Slack): the next delivery of it is handled."""
        with self.engine.begin() as conn:
            conn.execute(processed_events.delete().where(processed_events.c.event_id == key))

    def prune_claims(self, now: datetime | None = None) -> int:
        """Forget claims older than the retention window; returns how many."""
        cutoff = (now or _now()) - self.claim_retention
        with self.engine.begin() as conn:
            return conn.execute(processed_events.delete().where(processed_events.c.claimed_at < cutoff)).rowcount


    # -- questions ---------------------------------------------------------------------------

    def record_question(self, text: str, asked_at: datetime | None = None, *, channel: str | None = None,
                        thread_ts: str | None = None, answer: str | None = None, paper_ids=(),
                        abstained: bool = False) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(questions.insert().values(
                text=text, asked_at=asked_at or _now(), channel=channel, thread_ts=thread_ts, answer=answer,
                paper_ids=json.dumps(list(paper_ids)), abstained=abstained))
            key = result.inserted_primary_key
            if key is None:  # an insert of one row always has its key
                raise RuntimeError("the question log gave no id for the new row")
            return int(key[0])

    def forget_question(self, question_id: int) -> None:
        """Drop a logged question whose answer never reached Slack (a redelivery logs it again)."""
        with self.engine.begin() as conn:
            conn.execute(questions.delete().where(questions.c.id == question_id))

    def questions_between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """Questions asked in [start, end]: text and time only, never who asked."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(questions.c.text, questions.c.asked_at)
                                .where(questions.c.asked_at >= start, questions.c.asked_at <= end)).all()
        return [(text, _aware(at)) for text, at in rows]

    def questions_about(self, paper_id: str) -> int:
        """How many logged questions were answered from this paper (it is among their cited papers)."""
        quoted = json.dumps(paper_id)  # as it stands in the JSON list of cited ids
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(questions)
                                .where(questions.c.paper_ids.contains(quoted, autoescape=True))).scalar_one()

    def thread_history(self, channel: str, thread_ts: str) -> list[Turn]:
        """The earlier turns the bot answered in this thread, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(questions.c.text, questions.c.answer, questions.c.paper_ids)
                                .where(questions.c.channel == channel, questions.c.thread_ts == thread_ts,
                                       questions.c.answer.is_not(None))
                                .order_by(questions.c.id)).all()
        return [Turn(text, answer or "", tuple(json.loads(ids or "[]"))) for text, answer, ids in rows]

    def is_bot_thread(self, channel: str, thread_ts: str) -> bool:
        return bool(self.thread_history(channel, thread_ts))

    # -- who asked in a thread ----------------------------------------------------------------

    def remember_asker(self, channel: str, thread_ts: str, user_id: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(thread_askers.insert().values(channel=channel, thread_ts=thread_ts, user_id=user_id,
                                                           asked_at=_now()))
        except IntegrityError:
            pass  # asked there before

    def is_asker(self, channel: str, thread_ts: str, user_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(thread_askers.c.user_id).where(
                thread_askers.c.channel == channel, thread_askers.c.thread_ts == thread_ts,
                thread_askers.c.user_id == user_id)).first() is not None

    # -- greetings in the Messages tab ---------------------------------------------------------

    def claim_greeting(self, user_id: str) -> bool:
        """True the first time (on any replica) this person is to be greeted, False ever after."""
        try:
            with self.engine.begin() as conn:
                conn.execute(greeted_users.insert().values(user_id=user_id, greeted_at=_now()))
            return True
        except IntegrityError:
            return False

    def release_greeting(self, user_id: str) -> None:
        """The greeting could not be posted: greet them on their next visit instead."""
        with self.engine.begin() as conn:
            conn.execute(greeted_users.delete().where(greeted_users.c.user_id == user_id))

    # -- feedback ----------------------------------------------------------------------------

    def record_feedback(self, question_id: int | None, user_id: str, helpful: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(feedback.insert().values(question_id=question_id, user_id=user_id, helpful=helpful, at=_now()))

    def feedback_for(self, question_id: int) -> list[tuple[str, bool]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(feedback.c.user_id, feedback.c.helpful)
                                .where(feedback.c.question_id == question_id)).all()
        return [(user, helpful) for user, helpful in rows]
