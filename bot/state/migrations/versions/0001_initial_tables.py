"""The tables as they were before migrations existed.

Databases created before then already hold some of these tables (each module created its own on
first use), so each table is created only when it is missing: such a database is adopted as it is.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables() -> list[tuple[str, list, list[tuple[str, list[str]]]]]:
    """(name, columns, indexes) of each table, frozen as they were at this revision."""
    return [
        ("processed_events", [
            sa.Column("event_id", sa.String(128), primary_key=True),
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        ], []),
        ("questions", [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("channel", sa.String(64)),
            sa.Column("thread_ts", sa.String(64)),
            sa.Column("answer", sa.Text),
            sa.Column("paper_ids", sa.Text),
            sa.Column("abstained", sa.Boolean),
        ], [("ix_questions_asked_at", ["asked_at"]), ("ix_questions_thread", ["channel", "thread_ts"])]),
        ("feedback", [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("question_id", sa.Integer),
            sa.Column("user_id", sa.String(64)),
            sa.Column("helpful", sa.Boolean, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        ], []),
        ("digest_posts", [
            sa.Column("period_key", sa.String(16), primary_key=True),
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("posted_at", sa.DateTime(timezone=True)),
            sa.Column("channel", sa.String(64)),
            sa.Column("ts", sa.String(32)),
        ], []),
        ("digest_featured", [
            sa.Column("period_key", sa.String(16), primary_key=True),
            sa.Column("paper_id", sa.String(128), primary_key=True),
            sa.Column("featured_at", sa.DateTime(timezone=True), nullable=False),
        ], []),
        ("shared_replies", [
            sa.Column("key", sa.String(32), primary_key=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("blocks", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        ], []),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexes in _tables():
        if name in existing:
            continue
        op.create_table(name, *columns)
        for index_name, index_columns in indexes:
            op.create_index(index_name, name, index_columns)


def downgrade() -> None:
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)
