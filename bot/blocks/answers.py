"""Block Kit for answers: the answer, its sources with quoted snippets, 👍/👎 feedback.

Pure functions. All user and corpus text is escaped, so a summary containing ``<!channel>``
renders as text and pings nobody. Slack's limits: ≤ 50 blocks, ≤ 3000 chars per section.
"""

from __future__ import annotations

from ...retrieval.types import Answer

from ..replies.failures import apology
from .feedback_buttons import feedback_block
from .slack_text import escape

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
MAX_SNIPPET = 500


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split at line or word boundaries so each piece fits one section."""
    pieces, rest = [], text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return pieces + ([rest] if rest else [])


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _snippet(text: str) -> str:
    return text if len(text) <= MAX_SNIPPET else text[: MAX_SNIPPET - 1] + "…"


def answer_message(answer: Answer, *, feedback_value: str | None = None) -> tuple[str, list[dict]]:
    """(plain-text fallback, blocks) for an answer."""
    body = escape(answer.answer) or "_(no answer)_"
    blocks: list[dict] = [_section(piece) for piece in split_text(body)]
    if answer.note:
        blocks.append(_context(f":information_source: {escape(answer.note)}"))
    if answer.citations:
        blocks.append({"type": "divider"})
        blocks.append(_context("*Sources*"))
        for c in answer.citations:
            blocks.append(_section(
                f"*[{c.n}] {escape(c.title)}* · _{escape(c.source)}_\n> {escape(_snippet(c.snippet))}"[:SECTION_LIMIT]))
    reserved = 1 if feedback_value else 0
    if len(blocks) > MAX_BLOCKS - reserved:
        blocks = blocks[: MAX_BLOCKS - reserved - 1] + [_context("…more sources omitted.")]
    if feedback_value:
        blocks.append(feedback_block(feedback_value))
    return body[:SECTION_LIMIT], blocks


def apology_message() -> tuple[str, list[dict]]:
    text = apology("answer that")
    return text, [_section(text)]


def too_long_message(limit: int) -> tuple[str, list[dict]]:
    text = f"That question is a bit long for me: please keep it under {limit} characters."
    return text, [_section(text)]
