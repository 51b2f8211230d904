"""An `Answer` as an ephemeral `/paper ask` reply (text fallback and blocks)."""

from __future__ import annotations

from retrieval.types import Answer

from bot.slack_text import escape

MAX_SNIPPET = 280


def answer_reply(answer: Answer) -> tuple[str, list[dict]]:
    blocks: list[dict] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*Q:* {escape(answer.question)}"[:3000]}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(answer.answer)[:3000] or "_(no answer)_"}},
    ]
    for citation in answer.citations[:10]:
        snippet = citation.snippet if len(citation.snippet) <= MAX_SNIPPET else citation.snippet[: MAX_SNIPPET - 1] + "…"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"[{citation.n}] *{escape(citation.title)}* — “{escape(snippet)}”"
        )[:3000]}]})
    if answer.suggestions:
        titles = "; ".join(escape(s.title) for s in answer.suggestions[:5])
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Nearest papers: {titles}"[:3000]}]})
    if answer.note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(answer.note)[:3000]}]})
    return escape(answer.answer)[:3000] or "No answer", blocks
