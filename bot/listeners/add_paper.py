"""The "Add a paper" modal (`/paper add`): validate, index at once, confirm in the channel.

Bad input (an empty summary, a title already in the library, a link that is not http(s))
is shown next to the field in the modal through ``response_action: errors``; nothing is
saved until the whole form is valid. Indexing runs after the modal closed (a lazy
listener), so the submission is acked within Slack's 3 seconds. Where the bot can't post
(a private channel it isn't in), the person who added the paper is told by ephemeral message
or DM; if indexing fails, they get an apology with their summary, so nothing is lost. While
another process writes an embedded index (`paperbot ingest`), the add waits up to
``PAPERBOT_SLACK__ADD_PAPER_WAIT_S`` for it, then says the index is being updated.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlparse

from slack_bolt import Ack, App
from slack_sdk import WebClient

from ..deps import Deps
from ..replies.announce import announce
from ..replies.failures import apology, apologising
from ..blocks.paper_blocks import ASK_USAGE, usage
from ..replies.private_replies import tell
from ..blocks.slack_text import escape, link
from ...retrieval.errors import DuplicatePaperError, IndexBusy
from ...retrieval.library import paper_from_text, tldr

log = logging.getLogger(__name__)

VIEW_ID = "paper_add_view"
SOURCE = "slack"  # the `source` of papers added from Slack
TITLE, AUTHORS, LINK, PRESENTER, SUMMARY = "title", "authors", "link", "presenter", "summary"
MAX_SUMMARY_CHARS = 3000  # Slack's limit for a multi-line text input


def input_field(block_id: str, label: str, *, optional: bool = False, multiline: bool = False,
                placeholder: str = "", element_type: str = "plain_text_input", max_length: int = 300,
                initial: str = "") -> dict:
    """One input block of a form (the block and its element share the id ``read_submission`` reads)."""
    element: dict = {"type": element_type, "action_id": block_id}
    if element_type == "plain_text_input":
        element.update(multiline=multiline, max_length=max_length)
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    if initial:
        element["initial_value"] = initial[:max_length] if element_type == "plain_text_input" else initial
    return {"type": "input", "block_id": block_id, "optional": optional,
            "label": {"type": "plain_text", "text": label}, "element": element}


def add_paper_view(channel_id: str | None) -> dict:
    field = input_field
    return {
        "type": "modal",
        "callback_id": VIEW_ID,
        "title": {"type": "plain_text", "text": "Add a paper"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            field(TITLE, "Title", placeholder="Attention Is All You Need"),
            field(AUTHORS, "Authors", optional=True, placeholder="Ashish Vaswani, Noam Shazeer, …"),
            field(LINK, "Link", optional=True, element_type="url_text_input"),
            field(PRESENTER, "Presenter", optional=True, placeholder="Who presented it to the group"),
            field(SUMMARY, "Summary", multiline=True, max_length=MAX_SUMMARY_CHARS,
                  placeholder="Paste the summary the group discussed"),
        ],
    }


@dataclass(frozen=True)
class Submission:
    title: str
    authors: str
    link: str
    presenter: str
    summary: str


def read_submission(view: dict) -> Submission:
    values = view["state"]["values"]

    def value(block_id: str) -> str:
        return ((values.get(block_id) or {}).get(block_id) or {}).get("value") or ""

    return Submission(" ".join(value(TITLE).split()), value(AUTHORS).strip(), value(LINK).strip(),
                      " ".join(value(PRESENTER).split()), value(SUMMARY).strip())


def validation_errors(submission: Submission, title_taken: Callable[[str], bool]) -> dict[str, str]:
    """Field -> message for every problem; empty when the paper can be added."""
    errors: dict[str, str] = {}
    if not submission.title:
        errors[TITLE] = "The paper needs a title."
    elif title_taken(submission.title):
        errors[TITLE] = "A paper with this title is already in the library — try `/paper <title>`."
    if not re.search(r"\w", submission.summary):
        errors[SUMMARY] = "Paste the summary: it is what the bot answers from."
    if submission.link:
        parsed = urlparse(submission.link)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or re.search(r"[\s<>|]", submission.link):
            errors[LINK] = "That is not a web link (it should start with https://)."
    return errors


class AddPaper:
    def __init__(self, deps: Deps):
        self.deps = deps

    def ack_submission(self, ack: Ack, view: dict) -> None:
        errors = validation_errors(read_submission(view), self.deps.library.has_title)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def index_submission(self, view: dict, body: dict, client: WebClient) -> None:
        submission = read_submission(view)
        # Bolt runs this after every ack, also one that showed errors: check again, save nothing then.
        if validation_errors(submission, self.deps.library.has_title):
            return
        user = body["user"]
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")

        def apologise(text: str) -> None:
            kept = f"{text}\nHere is what you submitted, so you can paste it again:\n```{escape(submission.summary)}```"
            tell(client, user=user["id"], channel=channel, text=kept[:3000])

        with apologising(apologise, apology(f"add “{escape(submission.title)}”", "Please try `/paper add` again in a minute.")):
            try:
                self._index(submission, user, channel, client)
            except IndexBusy as busy:  # an ingest is writing the index: a bounded wait, then say so
                log.info("not adding a paper from Slack: the index is %s", busy)
                apologise(f"I couldn't add “{escape(submission.title)}” yet: the index is being updated right now. "
                          "Please try `/paper add` again in a minute.")

    def _index(self, submission: Submission, user: dict, channel: str | None, client: WebClient) -> None:
        adder = user.get("name") or user.get("username") or "someone"
        paper = paper_from_text(
            submission.summary, title=submission.title, source=SOURCE, authors=submission.authors,
            presenter=submission.presenter or None, url=submission.link or None,
            added=datetime.now(timezone.utc), added_by=adder,
        )
        try:
            paper = self.deps.library.add_paper(paper, wait_s=self.deps.settings.slack.add_paper_wait_s)
        except DuplicatePaperError:
            # Someone added the same paper between validation and indexing.
            tell(client, user=user["id"], channel=channel, text=f"“{escape(paper.title)}” is already in the library.")
            return
        text = f"{escape(adder)} added “{escape(paper.title)}” to the library"
        blocks: list[dict] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"{escape(adder)} added *{link(paper.url, paper.title)}* to the library\n{escape(tldr(paper))}")[:3000]}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                f"Find it with {usage('/paper <title>')} · ask about it with {usage(ASK_USAGE)}")}]},
        ]
        announce(client, channel=channel, user=user["id"], text=text, blocks=blocks)


def register(app: App, deps: Deps) -> None:
    add_paper = AddPaper(deps)
    app.view(VIEW_ID)(ack=add_paper.ack_submission, lazy=[add_paper.index_submission])
