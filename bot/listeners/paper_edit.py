"""Editing a paper someone just added (from arXiv or a shared PDF): its form, prefilled.

A paper from arXiv comes in with its abstract as the summary; the presenter replaces it here with
the group's own. A PDF's title and authors come from its metadata or first page; they are fixed
here (its text, longer than a form holds, stays as extracted). While the paper is being fetched,
the form shows a "working on it" view that is then replaced (``views.update`` by ``external_id``):
Slack's trigger to open a form lasts 3 seconds, the fetch may take longer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
import logging
from dataclasses import replace

from slack_bolt import Ack, App
from slack_sdk import WebClient

from .add_paper import AUTHORS, MAX_SUMMARY_CHARS, PRESENTER, SUMMARY, TITLE, input_field
from ..deps import Deps
from ..replies.failures import apology, apologising
from ..blocks.paper_blocks import EDIT_PAPER, paper_card
from ..replies.private_replies import tell
from ..blocks.slack_text import escape
from ...retrieval.errors import IndexBusy
from ...retrieval.library import split_authors
from ...retrieval.types import Paper, paper_id_for

log = logging.getLogger(__name__)

EDIT_VIEW = "paper_edit_view"


def _modal(title: str, blocks: list[dict], **extra) -> dict:
    return {"type": "modal", "title": {"type": "plain_text", "text": title[:24]},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks, **extra}


def working_view(external_id: str, text: str) -> dict:
    """What the form shows until the paper is in."""
    return _modal("Add a paper", [{"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}],
                  external_id=external_id)


def notice_view(text: str, blocks: Sequence[dict] = ()) -> dict:
    """The form replaced by a message: the paper was already in, or could not be added."""
    return _modal("Add a paper", [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}, *blocks])


def edit_view(paper: Paper, channel: str | None) -> dict:
    fields = [
        input_field(TITLE, "Title", initial=paper.title),
        input_field(AUTHORS, "Authors", optional=True, initial=", ".join(paper.authors)),
        input_field(PRESENTER, "Presenter", optional=True, placeholder="Who presented it to the group",
                    initial=paper.presenter or ""),
    ]
    if len(paper.text) <= MAX_SUMMARY_CHARS:  # an abstract or a pasted summary; a PDF's whole text is not edited here
        label = "Summary (now the arXiv abstract: replace it with the group's)" if paper.source == "arxiv" else "Summary"
        fields.append(input_field(SUMMARY, label, multiline=True, max_length=MAX_SUMMARY_CHARS, initial=paper.text))
    return {
        "type": "modal", "callback_id": EDIT_VIEW,
        "title": {"type": "plain_text", "text": "Edit the paper"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Keep as is"},
        "private_metadata": json.dumps({"paper_id": paper.id, "channel": channel}),
        "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "It is in our papers already; change what the bot should know and save.")}]}, *fields],
    }


def _values(view: dict) -> dict[str, str | None]:
    values = view["state"]["values"]
    return {block: ((values[block].get(block) or {}).get("value") or "") if block in values else None
            for block in (TITLE, AUTHORS, PRESENTER, SUMMARY)}


class PaperEdits:
    def __init__(self, deps: Deps):
        self.deps = deps

    def open_form(self, ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        paper = self.deps.library.paper(body["actions"][0]["value"])
        channel = (body.get("channel") or {}).get("id")
        if paper is None:
            tell(client, user=body["user"]["id"], channel=channel, text="That paper is no longer in the library.")
            return
        client.views_open(trigger_id=body["trigger_id"], view=edit_view(paper, channel))

    def _edited(self, view: dict) -> tuple[Paper | None, dict[str, str]]:
        """The paper as the form has it, or the form's errors."""
        metadata = json.loads(view.get("private_metadata") or "{}")
        old = self.deps.library.paper(metadata.get("paper_id", ""))
        if old is None:
            return None, {TITLE: "This paper is no longer in the library."}
        values = _values(view)
        title = " ".join((values[TITLE] or "").split())
        errors = {}
        if not title:
            errors[TITLE] = "The paper needs a title."
        elif (other := self.deps.library.paper_titled(title)) is not None and other.id != old.id:
            errors[TITLE] = "Another paper in the library has this title."
        summary = values[SUMMARY]
        if summary is not None and not summary.strip():
            errors[SUMMARY] = "The summary is what the bot answers from: it cannot be empty."
        if errors:
            return None, errors
        return replace(old, id=paper_id_for(old.source, title), title=title, authors=split_authors(values[AUTHORS]),
                       presenter=" ".join((values[PRESENTER] or "").split()) or None,
                       text=summary.strip() if summary is not None else old.text), {}

    def ack_submission(self, ack: Ack, view: dict) -> None:
        _, errors = self._edited(view)
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()

    def save(self, view: dict, body: dict, client: WebClient) -> None:
        paper, _ = self._edited(view)
        if paper is None:
            return  # the form showed why
        user = body["user"]["id"]
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
        old_id = json.loads(view["private_metadata"])["paper_id"]

        def say(text: str, blocks: list[dict] | None = None) -> None:
            tell(client, user=user, channel=channel, text=text, blocks=blocks)

        with apologising(say, apology(f"save your changes to “{escape(paper.title)}”", "Please edit it again in a minute.")):
            try:
                saved = self.deps.library.replace_paper(old_id, paper, wait_s=self.deps.settings.slack.add_paper_wait_s)
            except IndexBusy:
                say(f"I couldn't save your changes to “{escape(paper.title)}” yet: the index is being updated "
                    "right now. Please edit it again in a minute.")
                return
            say(f"Saved your changes to “{escape(saved.title)}”.", [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Saved your changes to “{escape(saved.title)}”."}},
                *paper_card(saved)])


def register(app: App, deps: Deps) -> None:
    edits = PaperEdits(deps)
    app.action(EDIT_PAPER)(edits.open_form)  # views.open needs the trigger within 3 s
    app.view(EDIT_VIEW)(ack=edits.ack_submission, lazy=[edits.save])
