"""Claims are pruned by age: index processed_events.claimed_at so the prune is cheap.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_processed_events_claimed_at", "processed_events", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_events_claimed_at", table_name="processed_events")
