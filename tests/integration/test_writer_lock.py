"""One writer at a time on an embedded index: real `paperbot ingest` processes on one data directory."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from paperbot.config import load_settings
from paperbot.retrieval.library import Library
from paperbot.retrieval.corpus.writer_lock import HOLDER_NAME, LOCK_NAME, IndexBusy, WriterLock
from paperbot.bot.listeners.add_paper import LINK, SUMMARY, TITLE, VIEW_ID
from tests.paper_slack_harness import paper_app, send_command, send_interaction  # noqa: F401 (fixture)
from tests.waiting import wait_until

REPORT = re.compile(r"Indexed (\d+) paper\(s\) \((\d+) new, (\d+) changed\), (\d+) unchanged, (\d+) removed; "
                    r"(\d+) chunks embedded")
TITLES = ["Sparse Mixtures of Adapters", "Contrastive Decoding Revisited", "Tiny Recurrent Memory"]


def _corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "papers"
    folder.mkdir()
    bodies = ["We route tokens to adapters. Ada presented it. ", "Decoding contrasts two models. ",
              "A small memory helps recurrence. "]
    for i, (title, body) in enumerate(zip(TITLES, bodies)):
        presenter = "presenter: Ada\n" if i == 0 else ""
        (folder / f"p{i}.md").write_text(f"---\ntitle: {title}\n{presenter}---\n{body * 20}\n")
    return folder


def _paperbot(data_dir: Path, *args: str, out: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data_dir), PAPERBOT_LOG_LEVEL="WARNING")
    stdout = (out.with_suffix(".out")).open("w") if out else subprocess.PIPE
    stderr = (out.with_suffix(".err")).open("w") if out else subprocess.PIPE
    return subprocess.Popen([sys.executable, "-m", "paperbot.bot.cli", *args], env=env, stdout=stdout,
                            stderr=stderr, text=True)


def _wait_until(condition, timeout: float = 120.0, what: str = "") -> None:
    wait_until(condition, timeout, what)


def _report(text: str) -> dict[str, int]:
    match = REPORT.search(text)
    assert match, text
    indexed, new, changed, unchanged, removed, chunks = map(int, match.groups())
    return {"new": new, "changed": changed, "unchanged": unchanged, "chunks": chunks}


@pytest.mark.slow
def test_two_ingests_started_together_embed_each_paper_once(tmp_path):
    corpus, data = _corpus(tmp_path), tmp_path / "data"
    holder = WriterLock(data, "paperbot ingest")  # held while both start, so they really meet at the lock
    holder.acquire()
    runs = [_paperbot(data, "ingest", "--quiet", str(corpus), out=tmp_path / f"run{i}") for i in (1, 2)]
    waiting = f"waiting for the index: held by pid {os.getpid()} (paperbot ingest) since "
    _wait_until(lambda: all(waiting in (tmp_path / f"run{i}.err").read_text() for i in (1, 2)),
                what="both ingests to wait for the lock")
    holder.release()
    for run in runs:
        assert run.wait(timeout=600) == 0, (tmp_path / "run1.err").read_text() + (tmp_path / "run2.err").read_text()

    reports = sorted((_report((tmp_path / f"run{i}.out").read_text()) for i in (1, 2)), key=lambda r: r["new"])
    second, first = reports
    assert first["new"] == 3 and first["chunks"] > 0
    assert second == {"new": 0, "changed": 0, "unchanged": 3, "chunks": 0}  # it re-read what the first indexed
    for i in (1, 2):  # each said once whom it waited for, and nothing else
        lines = (tmp_path / f"run{i}.err").read_text().splitlines()
        assert len(lines) == 1 and re.fullmatch(re.escape(waiting) + r"\d\d:\d\d:\d\d", lines[0]), lines
    store = Library(load_settings(data_dir=data)).store
    assert store.count_chunks() == first["chunks"]  # nothing embedded twice
    assert sorted(p.title for p in store.catalog()) == sorted(TITLES)
    assert not (data / HOLDER_NAME).exists()  # the last writer took its record away

    ask = _paperbot(data, "ask", "who presented the adapters paper?")
    out, err = ask.communicate(timeout=600)
    assert ask.returncode == 0, err
    assert "Ada" in out and "Sparse Mixtures of Adapters" in out


def test_no_wait_while_held_exits_with_the_holder_line(tmp_path):
    corpus, data = _corpus(tmp_path), tmp_path / "data"
    holder = WriterLock(data, "paperbot ingest")
    holder.acquire()
    try:
        run = _paperbot(data, "ingest", "--quiet", "--no-wait", str(corpus))
        out, err = run.communicate(timeout=600)
    finally:
        holder.release()
    assert run.returncode != 0 and out == ""
    (line,) = err.splitlines()
    assert re.fullmatch(rf"Error: the index is being written: held by pid {os.getpid()} \(paperbot ingest\) "
                        r"since \d\d:\d\d:\d\d; run again when it is done, or without --no-wait to wait for it", line)
    assert not (data / "chroma").exists()  # it gave up before opening the index


@pytest.mark.slow
def test_a_writer_killed_with_sigkill_does_not_block_the_next(tmp_path):
    corpus, data = _corpus(tmp_path), tmp_path / "data"
    first = _paperbot(data, "ingest", "--quiet", str(corpus), out=tmp_path / "killed")
    record = data / HOLDER_NAME

    def holds() -> bool:
        try:
            return json.loads(record.read_text())["pid"] == first.pid
        except (OSError, ValueError):
            return False

    _wait_until(holds, what="the first ingest to hold the lock")
    assert first.poll() is None  # still running, holding the lock
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=60) == -signal.SIGKILL
    assert record.exists()  # its record stays behind; the kernel released its lock

    # Stale: a writer that holds the lock without a record yet is not reported as the dead one.
    from filelock import FileLock

    bare = FileLock(data / LOCK_NAME)
    bare.acquire()
    try:
        refused = _paperbot(data, "ingest", "--quiet", "--no-wait", str(corpus))
        _, err = refused.communicate(timeout=600)
    finally:
        bare.release()
    assert refused.returncode != 0
    assert "held by another writer (it left no record of which)" in err and f"pid {first.pid}" not in err

    after = _paperbot(data, "ingest", "--quiet", "--no-wait", str(corpus))
    out, err = after.communicate(timeout=600)
    assert after.returncode == 0, err
    assert "waiting" not in err
    assert _report(out)["new"] + _report(out)["changed"] + _report(out)["unchanged"] == 3
    assert sorted(p.title for p in Library(load_settings(data_dir=data)).store.catalog()) == sorted(TITLES)


def test_readers_never_wait_for_a_writer(shipped_data_dir):
    holder = WriterLock(shipped_data_dir, "paperbot ingest")
    holder.acquire()
    try:
        papers = _paperbot(shipped_data_dir, "papers")
        out, err = papers.communicate(timeout=600)
        assert papers.returncode == 0, err
        assert "64 papers." in out and "waiting" not in err
        ask = _paperbot(shipped_data_dir, "ask", "who wrote Reformer?")
        out, err = ask.communicate(timeout=600)
        assert ask.returncode == 0, err
        assert "Kitaev" in out and "waiting" not in err
    finally:
        holder.release()


def _open_add_modal(app) -> dict:
    assert send_command(app.url, "add", response_url=f"{app.slack_base}response/cmd").status_code == 200
    (opened,) = app.slack.wait_for("views.open")
    return opened.args["view"]


def _submit(app, view: dict, summary: str, trigger_id: str) -> None:
    values = {TITLE: {TITLE: {"type": "plain_text_input", "value": "Attention Is All You Need"}},
              LINK: {LINK: {"type": "url_text_input", "value": "https://arxiv.org/abs/1706.03762"}},
              SUMMARY: {SUMMARY: {"type": "plain_text_input", "value": summary}}}
    payload = {"type": "view_submission", "user": {"id": "U1ALICE", "username": "alice", "name": "alice"},
               "api_app_id": "A1", "team": {"id": "T1"}, "trigger_id": trigger_id,
               "view": {"id": "V1", "type": "modal", "callback_id": VIEW_ID,
                        "private_metadata": view["private_metadata"], "state": {"values": values}}}
    assert send_interaction(app.url, payload).status_code == 200


@pytest.fixture
def adding_app(monkeypatch, request):
    """The `/paper` app with a short wait for the index (its settings are read from the environment)."""
    monkeypatch.setenv("PAPERBOT_SLACK__ADD_PAPER_WAIT_S", "0.5")
    return request.getfixturevalue("paper_app")


def test_paper_add_while_an_ingest_writes_says_so_and_keeps_the_summary(adding_app):
    assert adding_app.settings.slack.add_paper_wait_s == 0.5
    holder = WriterLock(adding_app.settings.data_dir, "paperbot ingest")
    view = _open_add_modal(adding_app)
    done = []

    def hold_elsewhere():  # another writer: a thread holds it as a process would (the lock is per thread)
        holder.acquire()
        done.append(True)
        while len(done) < 2:
            time.sleep(0.02)
        holder.release()

    thread = threading.Thread(target=hold_elsewhere)
    thread.start()
    _wait_until(lambda: done, what="the holder")
    try:
        before = len(adding_app.library.papers())
        _submit(adding_app, view, "The Transformer drops recurrence.", "trigger-busy")
        (told,) = adding_app.slack.wait_for("chat.postEphemeral")
    finally:
        done.append(True)
        thread.join()
    assert (told.args["channel"], told.args["user"]) == ("C1READING", "U1ALICE")
    assert told.args["text"] == (
        "I couldn't add “Attention Is All You Need” yet: the index is being updated right now. "
        "Please try `/paper add` again in a minute.\n"
        "Here is what you submitted, so you can paste it again:\n"
        "```The Transformer drops recurrence.```")
    assert adding_app.slack.of("chat.postMessage") == []
    assert len(adding_app.library.papers()) == before

    # Once the writer is done, the same add goes through.
    _submit(adding_app, view, "The Transformer drops recurrence.", "trigger-free")
    adding_app.slack.wait_for("chat.postMessage")
    assert len(adding_app.library.papers()) == before + 1


@pytest.fixture
def chroma_server(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return True
        except OSError:
            return False

    _wait_until(up, timeout=60, what="chroma run")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.slow
def test_against_a_chroma_server_writers_do_not_wait_for_each_other(tmp_path, chroma_server):
    corpus, data = _corpus(tmp_path), tmp_path / "data"
    holder = WriterLock(data, "paperbot ingest")  # as an embedded writer would hold it
    holder.acquire()
    try:
        env = dict(os.environ, PAPERBOT_CHROMA__HOST="127.0.0.1", PAPERBOT_CHROMA__PORT=str(chroma_server),
                   PAPERBOT_DATA_DIR=str(data), PAPERBOT_LOG_LEVEL="WARNING")
        run = subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "ingest", "--quiet", "--no-wait", str(corpus)],
                             env=env, capture_output=True, text=True, timeout=600, check=False)
    finally:
        holder.release()
    assert run.returncode == 0, run.stderr
    assert _report(run.stdout)["new"] == 3 and "waiting" not in run.stderr


def test_a_bounded_wait_gives_up_naming_the_holder(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    holder = _paperbot_holder(tmp_path / "data")
    try:
        started = time.monotonic()
        with pytest.raises(IndexBusy, match=rf"held by pid {holder.pid} \(a test holder\)"):
            with Library(settings).writing(timeout_s=0.3):
                pass
        assert 0.3 <= time.monotonic() - started < 5
    finally:
        holder.kill()
        holder.wait()


def _paperbot_holder(data_dir: Path) -> subprocess.Popen:
    """Another process that holds the lock until killed."""
    code = ("import sys, time; from pathlib import Path; from paperbot.retrieval.corpus.writer_lock import WriterLock; "
            f"lock = WriterLock(Path({str(data_dir)!r}), 'a test holder'); lock.acquire(); print('held', flush=True); "
            "time.sleep(600)")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process
