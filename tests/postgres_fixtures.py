"""Fixtures for tests on a real PostgreSQL: the server, and an empty database per test.

The server is TEST_POSTGRESQL_URL when set (`.ci/run` sets it; the tests then fail rather than
skip if it is unreachable), else a throwaway cluster started here when PostgreSQL is installed.
Only with neither are the tests skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests import postgres_server


@pytest.fixture(scope="session")
def postgres_url():
    given = os.environ.get(postgres_server.URL_VARIABLE)
    if given:
        yield given
        return
    try:
        postgres_server.bindir()
    except postgres_server.Unavailable as exc:
        pytest.skip(f"no PostgreSQL server: {exc}, or set {postgres_server.URL_VARIABLE}")
    directory = Path(tempfile.mkdtemp(prefix="paperbot-pg-"))  # not under pytest's tmp: the postgres user reads it
    try:
        yield postgres_server.start(directory)
    finally:
        postgres_server.stop(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def empty_postgres(postgres_url) -> str:
    """The URL of a new, empty database on the server (dropped after the test)."""
    name = f"paperbot_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
