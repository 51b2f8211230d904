"""A team's first question, asked before anything is indexed: told what to run, in Slack and the CLI."""

from __future__ import annotations

from paperbot.bot.app import build_app
from paperbot.bot.web.server import serve_in_thread
from paperbot.bot.state.store import State
from paperbot.retrieval.library import Library
from tests.paper_slack_harness import BOT_USER, bot_settings, send_event, start_fake_slack

TOLD = "No papers are indexed yet: run `paperbot ingest` on the server (or add one with `/paper add`), then ask again."


def test_a_mention_on_an_empty_index_says_to_run_ingest_and_nothing_else(tmp_path):
    fake, slack_server = start_fake_slack()
    settings = bot_settings(tmp_path / "data", f"http://127.0.0.1:{slack_server.server_port}/")
    library = Library(settings)
    server = serve_in_thread(build_app(settings, library, State(f"sqlite:///{tmp_path / 's.sqlite3'}")), settings)
    try:
        event = {"type": "app_mention", "user": "U1ALICE", "text": f"<@{BOT_USER}> who wrote reformer?",
                 "channel": "C1READING", "ts": "1700000001.000100"}
        assert send_event(f"http://127.0.0.1:{server.server_port}/slack/events", event).status_code == 200
        (post,) = fake.wait_for("chat.postMessage")
        assert post.args["text"] == TOLD and post.args["thread_ts"] == "1700000001.000100"
        assert "Sources" not in str(post.args.get("blocks", ""))
        assert [c.method for c in fake.chat_calls()] == ["chat.postMessage"]
    finally:
        server.shutdown()
        slack_server.shutdown()
