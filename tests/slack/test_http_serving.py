"""HTTP mode as served in production (waitress + the Slack gate): limits, refusals, probes."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from types import SimpleNamespace

import httpx
import pytest

from paperbot.bot.app import build_app
from paperbot.bot.web.readiness import replica_readiness
from paperbot.bot.web.server import serve_in_thread
from paperbot.bot.state.store import State
from paperbot.config import load_settings
from paperbot.retrieval.library import Library
from tests.conftest import SHIPPED_CORPUS
from tests.paper_slack_harness import SIGNING_SECRET, signed_post, start_fake_slack

MARKER = "BODY-MARKER-7f3a"  # appears in every test body; must never appear in a log


def _settings(library, slack_port: int, **extra):
    return load_settings(data_dir=library.settings.data_dir,
                         slack_api_url=f"http://127.0.0.1:{slack_port}/api/",
                         slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, **extra)


def _serve(library, tmp_path):
    fake, slack_server = start_fake_slack()
    settings = _settings(library, slack_server.server_port, http={"backlog": 777})
    state = State(f"sqlite:///{tmp_path / 'db' / 'state.sqlite3'}")
    server = serve_in_thread(build_app(settings, library, state), settings, readiness=replica_readiness(library, state))
    base = f"http://127.0.0.1:{server.server_port}"
    fake.calls.clear()
    served = SimpleNamespace(base=base, events=base + "/slack/events", fake=fake, state=state, tmp_path=tmp_path,
                             port=server.server_port, settings=settings)
    return served, lambda: (server.shutdown(), slack_server.shutdown())


@pytest.fixture(scope="module")
def _served_once(_shipped_index_dir, tmp_path_factory):
    """One server over a copy of the shipped index for the tests that leave it as it was."""
    tmp_path = tmp_path_factory.mktemp("served")
    shutil.copytree(_shipped_index_dir, tmp_path / "data")
    with pytest.MonkeyPatch.context() as patch:  # set up before the per-test isolation: no shell settings
        for name in [n for n in os.environ if n.startswith(("PAPERBOT_", "SLACK_", "OPENAI_"))]:
            patch.delenv(name)
        library = Library(load_settings(data_dir=tmp_path / "data", corpus_dir=SHIPPED_CORPUS))
        served, stop = _serve(library, tmp_path)
    yield served
    stop()


@pytest.fixture
def served(_served_once, caplog):
    caplog.set_level(logging.DEBUG)  # whatever any library logs, at any level, is captured
    _served_once.fake.calls.clear()
    return _served_once


@pytest.fixture
def served_alone(shipped_library, tmp_path, caplog):
    """A server of the test's own, for a test that breaks what it serves from."""
    caplog.set_level(logging.DEBUG)
    served, stop = _serve(shipped_library, tmp_path)
    yield served
    stop()


def _unsigned_post(url: str, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.post(url, content=body, headers={"Content-Type": content_type, "X-Slack-Request-Timestamp":
                                                  str(int(time.time())), "X-Slack-Signature": "v0=forged"}, timeout=30)


def test_unsigned_requests_are_refused_and_their_bodies_never_logged(served, caplog):
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention", "text": MARKER * 20_000}}).encode()
    for _ in range(3):  # about 400 KB each
        assert _unsigned_post(served.events, body).status_code == 401
    assert MARKER not in caplog.text
    server_side = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert len(server_side) < 1_000  # a line per refusal, not the payload
    assert "refused a request to /slack/events: invalid or missing Slack signature" in caplog.text
    assert served.fake.calls == []


def test_a_body_over_the_limit_is_refused(served, caplog):
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention", "text": MARKER * 80_000}})
    assert len(body) > served.settings.http.max_body_bytes
    response = signed_post(served.events, body, "application/json")
    assert response.status_code == 413
    assert MARKER not in caplog.text
    assert served.fake.calls == []


@pytest.mark.parametrize("content_type, body", [
    ("application/json", "{not json " + MARKER),
    ("application/json", json.dumps([MARKER])),
    ("application/x-www-form-urlencoded", "payload=%7Bnot-json-" + MARKER),
    ("application/x-www-form-urlencoded", "payload=" + json.dumps({"type": "block_actions", "user": MARKER})),
    ("application/json", json.dumps({"type": "event_callback", "event": MARKER})),
    ("application/json", json.dumps({"type": "event_callback", "event": {"type": "app_mention", "text": MARKER,
                                                                          "ts": "1.1", "user": "U1"}})),
    ("application/json", json.dumps({"type": "event_callback", "event": {"type": "message", "text": MARKER,
                                                                          "channel": "C1"}})),
], ids=["broken-json", "json-array", "payload-not-json", "user-not-object", "event-not-object",
        "mention-without-channel", "message-without-ts"])
def test_signed_but_malformed_payloads_get_400_without_a_traceback(served, caplog, content_type, body):
    response = signed_post(served.events, body, content_type)
    assert response.status_code == 400 and response.text.startswith("malformed")
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert MARKER not in caplog.text
    assert served.fake.calls == []


def test_unverifiable_requests_are_refused_not_server_errors(served, caplog):
    odd_timestamp = httpx.post(served.events, content=b"{}", headers={"X-Slack-Request-Timestamp": "soon",
                                                                      "X-Slack-Signature": "v0=x"}, timeout=10)
    not_utf8 = _unsigned_post(served.events, b"\xff\xfe" + MARKER.encode())
    assert odd_timestamp.status_code == not_utf8.status_code == 401
    assert "Traceback" not in caplog.text and MARKER not in caplog.text


def test_only_post_reaches_slacks_endpoint(served):
    assert httpx.get(served.events, timeout=10).status_code == 405


def test_health_and_readiness(served):
    assert httpx.get(served.base + "/healthz", timeout=10).text == "ok"
    ready = httpx.get(served.base + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"index": "ok", "database": "ok"}


def test_not_ready_while_the_database_is_unreachable(served_alone):
    served = served_alone
    served.state.engine.dispose()
    shutil.rmtree(served.tmp_path / "db")
    (served.tmp_path / "db").write_text("the database's directory is gone")
    ready = httpx.get(served.base + "/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json() == {"index": "ok", "database": "unreachable"}
    assert httpx.get(served.base + "/healthz", timeout=10).status_code == 200  # alive, not ready


@pytest.mark.skipif(not shutil.which("ss"), reason="needs `ss` (iproute2) to read the listen backlog")
def test_the_listen_backlog_is_the_configured_one(served):
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{served.port}"], capture_output=True, text=True).stdout
    # For a listening socket, ss shows the backlog in the Send-Q column.
    assert listening.split()[2] == "777", listening


def test_debug_logging_keeps_slack_payloads_out(served, caplog):
    """At DEBUG, slack_bolt and slack_sdk log request and response bodies; `paperbot` drops them."""
    import io

    from paperbot.bot.logs import NoSlackPayloads
    from tests.paper_slack_harness import send_command, send_event

    log_file = io.StringIO()
    handler = logging.StreamHandler(log_file)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(NoSlackPayloads())  # the filter `paperbot`'s log handler carries (bot/logs.py)
    logging.getLogger().addHandler(handler)
    try:
        send_event(served.events, {"type": "app_mention", "user": "U1", "text": f"<@UBOT> who wrote Reformer? {MARKER}",
                                   "channel": "C1", "ts": "1700000500.000100"}, "EvDebug")
        served.fake.wait_for("chat.postMessage", timeout=60)
        send_command(served.events, f"ask who wrote Reformer {MARKER}", response_url=f"{served.base}/nowhere")
        time.sleep(1.0)
    finally:
        logging.getLogger().removeHandler(handler)
    assert MARKER in caplog.text  # the libraries did log the payloads at DEBUG…
    assert MARKER not in log_file.getvalue()  # …and none of it reached the log
    assert "httpcore" in log_file.getvalue()  # while other DEBUG records did


@pytest.mark.server
def test_not_ready_while_the_chroma_server_is_down(tmp_path):
    """With a Chroma server (as replicas run it): ready while it answers, 503 once it is gone."""
    import socket
    import sys
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(tmp_path / "chroma"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake, slack_server = start_fake_slack()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "chroma run did not start"
                time.sleep(0.2)
        settings = load_settings(data_dir=tmp_path / "data", slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api/",
                                 slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
                                 chroma={"host": "127.0.0.1", "port": port})
        library, state = Library(settings), State(settings.state_url)
        library.store.count_chunks()  # connected at start-up, as `paperbot serve` does
        server = serve_in_thread(build_app(settings, library, state), settings,
                                 readiness=replica_readiness(library, state))
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            assert httpx.get(base + "/readyz", timeout=10).json() == {"index": "ok", "database": "ok"}
            chroma.terminate()
            chroma.wait(timeout=20)
            ready = httpx.get(base + "/readyz", timeout=10)
            assert ready.status_code == 503 and ready.json()["index"] in ("unreachable", "timed out")
            assert ready.json()["database"] == "ok"
            assert httpx.get(base + "/healthz", timeout=10).status_code == 200
        finally:
            server.shutdown()
    finally:
        chroma.kill()
        slack_server.shutdown()
