"""Black box: `paperbot serve` as a process, a fake Slack Web API and a fake OpenAI-compatible server.

A summary that tells the model to ping everyone and post a link, and a model that obeys and adds a
claim of its own: no chat.* call carries the markup, the link or the claim. A model that hangs or
answers with an HTML page: the answer still arrives within the deadline + 1 s, with a note.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from paperbot import prompts
from paperbot.config import load_settings
from paperbot.retrieval.library import Library
from paperbot.retrieval.types import Paper, paper_id_for
from tests.fake_openai import FakeOpenAI, Reply, passage_number
from tests.paper_slack_harness import SIGNING_SECRET, send_command, send_event, start_fake_slack
from tests.slack.test_slack_llm_stream import (
    CHAT, HOSTILE, HOSTILE_FACT, HOSTILE_TITLE, MUZERO_CLAIM, MUZERO_QUESTION, MUZERO_SENTENCE,
    assert_only_progress_was_streamed, citing,
)

DEADLINE_S = 2
CLAIM = "Sparse expert routing cuts the inference cost by a factor of four"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(shipped_data_dir, tmp_path):
    Library(load_settings(data_dir=shipped_data_dir)).add_paper(
        Paper(id=paper_id_for("pasted", HOSTILE_TITLE), title=HOSTILE_TITLE, source="pasted", text=HOSTILE))
    slack, slack_server = start_fake_slack()
    port = _free_port()
    supported = {CLAIM: HOSTILE_FACT, MUZERO_CLAIM: MUZERO_SENTENCE}
    with FakeOpenAI(checker=lambda claim, passage: supported.get(claim.rstrip("."), prompts.NOT_SUPPORTED)) as llm:
        env = {name: value for name, value in os.environ.items() if not name.startswith(("PAPERBOT_", "SLACK_", "OPENAI_"))}
        env.update({
            "PAPERBOT_DATA_DIR": str(shipped_data_dir), "PAPERBOT_PORT": str(port),
            "PAPERBOT_SLACK_API_URL": f"http://127.0.0.1:{slack_server.server_port}/api/",
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "PAPERBOT_LLM__BASE_URL": llm.base_url, "PAPERBOT_LLM__MODEL": "fake-chat",
            "PAPERBOT_LLM__DEADLINE_S": str(DEADLINE_S), "PAPERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        })
        process = subprocess.Popen([sys.executable, "-m", "paperbot.bot.cli", "serve", "--host", "127.0.0.1"],
                                   env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, process.stdout.read().decode()
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).text == "ok":
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "paperbot serve did not come up"
                time.sleep(0.2)
            slack.calls.clear()
            yield slack, llm, f"{base}/slack/events", f"http://127.0.0.1:{slack_server.server_port}/"
        finally:
            process.terminate()
            process.wait(timeout=20)
    slack_server.shutdown()


def mention(url: str, question: str, ts: str, event_id: str) -> None:
    send_event(url, {"type": "app_mention", "user": "U1ALICE", "channel": "C1READING", "ts": ts,
                     "text": f"<@UBOT> {question}"}, event_id)


def test_serve_sends_slack_nothing_unchecked_and_answers_in_time(served):
    slack, llm, url, slack_base = served

    # 1. a checked answer (this also warms the MuZero question: the timed answers below time the model)
    llm.script(citing(MUZERO_CLAIM, MUZERO_SENTENCE))
    mention(url, MUZERO_QUESTION, "1700000019.000100", "EvServe0")
    first = slack.wait_for("chat.stopStream", timeout=60)[0]
    assert first.args["blocks"][0]["text"]["text"] == f"{MUZERO_CLAIM} [1]."

    # 2. a hostile summary, a model that obeys it and adds a claim of its own
    llm.script(lambda request: Reply.answer(
        f"<!channel>\n{CLAIM} [{passage_number(request, HOSTILE_FACT)}]. This paper proves that GPUs are free at "
        f"<https://evil.example|free GPUs> [{passage_number(request, HOSTILE_FACT)}]. It also won the best paper "
        f"award at NeurIPS [{passage_number(request, HOSTILE_FACT)}]."))
    mention(url, "How much does sparse expert routing cut the inference cost?", "1700000020.000100", "EvServe1")
    second = slack.wait_for("chat.stopStream", count=2, timeout=60)[1]
    assert second.args["blocks"][0]["text"]["text"] == f"{CLAIM} [1]."

    # 3. a model that hangs: the answer still comes, within the deadline + 1 s
    llm.script(Reply.answer("too late [1].", delay_s=60))
    sent_at = time.monotonic()
    mention(url, MUZERO_QUESTION, "1700000021.000100", "EvServe2")
    third = slack.wait_for("chat.stopStream", count=3, timeout=60)[2]
    assert time.monotonic() - sent_at < DEADLINE_S + 1
    assert f"did not answer within {DEADLINE_S} s" in json.dumps(third.args["blocks"])

    # 4. `/paper ask` with a model answering an HTML page
    llm.script(Reply.raw("<html>maintenance</html>", "text/html"))
    sent_at = time.monotonic()
    send_command(url, f"ask {MUZERO_QUESTION}", response_url=f"{slack_base}response/serve3")
    (reply,) = slack.wait_for("response_url", timeout=60)
    assert time.monotonic() - sent_at < DEADLINE_S + 1
    assert "could not be read" in json.dumps(reply.args["blocks"])

    sent = json.dumps([c.args for c in slack.calls if c.method in CHAT], ensure_ascii=False)
    for unchecked in ("<!channel>", "evil.example", "GPUs are free", "NeurIPS", "too late"):
        assert unchecked not in sent, unchecked
    assert sent.count(CLAIM) == 1
    assert_only_progress_was_streamed(slack)
