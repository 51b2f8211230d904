"""Benchmark: how long an answer takes when the language model misbehaves, and what it says.

    python scripts/bench_llm_deadline.py [--deadline 5] [--with-defaults]

Runs `Library.ask` on the shipped corpus with the `openai` answerer (the real `openai` client)
against the tests' fake OpenAI-compatible server on 127.0.0.1, which hangs, trickles a streamed
reply, trickles a JSON body, answers an HTML page, or rate-limits with a long Retry-After. Each
question is asked once beforehand with a good reply, so the figures time the model, not retrieval.
Then `paperbot ask` as a command with a server answering HTML at once, and with one that hangs:
the time from the model's request to the printed answer (the command's start-up, loading the
model and the index, comes before it and is shown too). --with-defaults also times a hanging server
at the default deadlines (20 s for OpenAI — emulated with PAPERBOT_LLM__DEADLINE_S=20 — and 120 s
for a server at base_url), which takes ~2.5 min.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from paperbot import prompts  # noqa: E402
from paperbot.config import load_settings  # noqa: E402
from paperbot.retrieval.library import Library  # noqa: E402
from tests.fake_openai import FakeOpenAI, Reply  # noqa: E402

QUESTION = "What does MuZero beat on Atari?"
SLOW = "MuZero beats model-free reinforcement learning methods on Atari games [1]."


def cases(deadline: float | None) -> list[tuple[str, Reply, dict]]:
    return [
        ("server hangs (stream)", Reply.answer(SLOW, delay_s=600), {}),
        ("server hangs (no stream)", Reply.answer(SLOW, delay_s=600), {"stream": False}),
        ("stream trickles a word every 0.6 × deadline", Reply(content=SLOW, trickle_s=0.6 * (deadline or 1)), {}),
        ("JSON body trickles a byte every 0.3 s", Reply(content=SLOW, trickle_s=0.3), {"stream": False}),
        ("HTML page with HTTP 200", Reply.raw("<html><body>502 Bad Gateway</body></html>", "text/html"), {}),
        ("429 with Retry-After 60 s, 2 retries allowed", Reply.failure(429, "slow down", retry_after_s=60),
         {"max_retries": 2}),
    ]


def timed(library: Library, server: FakeOpenAI, reply: Reply) -> tuple[float, str]:
    server.script(reply)
    started = time.perf_counter()
    answer = library.ask(QUESTION)
    return time.perf_counter() - started, answer.note or "(no note)"


def command(data_dir: Path, server: FakeOpenAI, reply: Reply, deadline: float) -> tuple[float, float, str]:
    """`paperbot ask --json` as a process: (seconds to the printed answer in all, seconds from the model's
    request to the printed answer, its note)."""
    env = {**os.environ, "PAPERBOT_DATA_DIR": str(data_dir), "PAPERBOT_LLM__BASE_URL": server.base_url,
           "PAPERBOT_LLM__MODEL": "fake-chat", "PAPERBOT_LLM__DEADLINE_S": str(deadline), "PAPERBOT_LOG_LEVEL": "ERROR"}
    server.script(reply)
    asked = len(server.requests)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "paperbot.bot.cli", "ask", "--json", QUESTION], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()  # the answer, printed before the process winds down
    printed = time.monotonic()
    process.wait()
    return printed - started, printed - server.requests[asked].at, json.loads(line)["note"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=5.0, help="PAPERBOT_LLM__DEADLINE_S for the cases")
    parser.add_argument("--with-defaults", action="store_true", help="also time a hang at the default deadlines")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the fallbacks' warnings are what is measured, not news

    data_dir = Path(tempfile.mkdtemp(prefix="paperbot-bench-llm-")) / "data"
    Library(load_settings(data_dir=data_dir)).ingest()
    with FakeOpenAI(checker=lambda claim, passage: prompts.NOT_SUPPORTED) as server:
        def library(**llm) -> Library:
            settings = load_settings(data_dir=data_dir, llm={"answerer": "openai", "base_url": server.base_url,
                                                             "model": "fake-chat", **llm})
            built = Library(settings)
            server.script(Reply.answer(prompts.CANNOT_ANSWER))
            built.ask(QUESTION)  # warm: load the embedder, embed the paper's sentences
            return built

        print(f"{'case':<48} {'deadline':>9} {'answer after':>13}  note")
        for name, reply, llm in cases(args.deadline):
            took, note = timed(library(deadline_s=args.deadline, **llm), server, reply)
            print(f"{name:<48} {args.deadline:>8g}s {took:>12.2f}s  {note}")
        for name, reply in (("`paperbot ask`, server answers HTML", Reply.raw("<html>down</html>", "text/html")),
                            ("`paperbot ask`, server hangs", Reply.answer(SLOW, delay_s=600))):
            total, took, note = command(data_dir, server, reply, args.deadline)
            print(f"{name:<48} {args.deadline:>8g}s {took:>12.2f}s  {note} (printed {total:.1f} s after start)")
        if args.with_defaults:
            for name, llm in (("server hangs, OpenAI's default deadline", {"deadline_s": 20}),
                              ("server hangs, a local server's default deadline", {})):
                built = library(**llm)
                took, note = timed(built, server, Reply.answer(SLOW, delay_s=600))
                print(f"{name:<48} {built.settings.llm.deadline:>8g}s {took:>12.2f}s  {note}")


if __name__ == "__main__":
    main()
