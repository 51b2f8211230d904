"""Block Kit for `/paper`: help, lookup results, a paper's summary, share buttons."""

from __future__ import annotations

from collections.abc import Sequence

from typing import TYPE_CHECKING

from ...retrieval.library import tldr
from ...retrieval.types import Paper

if TYPE_CHECKING:
    from ...retrieval.library import LookupHit

from .slack_text import escape, link

SHOW_SUMMARY = "paper_show_summary"
ASK_ABOUT = "paper_ask_about"
SHARE_PAPER = "paper_share_paper"
SHARE_REPLY = "paper_share_reply"
EDIT_PAPER = "paper_edit"  # opens the paper's edit form (bot.listeners.paper_edit)

SECTION_LIMIT = 3000
MAX_BLOCKS = 50

LOOKUP_USAGE = "/paper <title, author, presenter or topic>"
ASK_USAGE = "/paper ask <question>"
HELP_LINES = [
    (LOOKUP_USAGE, "find a paper (typos are fine: `/paper refomer`)"),
    (ASK_USAGE, "answer a question from the papers we read, with citations"),
    ("/paper add", "add a paper summary (indexed at once)"),
    ("/paper add <arXiv id or link>", "add a paper from arXiv (its abstract is the summary until you edit it)"),
    ("/paper digest", "preview this week's digest"),
    ("/paper help", "this list"),
]


def usage(command: str) -> str:
    """A command as inline code, its ``<placeholders>`` escaped: Slack reads ``<…>`` as markup."""
    return f"`{escape(command)}`"


def help_message(note: str | None = None) -> tuple[str, list[dict]]:
    lines = "\n".join(f"{usage(command)} — {what}" for command, what in HELP_LINES)
    blocks = [section(escape(note))] if note else []
    blocks.append(section(f"*What `/paper` can do*\n{lines}"))
    return "What /paper can do", blocks


def lookup_message(query: str, hits: Sequence[LookupHit]) -> tuple[str, list[dict]]:
    if not hits:
        _, help_blocks = help_message(f"No paper matches “{query}”.")
        return f"No paper matches “{escape(query)}”", help_blocks
    blocks: list[dict] = [context_block(f"{len(hits)} match{'es' if len(hits) != 1 else ''} for “{escape(query)}”")]
    for hit in hits:
        blocks += paper_card(hit.paper, matched_on=hit.matched_on)
        blocks.append(_buttons(hit.paper.id))
    return f"Papers matching “{escape(query)}”", blocks[:MAX_BLOCKS]


def paper_card(paper: Paper, *, matched_on: str | None = None) -> list[dict]:
    title = f"*{link(paper.url, paper.title)}*"
    people = []
    if paper.authors:
        shown = ", ".join(paper.authors[:4]) + (" et al." if len(paper.authors) > 4 else "")
        people.append(escape(shown))
    if paper.presenter:
        people.append(f"presented by {escape(paper.presenter)}")
    details = [" · ".join(people)] if people else []
    details.append(f"_{escape(paper.source)}_" + (f" · matched on {matched_on}" if matched_on else ""))
    return [
        section(f"{title}\n{escape(tldr(paper))}"),
        context_block("  ·  ".join(details)),
    ]


def added_message(paper: Paper, adder: str | None, how: str = "") -> tuple[str, list[dict]]:
    """The confirmation in the channel: who added which paper, its card, and buttons to edit or ask."""
    who = f"{escape(adder)} added" if adder else "Added"  # no name: a user id shown would ping them
    text = f"{who} “{escape(paper.title)}” to our papers{how}"
    blocks = [context_block(text), *paper_card(paper), {"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Ask about this"}, "action_id": ASK_ABOUT, "value": paper.id},
        {"type": "button", "text": {"type": "plain_text", "text": "Edit"}, "action_id": EDIT_PAPER, "value": paper.id},
    ]}]
    return text, blocks


def summary_message(paper: Paper) -> tuple[str, list[dict]]:
    """The paper's whole summary, verbatim, split over as many sections as it needs."""
    blocks = paper_card(paper)
    room = MAX_BLOCKS - len(blocks) - 1
    # Split before escaping (an entity must not be cut); leave room for what escaping adds.
    pieces = _split(paper.text, SECTION_LIMIT - 400)
    blocks += [section(escape(piece)) for piece in pieces[:room]]
    blocks.append(_share_button(SHARE_PAPER, paper.id, "Share in channel"))
    return f"Summary of {escape(paper.title)}", blocks


def shared_paper_message(paper: Paper, shared_by: str) -> tuple[str, list[dict]]:
    blocks = paper_card(paper)
    blocks.append(context_block(f"Shared by {escape(shared_by)} with `/paper`"))
    return escape(paper.title), blocks


def with_share_button(blocks: list[dict], reply_key: str) -> list[dict]:
    return [*blocks[: MAX_BLOCKS - 1], _share_button(SHARE_REPLY, reply_key, "Share in channel")]


def _buttons(paper_id: str) -> dict:
    return {
        "type": "actions",
        "elements": [
            _button("Show summary", SHOW_SUMMARY, paper_id),
            _button("Ask about this", ASK_ABOUT, paper_id),
            _button("Share in channel", SHARE_PAPER, paper_id),
        ],
    }


def _share_button(action_id: str, value: str, label: str) -> dict:
    return {
        "type": "actions",
        "elements": [_button(label, action_id, value)],
    }


def _split(text: str, size: int) -> list[str]:
    pieces: list[str] = []
    while text:
        if len(text) <= size:
            pieces.append(text)
            break
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else text.rfind(" ", 0, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return pieces


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def context_block(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _button(label: str, action_id: str, value: str) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": value}
