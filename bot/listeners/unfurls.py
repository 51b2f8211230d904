"""arXiv links posted where the bot is: `link_shared` → `chat.unfurl`.

A paper we have unfurls as "in our papers: presented by X on DATE, N questions asked" with a
button to ask about it; one we don't, as what arXiv says of it (title, authors) with an "Add to
our papers" button (`bot.listeners.arxiv_papers`). Links that are not arXiv papers are left to Slack.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_sdk import WebClient

from .arxiv_papers import ADD_FROM_ARXIV
from ..deps import Deps
from ..blocks.paper_blocks import ASK_ABOUT, context_block, section
from ..blocks.slack_text import escape, link
from ...retrieval.errors import ArxivError
from ...retrieval.types import ArxivId, Paper, parse_arxiv_id

log = logging.getLogger(__name__)
MAX_LINKS = 5  # unfurled per message: a reading list pasted at once is not fetched from arXiv whole


def _button(text: str, action_id: str, value: str) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def in_our_papers(paper: Paper, questions: int) -> str:
    when = paper.added or paper.date
    day = f" on {when:%Y-%m-%d}" if when else ""
    parts = [f"presented by {escape(paper.presenter)}{day}" if paper.presenter else (f"added{day}" if day else "")]
    parts.append(f"{questions} question{'s' if questions != 1 else ''} asked" if questions else "no questions asked yet")
    return "In our papers: " + ", ".join(p for p in parts if p)


def known_unfurl(paper: Paper, questions: int) -> dict:
    return {"blocks": [
        section(f"*{link(paper.url, paper.title)}*\n{in_our_papers(paper, questions)}"),
        {"type": "actions", "elements": [_button("Ask about this", ASK_ABOUT, paper.id)]},
    ]}


def unknown_unfurl(arxiv_id: ArxivId, url: str, title: str | None, authors: tuple[str, ...]) -> dict:
    heading = f"*{link(arxiv_id.abs_url, title)}*" if title else f"*arXiv {escape(str(arxiv_id))}*"
    shown = ", ".join(authors[:4]) + (" et al." if len(authors) > 4 else "")
    blocks = [section(heading + (f"\n{escape(shown)}" if shown else "")),
              context_block("Not in our papers yet."),
              {"type": "actions", "elements": [
                  _button("Add to our papers", ADD_FROM_ARXIV, json.dumps({"id": arxiv_id.versioned, "url": url}))]}]
    return {"blocks": blocks}


class Unfurls:
    def __init__(self, deps: Deps):
        self.deps = deps

    def unfurl(self, event: dict, client: WebClient) -> None:
        unfurls = {}
        for shared in (event.get("links") or [])[:MAX_LINKS]:
            url = shared.get("url", "")
            arxiv_id = parse_arxiv_id(url)
            if arxiv_id is not None and url not in unfurls:
                unfurls[url] = self._unfurl_one(arxiv_id, url)
        if not unfurls:
            return
        if event.get("source") == "composer" and event.get("unfurl_id"):  # a message still being written: no ts yet
            client.chat_unfurl(unfurl_id=event["unfurl_id"], source=event["source"], unfurls=unfurls)
        else:
            client.chat_unfurl(channel=event["channel"], ts=event["message_ts"], unfurls=unfurls)

    def _unfurl_one(self, arxiv_id: ArxivId, url: str) -> dict:
        paper = self.deps.library.paper_from_arxiv(arxiv_id.id)
        if paper is not None:
            return known_unfurl(paper, self.deps.state.questions_about(paper.id))
        try:
            entry = self.deps.arxiv.fetch(arxiv_id)
        except ArxivError as exc:  # still offer to add it: the click says why if it fails again
            log.info("no arXiv details for the unfurl of %s: %s", arxiv_id, exc)
            return unknown_unfurl(arxiv_id, url, None, ())
        return unknown_unfurl(arxiv_id, url, entry.title, entry.authors)


def register(app: App, deps: Deps) -> None:
    unfurls = Unfurls(deps)

    @app.event("link_shared")
    def on_link_shared(event: dict, client: WebClient) -> None:
        allowed = deps.settings.slack.allowed_channels
        if allowed and event.get("channel") not in allowed:
            return
        unfurls.unfurl(event, client)
