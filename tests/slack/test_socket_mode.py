"""Socket Mode end to end: the real Bolt app and slack-sdk's Socket Mode client against a local
websocket server standing in for Slack, answering through the fake Web API."""

from __future__ import annotations

import json
import time

import pytest

from paperbot.bot.app import build_app
from paperbot.bot.web.server import check_tokens, socket_mode_handler
from paperbot.bot.state.store import State
from paperbot.config import load_settings
from tests.fake_socket_mode import FakeSocketMode
from tests.paper_slack_harness import start_fake_slack


@pytest.fixture
def socket_bot(shipped_library, tmp_path):
    fake, slack_server = start_fake_slack()
    socket = FakeSocketMode()
    fake.socket_url = socket.url
    settings = load_settings(data_dir=shipped_library.settings.data_dir,
                             slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api/",
                             slack_bot_token="xoxb-test", slack_app_token="xapp-1-test")
    assert check_tokens(settings) == "socket"
    handler = socket_mode_handler(build_app(settings, shipped_library, State(f"sqlite:///{tmp_path / 's.sqlite3'}")),
                                  settings)
    handler.connect()
    socket.wait_connected()
    yield fake, socket
    handler.close()
    socket.close()
    slack_server.shutdown()


def _mention_payload(text: str, ts: str, event_id: str) -> dict:
    return {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
            "event_time": int(time.time()),
            "event": {"type": "app_mention", "user": "U1ALICE", "text": f"<@UBOT> {text}", "channel": "C1READING",
                      "ts": ts}}


def test_a_mention_over_socket_mode_is_acknowledged_and_answered_once(socket_bot):
    fake, socket = socket_bot
    assert fake.of("apps.connections.open")  # the app asked the Web API where to connect
    payload = _mention_payload("who wrote Reformer?", "1700000600.000100", "EvSocket")
    first = socket.send_event(payload)
    socket.wait_for_ack(first)
    (answer,) = fake.wait_for("chat.postMessage", timeout=60)
    assert answer.args["channel"] == "C1READING" and answer.args["thread_ts"] == "1700000600.000100"
    assert "Nikita Kitaev" in answer.args["text"] + json.dumps(answer.args.get("blocks", []))

    retried = socket.send_event(payload, retry_attempt=1)  # Slack re-sends what it thinks was lost
    socket.wait_for_ack(retried)
    time.sleep(0.8)
    assert len(fake.of("chat.postMessage")) == 1
