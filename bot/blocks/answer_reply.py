"""An `Answer` as an ephemeral `/paper ask` reply (text fallback and blocks)."""

from __future__ import annotations

from ...retrieval.types import Answer

from .answers import answer_message
from .slack_text import escape


def answer_reply(answer: Answer) -> tuple[str, list[dict]]:
    text, blocks = answer_message(answer)
    question = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*Q:* {escape(answer.question)}"[:3000]}]}
    return text, [question, *blocks][:50]
