"""Bring the state database to the current schema with Alembic, safely when replicas start together.

Every replica migrates on start. On PostgreSQL the upgrade runs in one transaction that first
takes an advisory lock, so a second replica waits, then finds the schema current and does
nothing. On SQLite a lock file beside the database serialises the upgrade between processes.
Databases from before migrations existed are adopted: the first migration creates only the
tables they lack.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock

# Shipped as package data, so migrations run from an installed wheel too.
MIGRATIONS = resources.files("paperbot.bot.state") / "migrations"
# Any fixed 64-bit number; it names paperbot's migration lock among the database's advisory locks.
_ADVISORY_LOCK_KEY = 0x7061706572626F74  # "paperbot"
# Alembic keeps the running migration in module-level proxies: one upgrade per process at a time.
_IN_PROCESS = threading.Lock()


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The revision the shipped migrations lead to."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _file_lock(engine: sa.Engine):
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return nullcontext()  # an in-memory database has one user: this process
    return FileLock(f"{database}.migrate.lock", timeout=120)


def migrate(engine: sa.Engine) -> str | None:
    """Upgrade the database to the newest schema (a no-op when it is current); returns the revision."""
    with _IN_PROCESS, _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held until this transaction ends: replicas starting together upgrade one at a time.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        command.upgrade(_config(conn), "head")
    return current_revision(engine)
