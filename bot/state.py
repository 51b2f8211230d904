"""The bot's state, in one SQL database (SQLite by default; PostgreSQL lets replicas share it).

- processed events: Slack re-sends events; claiming the event id (a primary key) makes sure
  exactly one replica answers each event once;
- the question log: what was asked where and what was cited (the digest and thread follow-ups
  read it; the digest never reads who asked);
- feedback on answers;
- who asked the bot in each channel thread (their follow-ups there need no mention);
- who has been greeted in the bot's Messages tab (once per person).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from paperbot.retrieval.types import Turn

metadata = sa.MetaData()

processed_events = sa.Table(
    "processed_events", metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
)

questions = sa.Table(
    "questions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("channel", sa.String(64)),
    sa.Column("thread_ts", sa.String(64)),
    sa.Column("answer", sa.Text),
    sa.Column("paper_ids", sa.Text),  # JSON list
    sa.Column("abstained", sa.Boolean, default=False),
    sa.Index("ix_questions_thread", "channel", "thread_ts"),
)

feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("question_id", sa.Integer),
    sa.Column("user_id", sa.String(64)),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


# Who asked the bot (by mentioning it) in a channel thread. Kept apart from the question log,
# which the digest reads: the digest never learns who asked.
thread_askers = sa.Table(
    "thread_askers", metadata,
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("thread_ts", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
)

# People the bot greeted in its Messages tab; the primary key makes the greeting happen once
# per person even when two replicas see the same first visit.
greeted_users = sa.Table(
    "greeted_users", metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("greeted_at", sa.DateTime(timezone=True), nullable=False),
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class State:
    def __init__(self, url: str):
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, future=True)
        metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings) -> "State":
        return cls(settings.state_url)

    # -- events ------------------------------------------------------------------------------

    def claim_event(self, event_id: str) -> bool:
        """True for the first caller (any replica) with this event id, False for every other."""
        try:
            with self.engine.begin() as conn:
                conn.execute(processed_events.insert().values(event_id=event_id, claimed_at=_now()))
            return True
        except IntegrityError:
            return False

    # -- questions ---------------------------------------------------------------------------

    def record_question(self, text: str, asked_at: datetime | None = None, *, channel: str | None = None,
                        thread_ts: str | None = None, answer: str | None = None, paper_ids=(),
                        abstained: bool = False) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(questions.insert().values(
                text=text, asked_at=asked_at or _now(), channel=channel, thread_ts=thread_ts, answer=answer,
                paper_ids=json.dumps(list(paper_ids)), abstained=abstained))
            return int(result.inserted_primary_key[0])

    def questions_between(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
        """Questions asked in [start, end]: text and time only, never who asked."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(questions.c.text, questions.c.asked_at)
                                .where(questions.c.asked_at >= start, questions.c.asked_at <= end)).all()
        return [(text, _aware(at)) for text, at in rows]

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
