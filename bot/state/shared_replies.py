"""Replies a user may later share in the channel ("Share in channel" on an ephemeral answer).

A button's value holds at most 2000 characters, an answer with citations more: the reply is
kept here under a random key and the button carries the key. Stored in the shared state
database so any replica can serve the click.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, insert, select

from .schema import shared_replies

KEEP_FOR = timedelta(days=7)


class SharedReplies:
    def __init__(self, engine: Engine):
        self.engine = engine  # the state's engine: its tables exist (migrated when the state opened)

    def keep(self, text: str, blocks: list[dict], now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        key = secrets.token_urlsafe(16)
        with self.engine.begin() as conn:
            conn.execute(delete(shared_replies).where(shared_replies.c.created_at < now - KEEP_FOR))
            conn.execute(insert(shared_replies).values(key=key, text=text, blocks=json.dumps(blocks), created_at=now))
        return key

    def get(self, key: str) -> tuple[str, list[dict]] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(shared_replies).where(shared_replies.c.key == key)).first()
        return (row.text, json.loads(row.blocks)) if row else None
