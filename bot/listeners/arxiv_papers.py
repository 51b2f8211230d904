"""Papers from arXiv in Slack: `/paper add <arXiv id | link>` and an unfurl's "Add to our papers" button.

Both run `retrieval.corpus.arxiv_add` (the flow `paperbot add` runs) and confirm in the channel with the
paper's card. `/paper add` also opens the paper's form, prefilled, so the presenter can replace
the abstract with the group's summary: the form opens at once on a "fetching" view (Slack's
trigger lasts 3 s) that the lazy listener then turns into the form, or into why there is none.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ..deps import Deps
from ..replies.announce import announce
from ..replies.failures import apology, apologising
from ..blocks.paper_blocks import added_message, paper_card
from .paper_edit import edit_view, notice_view, working_view
from ..replies.private_replies import tell
from ..blocks.slack_text import escape
from ...retrieval.errors import ArxivError, IndexBusy
from ...retrieval.types import ArxivId, parse_arxiv_id

if TYPE_CHECKING:
    from ...retrieval.library import ArxivAdd

log = logging.getLogger(__name__)

ADD_FROM_ARXIV = "paper_add_from_arxiv"  # the unfurl's button; its value: {"id": …, "url": …}
NOT_AN_ID = "`/paper add` takes an arXiv id or link, e.g. `/paper add 1706.03762`; `/paper add` alone opens the form."
BUSY = "the index is being updated right now. Please try again in a minute."


def _external_id(trigger_id: str) -> str:
    return f"paper-add-{trigger_id}"[:255]


def already_in(paper) -> tuple[str, list[dict]]:
    text = f"“{escape(paper.title)}” is already in our papers."
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *paper_card(paper)]


class ArxivPapers:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _add(self, arxiv_id: ArxivId, adder: str) -> ArxivAdd:
        return self.deps.library.add_from_arxiv(self.deps.arxiv, arxiv_id, added_by=adder,
                                                wait_s=self.deps.settings.slack.add_paper_wait_s)

    # -- /paper add <id> (commands.py hands these the command) ---------------------------------

    def open_form(self, client: WebClient, command: dict, arxiv_id: ArxivId) -> None:
        client.views_open(trigger_id=command["trigger_id"], view=working_view(
            _external_id(command["trigger_id"]), f"Fetching arXiv {arxiv_id} …"))

    def add_from_command(self, command: dict, client: WebClient, adder: str) -> None:
        arxiv_id = parse_arxiv_id(command.get("text", "").split(None, 1)[1])
        if arxiv_id is None:  # the ack checked it: not reached
            raise ValueError("`/paper add` was not given an arXiv id")
        channel, user = command.get("channel_id"), command["user_id"]
        external_id = _external_id(command["trigger_id"])
        try:
            result = self._add(arxiv_id, adder)
        except ArxivError as exc:
            client.views_update(external_id=external_id, view=notice_view(f"I couldn't add that paper: {escape(str(exc))}"))
            return
        except IndexBusy:
            client.views_update(external_id=external_id, view=notice_view(f"I couldn't add arXiv {arxiv_id} yet: {BUSY}"))
            return
        if not result.added:
            text, blocks = already_in(result.paper)
            client.views_update(external_id=external_id, view=notice_view(text, blocks[1:]))
            return
        text, blocks = added_message(result.paper, adder, " from arXiv")
        announce(client, channel=channel, user=user, text=text, blocks=blocks)
        client.views_update(external_id=external_id, view=edit_view(result.paper, channel))

    # -- the unfurl's "Add to our papers" ------------------------------------------------------

    def add_from_button(self, body: dict, client: WebClient) -> None:
        user, channel = body["user"]["id"], (body.get("channel") or {}).get("id")

        def say(text: str) -> None:
            tell(client, user=user, channel=channel, text=text)

        with apologising(say, apology("add that paper", "Please click again in a minute.")):
            self._add_clicked(body, client, user, channel)

    def _add_clicked(self, body: dict, client: WebClient, user: str, channel: str | None) -> None:
        value = json.loads(body["actions"][0]["value"])
        arxiv_id = parse_arxiv_id(value["id"])
        if arxiv_id is None:  # the button carries the id the unfurl parsed: not reached
            raise ValueError(f"not an arXiv id: {value['id']!r}")
        adder = body["user"].get("name") or body["user"].get("username") or "someone"
        try:
            result = self._add(arxiv_id, adder)
        except ArxivError as exc:
            tell(client, user=user, channel=channel, text=f"I couldn't add that paper: {escape(str(exc))}")
            return
        except IndexBusy:
            tell(client, user=user, channel=channel, text=f"I couldn't add arXiv {arxiv_id} yet: {BUSY}")
            return
        if not result.added:
            text, blocks = already_in(result.paper)
            tell(client, user=user, channel=channel, text=text, blocks=blocks)
            return
        text, blocks = added_message(result.paper, adder, " from arXiv")
        announce(client, channel=channel, user=user, text=text, blocks=blocks)
        self.unfurled_again(body, client, value["url"], result.paper)

    def unfurled_again(self, body: dict, client: WebClient, url: str, paper) -> None:
        """The link's preview now says the paper is in our papers."""
        from .unfurls import known_unfurl

        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if channel and ts:
            client.chat_unfurl(channel=channel, ts=ts, unfurls={url: known_unfurl(paper, questions=0)})


def _ack_only(ack: Ack) -> None:
    ack()


def register(app: App, deps: Deps) -> None:
    papers = ArxivPapers(deps)
    app.action(ADD_FROM_ARXIV)(ack=_ack_only, lazy=[papers.add_from_button])
