"""The bot's state schema: every table, in one place.

The database is created and upgraded by the Alembic migrations in ``migrations/`` (run by
:func:`paperbot.bot.state.migrate.migrate` when the state is opened); a test checks that the migrated
database matches these definitions exactly. Changing a table here means adding a migration.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# One row per Slack delivery a replica took on (an event, a command, a button click): the primary
# key makes the claim atomic across replicas. Rows older than a day are pruned.
processed_events = sa.Table(
    "processed_events", metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),  # the delivery's key (see bot/state/once.py)
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

# What was asked where and what was cited (the digest and thread follow-ups read it; the digest
# never reads who asked).
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

# 👍/👎 on answers, by question-log id.
feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("question_id", sa.Integer),
    sa.Column("user_id", sa.String(64)),
    sa.Column("helpful", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

# The weekly digest: one post per period (the primary key is the claim), and what it featured.
digest_posts = sa.Table(
    "digest_posts", metadata,
    sa.Column("period_key", sa.String(16), primary_key=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("posted_at", sa.DateTime(timezone=True)),
    sa.Column("channel", sa.String(64)),
    sa.Column("ts", sa.String(32)),
)
digest_featured = sa.Table(
    "digest_featured", metadata,
    sa.Column("period_key", sa.String(16), primary_key=True),
    sa.Column("paper_id", sa.String(128), primary_key=True),
    sa.Column("featured_at", sa.DateTime(timezone=True), nullable=False),
)

# `/paper ask` replies a user may share later (a button's value is too small to hold one).
shared_replies = sa.Table(
    "shared_replies", metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("blocks", sa.Text, nullable=False),  # JSON list of Block Kit blocks
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
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
