"""Benchmark: Slack ack latency, mention-to-answer latency, and 50 concurrent mentions answered once.

    python scripts/bench_slack.py [--mentions 50]

Runs the real Bolt app in HTTP mode on 127.0.0.1 against the tests' local fake Slack Web API,
with the offline defaults on the shipped corpus, and sends signed events over real HTTP.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from slack_sdk.signature import SignatureVerifier

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from paperbot.bot.app import build_app  # noqa: E402
from paperbot.bot.web.server import serve_in_thread  # noqa: E402
from paperbot.bot.state.store import State  # noqa: E402
from paperbot.config import load_settings  # noqa: E402
from paperbot.retrieval.library import Library  # noqa: E402
from tests.paper_slack_harness import start_fake_slack  # noqa: E402

SECRET = "bench-secret"
DEV = REPO / "retrieval" / "training" / "labels" / "train" / "dev.jsonl"
QUESTIONS = [row["question"] for row in map(json.loads, DEV.read_text().splitlines())]


def send(url: str, event_id: str, ts: str, question: str) -> float:
    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                       "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": ts,
                                 "text": f"<@UBOT> {question}"}})
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)}
    start = time.perf_counter()
    response = httpx.post(url, content=body, headers=headers, timeout=10)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        fake, slack_server = start_fake_slack()
        settings = load_settings(data_dir=Path(data), slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api/",
                                 slack_bot_token="xoxb-bench", slack_signing_secret=SECRET)
        library = Library(settings)
        library.ingest()
        library.ask("warm up")
        app = build_app(settings, library, State(settings.state_url))
        url = f"http://127.0.0.1:{serve_in_thread(app, settings).server_port}/slack/events"

        # Sequential mentions: ack latency and mention-to-answer latency.
        acks, answers = [], []
        for i, question in enumerate(QUESTIONS):
            start = time.perf_counter()
            acks.append(send(url, f"EvSeq{i}", f"1.{i:06d}", question))
            fake.wait_for("chat.postMessage", count=i + 1, timeout=30)
            answers.append((time.perf_counter() - start) * 1000)
        print(f"ack latency over {len(acks)} mentions: p50 {statistics.median(acks):.1f} ms, p99 {pct(acks, 0.99):.1f} ms")
        print(f"mention-to-answer: p50 {statistics.median(answers):.0f} ms, p95 {pct(answers, 0.95):.0f} ms")

        # Concurrent burst, every event delivered twice (as Slack retries do).
        before = len(fake.of("chat.postMessage"))
        events = [(f"EvBurst{i}", f"2.{i:06d}", QUESTIONS[i % len(QUESTIONS)]) for i in range(args.mentions)]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            burst_acks = list(pool.map(lambda e: send(url, *e), events + events))
        fake.wait_for("chat.postMessage", count=before + args.mentions, timeout=120)
        elapsed = time.perf_counter() - start
        time.sleep(1.0)
        threads = [c.args["thread_ts"] for c in fake.of("chat.postMessage")[before:]]
        once = len(threads) == args.mentions and len(set(threads)) == args.mentions
        print(f"{args.mentions} concurrent mentions (each delivered twice): {len(threads)} answers, "
              f"{'each answered exactly once' if once else 'NOT exactly once'}, all answered in {elapsed:.1f} s; "
              f"ack p99 under load {pct(burst_acks, 0.99):.1f} ms")


if __name__ == "__main__":
    main()
