"""The state database: one schema migrated by Alembic, on SQLite and on a real PostgreSQL.

Replicas starting together on an empty database, databases from before migrations, claims
(claim once, release, prune).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paperbot.bot.state import schema
from paperbot.bot.state.migrate import current_revision, head_revision
from paperbot.bot.state.store import State


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_state_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    return request.getfixturevalue("empty_postgres")


def _schema_differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), schema.metadata)


def _table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_migrations_build_exactly_the_schema(empty_state_url):
    state = State(empty_state_url)
    assert state.revision == head_revision() == current_revision(state.engine)
    assert _table_names(state.engine) == set(schema.metadata.tables) | {"alembic_version"}
    assert _schema_differences(state.engine) == []


def test_reopening_a_current_database_changes_nothing(empty_state_url):
    first = State(empty_state_url)
    first.record_question("who wrote Reformer?", channel="C1", thread_ts="1.1", answer="Kitaev")
    again = State(empty_state_url)
    assert again.revision == head_revision()
    assert [t.question for t in again.thread_history("C1", "1.1")] == ["who wrote Reformer?"]


def _start_together(url: str, replicas: int, tmp_path) -> list[tuple[int, str, str]]:
    """Start ``replicas`` processes that open the state at ``url`` at the same moment.

    Each imports everything first and says so, then waits for the common go: the race is on
    opening the database, not on the interpreters' start-up. Returns (exit code, stdout, stderr) each.
    """
    go = tmp_path / f"go-{uuid.uuid4().hex}"
    script = ("import sys, time, pathlib\n"
              "from paperbot.bot.state.store import State\n"
              "print('ready', file=sys.stderr, flush=True)\n"
              f"go = pathlib.Path({str(go)!r})\n"
              "while not go.exists(): time.sleep(0.005)\n"
              f"print(State({url!r}).revision)\n")
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(replicas)]
    for p in processes:
        assert p.stderr.readline().strip() == "ready"
    go.touch()
    outcomes = []
    for p in processes:
        out, err = p.communicate(timeout=120)
        outcomes.append((p.returncode, out.strip(), err[-800:]))
    return outcomes


@pytest.mark.slow
def test_replicas_starting_together_on_an_empty_postgres_make_one_schema(postgres_url, request, tmp_path):
    """Two rounds: four replica processes open one new, empty database at the same moment."""
    for _ in range(2):
        url = _new_database(postgres_url, request)
        outcomes = _start_together(url, 4, tmp_path)
        assert [code for code, _, _ in outcomes] == [0] * 4, [err for _, _, err in outcomes]
        assert {revision for _, revision, _ in outcomes} == {head_revision()}
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert _schema_differences(engine) == []
        engine.dispose()


def test_replicas_starting_together_on_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared' / 'state.sqlite3'}"
    outcomes = _start_together(url, 4, tmp_path)
    assert [code for code, _, _ in outcomes] == [0] * 4, [err for _, _, err in outcomes]
    assert {revision for _, revision, _ in outcomes} == {head_revision()}
    assert _schema_differences(sa.create_engine(url)) == []


def test_threads_of_one_process_open_states_at_once(tmp_path):
    """Alembic runs one migration per process at a time; several States opened together still work."""
    urls = [f"sqlite:///{tmp_path / f'state-{n}.sqlite3'}" for n in range(4)]
    barrier, errors, revisions = threading.Barrier(4), [], []

    def open_state(url):
        try:
            barrier.wait()
            revisions.append(State(url).revision)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_state, args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and revisions == [head_revision()] * 4


def _new_database(postgres_url: str, request) -> str:
    name = f"paperbot_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


# -- databases from before migrations ---------------------------------------------------------

def _pre_migration_tables(engine: sa.Engine, *, with_digest: bool) -> None:
    """The tables as paperbot created them before migrations (each module its own, on first use)."""
    old = sa.MetaData()
    sa.Table("processed_events", old, sa.Column("event_id", sa.String(128), primary_key=True),
             sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False))
    sa.Table("questions", old, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("text", sa.Text, nullable=False),
             sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False, index=True),
             sa.Column("channel", sa.String(64)), sa.Column("thread_ts", sa.String(64)), sa.Column("answer", sa.Text),
             sa.Column("paper_ids", sa.Text), sa.Column("abstained", sa.Boolean, default=False),
             sa.Index("ix_questions_thread", "channel", "thread_ts"))
    sa.Table("feedback", old, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("question_id", sa.Integer), sa.Column("user_id", sa.String(64)),
             sa.Column("helpful", sa.Boolean, nullable=False), sa.Column("at", sa.DateTime(timezone=True), nullable=False))
    if with_digest:
        sa.Table("digest_posts", old, sa.Column("period_key", sa.String(16), primary_key=True),
                 sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
                 sa.Column("posted_at", sa.DateTime(timezone=True)), sa.Column("channel", sa.String(64)),
                 sa.Column("ts", sa.String(32)))
    old.create_all(engine)


@pytest.mark.parametrize("with_digest", [True, False], ids=["all-modules-used", "digest-never-used"])
def test_a_database_from_before_migrations_is_adopted_with_its_rows(tmp_path, with_digest):
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    engine = sa.create_engine(url)
    _pre_migration_tables(engine, with_digest=with_digest)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO questions (text, asked_at, channel, thread_ts, answer, paper_ids, abstained) "
                             "VALUES ('who wrote Reformer?', :at, 'C1', '1.1', 'Kitaev et al.', '[\"reformer\"]', 0)"),
                     {"at": now})
        conn.execute(sa.text("INSERT INTO feedback (question_id, user_id, helpful, at) VALUES (1, 'U1', 1, :at)"), {"at": now})
        conn.execute(sa.text("INSERT INTO processed_events (event_id, claimed_at) VALUES ('Ev1', :at)"), {"at": now})
        if with_digest:
            conn.execute(sa.text("INSERT INTO digest_posts (period_key, claimed_at, posted_at, channel, ts) "
                                 "VALUES ('2026-W47', :at, :at, 'C9', '1.2')"), {"at": now})
    engine.dispose()

    state = State(url)
    assert state.revision == head_revision()
    assert _schema_differences(state.engine) == []  # missing tables created, the new index added
    (turn,) = state.thread_history("C1", "1.1")
    assert (turn.question, turn.answer, turn.paper_ids) == ("who wrote Reformer?", "Kitaev et al.", ("reformer",))
    assert state.feedback_for(1) == [("U1", True)]
    assert state.claim("Ev1") is False  # a claim taken before the upgrade still holds
    from paperbot.bot.weekly_digest import DigestLedger

    assert DigestLedger(state.engine).posts() == ([("2026-W47", "1.2")] if with_digest else [])


# -- claims -----------------------------------------------------------------------------------

def test_a_claim_is_taken_once_and_can_be_released(empty_state_url):
    replica_a, replica_b = State(empty_state_url), State(empty_state_url)
    assert replica_a.claim("message:T1:C1:1.1") is True
    assert replica_b.claim("message:T1:C1:1.1") is False
    replica_a.release("message:T1:C1:1.1")
    assert replica_b.claim("message:T1:C1:1.1") is True
    assert replica_a.claim("message:T1:C1:1.1") is False


def test_replicas_claiming_at_the_same_moment_get_one_claim_between_them(empty_state_url):
    replicas = [State(empty_state_url) for _ in range(3)]
    for n in range(10):
        barrier, outcomes = threading.Barrier(3), []

        def claim(state, key=f"message:T1:C1:{n}.1", barrier=barrier, outcomes=outcomes):
            barrier.wait()
            outcomes.append(state.claim(key))

        threads = [threading.Thread(target=claim, args=(state,)) for state in replicas]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == [False, False, True]


def _claim_at(state: State, key: str, when: datetime) -> None:
    with state.engine.begin() as conn:
        conn.execute(schema.processed_events.insert().values(event_id=key, claimed_at=when))


def _claimed_keys(state: State) -> set[str]:
    with state.engine.connect() as conn:
        return set(conn.execute(sa.select(schema.processed_events.c.event_id)).scalars())


def test_claims_older_than_the_retention_are_pruned(empty_state_url):
    state = State(empty_state_url)
    now = datetime.now(timezone.utc)
    _claim_at(state, "old", now - timedelta(days=2))
    _claim_at(state, "recent", now - timedelta(hours=2))
    assert state.prune_claims(now) == 1
    assert _claimed_keys(state) == {"recent"}


def test_claiming_prunes_every_so_often(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    state = State(url, prune_every=10)
    long_ago = datetime.now(timezone.utc) - timedelta(days=3)
    _claim_at(state, "old-1", long_ago)
    assert state.claim("first")  # a replica's first claim prunes
    assert _claimed_keys(state) == {"first"}
    _claim_at(state, "old-2", long_ago)
    for n in range(9):
        state.claim(f"k{n}")
    assert "old-2" in _claimed_keys(state)  # not yet: nine claims since the last prune
    state.claim("tenth")
    assert "old-2" not in _claimed_keys(state)


def test_a_question_whose_answer_never_arrived_is_forgotten(empty_state_url):
    state = State(empty_state_url)
    kept = state.record_question("q1", channel="C1", thread_ts="1.1", answer="a1")
    lost = state.record_question("q2", channel="C1", thread_ts="1.1", answer="a2")
    state.forget_question(lost)
    assert [t.question for t in state.thread_history("C1", "1.1")] == ["q1"]
    assert kept != lost


def test_ping_fails_when_the_database_is_gone(tmp_path):
    state = State(f"sqlite:///{tmp_path / 'db' / 'state.sqlite3'}")
    state.ping()
    state.engine.dispose()
    shutil.rmtree(tmp_path / "db")
    (tmp_path / "db").write_text("not a directory any more")
    with pytest.raises(sa.exc.OperationalError):
        state.ping()
