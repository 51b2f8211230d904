"""What HTTP mode says when it refuses a request, and what Bolt logs when the app is built.

The real app over real HTTP (waitress and its Slack gate) against the local fake Slack.
"""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from paperbot.bot.app import build_app
from paperbot.bot.web.server import serve_in_thread
from paperbot.bot.state.store import State
from paperbot.config import load_settings
from tests.paper_slack_harness import SIGNING_SECRET, start_fake_slack

STALE = "request timestamp too old — check this server's clock"
AHEAD = "request timestamp ahead of this server's clock — check this server's clock"
FORGED = "invalid or missing Slack signature"


@pytest.fixture
def served(shipped_library, tmp_path, caplog, monkeypatch):
    # As a deployment has it: the token in the environment (Bolt reads it there too).
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    caplog.set_level(logging.DEBUG)
    fake, slack_server = start_fake_slack()
    settings = load_settings(data_dir=shipped_library.settings.data_dir,
                             slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api",
                             slack_signing_secret=SIGNING_SECRET)
    app = build_app(settings, shipped_library, State(f"sqlite:///{tmp_path / 'state.sqlite3'}"))
    server = serve_in_thread(app, settings)
    yield type("Served", (), {"app": app, "fake": fake, "events": f"http://127.0.0.1:{server.server_port}/slack/events"})
    server.shutdown()
    slack_server.shutdown()


def _post(url: str, body: str, timestamp: int, secret: str = SIGNING_SECRET) -> httpx.Response:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return httpx.post(url, content=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature})


_EVENT = json.dumps({"type": "event_callback", "event_id": "Ev9", "team_id": "T1",
                     "event": {"type": "app_mention", "channel": "C1", "ts": "1.1", "user": "U1",
                               "text": "<@UBOT> who presented the lottery ticket paper?"}})


def test_a_signed_request_with_a_stale_timestamp_is_put_down_to_the_clock(served, caplog):
    response = _post(served.events, _EVENT, int(time.time()) - 10 * 60)
    assert response.status_code == 401 and response.text == STALE
    assert f"refused a request to /slack/events: {STALE}" in caplog.text

    ahead = _post(served.events, _EVENT, int(time.time()) + 10 * 60)
    assert ahead.status_code == 401 and ahead.text == AHEAD


def test_a_forged_or_unsigned_request_is_still_a_bad_signature_whatever_its_timestamp(served):
    for timestamp in (int(time.time()) - 10 * 60, int(time.time())):
        forged = _post(served.events, _EVENT, timestamp, secret="not-our-secret")
        assert forged.status_code == 401 and forged.text == FORGED
    unsigned = httpx.post(served.events, content=_EVENT, headers={"Content-Type": "application/json"}, timeout=10)
    assert unsigned.status_code == 401 and unsigned.text == FORGED
    garbled = httpx.post(served.events, content=_EVENT, timeout=10, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": "yesterday", "X-Slack-Signature": "v0=00"})
    assert garbled.status_code == 401 and garbled.text == FORGED
    assert served.fake.of("chat.postMessage") == []


def test_a_fresh_signed_request_still_goes_through(served):
    assert _post(served.events, _EVENT, int(time.time())).status_code == 200
    (reply,) = served.fake.wait_for("chat.postMessage")
    assert "Hongbo Tian" in json.dumps(reply.args)


def test_building_the_app_logs_no_token_warning_and_talks_to_the_configured_api(served, caplog):
    assert "will be unused" not in caplog.text
    assert not [r for r in caplog.records if r.name.startswith("slack_bolt") and r.levelno >= logging.WARNING]
    assert len(served.fake.of("auth.test")) == 1  # the token is checked at start, against the configured API
    served.fake.rate_limited["chat.postMessage"] = 1  # and the client retries a 429 after its Retry-After
    assert served.app.client.chat_postMessage(channel="C1", text="hello")["ok"]
    assert [c.args.get("text") for c in served.fake.of("chat.postMessage")] == ["hello"]
