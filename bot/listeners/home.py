"""The App Home tab: how big the library is, what was added lately, how to ask."""

from __future__ import annotations


from slack_bolt import App
from slack_sdk import WebClient

from ..deps import Deps
from ..blocks.paper_blocks import ASK_USAGE, LOOKUP_USAGE, usage
from ..blocks.slack_text import escape, link
from ...retrieval.library import tldr
from ...retrieval.types import Paper

LATEST_SHOWN = 8


def home_view(papers: list[Paper]) -> dict:
    # Additions are the papers that came after the library was set up: the first ingest's have no `added`.
    newest = sorted(((p.added, p) for p in papers if p.added), key=lambda pair: pair[0], reverse=True)
    latest = [paper for _, paper in newest[:LATEST_SHOWN]]
    sources = len({p.source for p in papers})
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "paperbot: your reading group's papers"}},
        _section(f"*{len(papers)} papers* from {sources} source{'s' if sources != 1 else ''} in the library."),
        {"type": "divider"},
        _section("*Latest additions*"),
    ]
    for paper in latest:
        added = f" · added {paper.added:%b} {paper.added.day}" if paper.added else ""
        by = f" by {escape(paper.added_by)}" if paper.added_by else ""
        blocks.append(_section(f"*{link(paper.url, paper.title)}*{added}{by}\n{escape(tldr(paper))}"))
    if not latest:
        blocks.append(_section("Nothing added since the library was set up: add a summary with `/paper add` "
                               "or run `paperbot ingest`."))
    blocks += [
        {"type": "divider"},
        _section(
            "*How to ask*\n"
            "• Mention me in a channel or send me a DM with your question; I answer in the thread, "
            "quoting the summaries I answer from.\n"
            f"• {usage(LOOKUP_USAGE)} finds a paper (typos are fine).\n"
            f"• {usage(ASK_USAGE)} answers just for you, with a button to share it.\n"
            "• `/paper add` adds this week's summary; `/paper digest` previews the weekly digest."
        ),
    ]
    return {"type": "home", "blocks": blocks[:100]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def register(app: App, deps: Deps) -> None:
    # The Messages tab opening is the agent conversation's start (bot.listeners.assistant).
    @app.event("app_home_opened", matchers=[lambda event: event.get("tab", "home") == "home"])
    def publish_home(event: dict, client: WebClient) -> None:
        if event.get("user"):
            client.views_publish(user_id=event["user"], view=home_view(deps.library.papers()))
