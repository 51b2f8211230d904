"""PDFs shared in Slack: "@paperbot add this" on a message with a PDF, or the message shortcut
"Add to our papers".

The file is downloaded from its ``url_private_download`` with the bot token (``files:read``),
no larger than ``PAPERBOT_INGEST__MAX_FILE_MB`` (refused before the download when Slack's size
says so, and cut off during it otherwise), read with pypdf under ``PAPERBOT_INGEST__MAX_PAPER_CHARS``,
and added with the title and authors of its metadata or first page. The confirmation (in the
message's thread) has an "Edit" button; the shortcut opens the paper's form at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import httpx
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from ..deps import Deps
from ..replies.announce import announce
from ..replies.failures import apology, apologising
from ..state.once import handle_once, message_key
from ..blocks.paper_blocks import added_message
from .paper_edit import edit_view, notice_view, working_view
from ..replies.private_replies import tell
from ..replies.questions import question_text
from ..slack_client import bot_token
from ..blocks.slack_text import escape
from ...config.settings import FILE_SETTING
from ...retrieval.errors import CorpusFormatError, DuplicatePaperError, IndexBusy
from ...retrieval.types import Paper, paper_id_for

log = logging.getLogger(__name__)

SHORTCUT = "paper_add_shared_pdf"
SOURCE = "slack"
_ADD = re.compile(r"^add\b", re.I)  # the command word of "@paperbot add this"
DOWNLOAD_TIMEOUT_S = 30.0


class NotAdded(Exception):
    """Why a shared PDF is not in our papers; the message is for the person who shared it."""


def pdf_of(message: dict) -> dict | None:
    """The first PDF attached to a message."""
    return next((f for f in message.get("files") or []
                 if f.get("filetype") == "pdf" or f.get("mimetype") == "application/pdf"), None)


def wants_pdf_added(event: dict) -> bool:
    """A mention whose words start with "add" on a message that carries a PDF."""
    return bool(_ADD.match(question_text(event.get("text", "")))) and pdf_of(event) is not None


class SharedPdfs:
    def __init__(self, deps: Deps):
        self.deps = deps
        ingest = deps.settings.ingest
        self.max_file_bytes, self.max_paper_chars = int(ingest.max_file_mb * 1_000_000), ingest.max_paper_chars

    # -- download, read, add ------------------------------------------------------------------

    def _download(self, file: dict) -> bytes:
        name, limit = file.get("name") or "the file", self.max_file_bytes
        if file.get("size") and file["size"] > limit:
            raise NotAdded(self._too_large(name, file["size"]))
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise NotAdded(f"Slack gave me no link to download “{escape(name)}”.")
        token = bot_token(self.deps.settings)
        data = bytearray()
        with httpx.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=DOWNLOAD_TIMEOUT_S,
                          follow_redirects=True) as response:
            if response.status_code != 200:
                raise NotAdded(f"I couldn't download “{escape(name)}” (Slack answered HTTP {response.status_code}).")
            for piece in response.iter_bytes():
                data += piece
                if len(data) > limit:  # Slack's size was missing or wrong: stop reading here
                    raise NotAdded(self._too_large(name, len(data), more=True))
        return bytes(data)

    def _too_large(self, name: str, size: int, *, more: bool = False) -> str:
        amount = f"more than {size / 1e6:.1f}" if more else f"{size / 1e6:.1f}"
        return (f"“{escape(name)}” is too large to add ({amount} MB; the limit is "
                f"{self.max_file_bytes / 1e6:g} MB, set by {FILE_SETTING}).")

    def add(self, file: dict, added_by: str, url: str | None) -> Paper:
        """The shared PDF as a paper in our papers (NotAdded says why not)."""
        data = self._download(file)
        name = Path(file.get("name") or "shared.pdf").name
        try:
            read = self.deps.library.paper_from_pdf(data, name, max_file_bytes=self.max_file_bytes,
                                                    max_paper_chars=self.max_paper_chars)
        except CorpusFormatError as exc:
            raise NotAdded(f"I couldn't read “{escape(name)}”: {escape(exc.reason)}") from None
        paper = replace(read, id=paper_id_for(SOURCE, read.title), source=SOURCE, path=None, line=None, url=url,
                        added=datetime.now(timezone.utc), added_by=added_by)
        try:
            return self.deps.library.add_paper(paper, wait_s=self.deps.settings.slack.add_paper_wait_s)
        except DuplicatePaperError:
            raise NotAdded(f"“{escape(paper.title)}” is already in our papers.") from None
        except IndexBusy:
            raise NotAdded(f"I couldn't add “{escape(paper.title)}” yet: the index is being updated right now. "
                           "Please try again in a minute.") from None

    # -- "@paperbot add this" -------------------------------------------------------------------

    def on_mention(self, event: dict, client: WebClient, context: BoltContext) -> None:
        channel, ts = event["channel"], event["ts"]
        handle_once(self.deps.state, message_key(context.team_id, channel, ts),
                    lambda: self._add_from_message(event, client, channel, ts))

    def _add_from_message(self, event: dict, client: WebClient, channel: str, ts: str) -> None:
        thread_ts = event.get("thread_ts") or ts

        def reply(text: str) -> None:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

        with apologising(reply, apology("add that PDF", "Please try again in a minute.")):
            try:
                file = pdf_of(event)
                if file is None:  # the listener's matcher saw one: not reached
                    return
                paper = self.add(file, event.get("user") or "someone", None)
            except NotAdded as why:
                reply(str(why))
                return
            text, blocks = added_message(paper, None, " from a shared PDF")
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False)

    # -- the message shortcut --------------------------------------------------------------------

    def open_form(self, ack: Ack, shortcut: dict, client: WebClient) -> None:
        ack()
        file = pdf_of(shortcut.get("message") or {})
        if file is None:
            client.views_open(trigger_id=shortcut["trigger_id"], view=notice_view(
                "That message has no PDF to add. Use the shortcut on a message with a PDF attached."))
            return
        client.views_open(trigger_id=shortcut["trigger_id"], view=working_view(
            _external_id(shortcut), f"Reading “{file.get('name') or 'the PDF'}” …"))

    def add_from_shortcut(self, shortcut: dict, client: WebClient) -> None:
        message, user = shortcut.get("message") or {}, shortcut["user"]
        file, channel = pdf_of(message), (shortcut.get("channel") or {}).get("id")
        if file is None:
            return  # the form said why
        external_id = _external_id(shortcut)

        def say(text: str) -> None:
            tell(client, user=user["id"], channel=channel, text=text)

        with apologising(say, apology("add that PDF", "Please try the shortcut again in a minute.")):
            adder = user.get("name") or user.get("username") or user["id"]
            try:
                paper = self.add(file, adder, None)
            except NotAdded as why:
                client.views_update(external_id=external_id, view=notice_view(str(why)))
                return
            text, blocks = added_message(paper, adder, " from a shared PDF")
            announce(client, channel=channel, user=user["id"], text=text, blocks=blocks,
                     thread_ts=message.get("thread_ts") or message.get("ts"))
            client.views_update(external_id=external_id, view=edit_view(paper, channel))


def _external_id(shortcut: dict) -> str:
    return f"paper-add-pdf-{shortcut['trigger_id']}"[:255]


def register(app: App, deps: Deps) -> None:
    pdfs = SharedPdfs(deps)
    # Registered before the question listeners: Bolt runs the first listener that matches.
    app.event("app_mention", matchers=[lambda event: wants_pdf_added(event)])(pdfs.on_mention)
    app.shortcut(SHORTCUT)(ack=pdfs.open_form, lazy=[pdfs.add_from_shortcut])
