"""`/paper`: look a paper up, ask a question, add a paper, preview the digest; and its buttons.

Every listener acks at once; the slow work (lookup, answering, the digest) runs in a lazy
listener and replies through the command's ``response_url`` — ephemeral unless the user
presses "Share in channel".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from paperbot.bot import paper_blocks as blocks_for
from paperbot.bot.answer_reply import answer_reply
from paperbot.bot.digest import DigestLedger, build_digest
from paperbot.bot.digest_render import digest_message
from paperbot.bot.paper_blocks import ASK_ABOUT, SHARE_PAPER, SHARE_REPLY, SHOW_SUMMARY
from paperbot.bot.shared_replies import SharedReplies
from paperbot.bot.slack_text import escape
from paperbot.retrieval.tldr import tldr
from paperbot.retrieval.types import Turn

log = logging.getLogger(__name__)

COMMAND = "/paper"
ASK_ABOUT_VIEW = "paper_ask_about_view"
QUESTION_BLOCK, QUESTION_INPUT = "question", "question_input"
_HELP_WORDS = {"help", "?", "-h", "--help", "h"}

Subcommand = Literal["help", "ask", "add", "digest", "lookup"]


@dataclass(frozen=True)
class Invocation:
    subcommand: Subcommand
    argument: str = ""
    note: str | None = None  # shown above the help, e.g. why the help is shown


def parse(text: str) -> Invocation:
    """What the user asked `/paper` for; anything that is not a subcommand is a lookup query."""
    text = " ".join((text or "").split())
    first, _, rest = text.partition(" ")
    word = first.lower()
    if not text or word in _HELP_WORDS:
        return Invocation("help")
    if word == "ask":
        return Invocation("ask", rest) if rest else Invocation("help", note="`/paper ask` needs a question.")
    if word in ("add", "digest") and not rest:
        return Invocation(word)  # type: ignore[arg-type]
    if word.startswith(("-", "/")):
        return Invocation("help", note=f"Unknown option {first}.")
    return Invocation("lookup", text)


def user_name(body: dict) -> str:
    """A name to show (never a mention: showing it must not ping anyone)."""
    user = body.get("user") or {}
    return body.get("user_name") or user.get("name") or user.get("username") or "someone"


class PaperCommands:
    def __init__(self, deps: Any):
        self.deps = deps
        self.shared_replies = SharedReplies(deps.state.engine)
        self.digest_ledger = DigestLedger(deps.state.engine)

    # -- /paper --------------------------------------------------------------------------

    def ack_command(self, ack: Ack, command: dict, client: WebClient) -> None:
        invocation = parse(command.get("text", ""))
        if invocation.subcommand == "help":
            text, blocks = blocks_for.help_message(invocation.note)
            ack(text=text, blocks=blocks, response_type="ephemeral")
        elif invocation.subcommand == "add":
            ack()
            from paperbot.bot.add_paper import add_paper_view

            client.views_open(trigger_id=command["trigger_id"], view=add_paper_view(command.get("channel_id")))
        elif invocation.subcommand == "ask":
            ack(text=f"Looking through the papers for: {escape(invocation.argument)}", response_type="ephemeral")
        else:
            ack()

    def run_command(self, command: dict, respond: Respond) -> None:
        invocation = parse(command.get("text", ""))
        if invocation.subcommand == "lookup":
            hits = self.deps.library.lookup(invocation.argument)
            text, blocks = blocks_for.lookup_message(invocation.argument, hits)
            respond(text=text, blocks=blocks, response_type="ephemeral")
        elif invocation.subcommand == "ask":
            self._answer(invocation.argument, (), respond)
        elif invocation.subcommand == "digest":
            self._preview_digest(respond)

    def _answer(self, question: str, history: tuple[Turn, ...], respond: Respond | WebhookClient,
                scope: tuple[str, ...] = ()) -> None:
        self.deps.state.record_question(question, datetime.now(timezone.utc))
        answer = self.deps.library.ask(question, list(history), scope=scope)
        text, blocks = answer_reply(answer)
        key = self.shared_replies.keep(text, blocks)
        respond_kwargs = dict(text=text, blocks=blocks_for.with_share_button(blocks, key), response_type="ephemeral")
        if isinstance(respond, WebhookClient):
            respond.send(replace_original=False, **respond_kwargs)
        else:
            respond(**respond_kwargs)

    def _preview_digest(self, respond: Respond) -> None:
        settings = self.deps.settings.digest
        digest = build_digest(self.deps.library, self.digest_ledger, self.deps.state, datetime.now(timezone.utc))
        text, blocks = digest_message(digest)
        where = f"<#{settings.channel}>" if settings.channel else "no channel yet (set PAPERBOT_DIGEST__CHANNEL)"
        note = f"Preview of this week's digest — posts to {where} on {settings.weekday.title()} at {settings.time} {settings.timezone}"
        respond(text=text, blocks=[blocks_for.context_block(note), *blocks][:blocks_for.MAX_BLOCKS], response_type="ephemeral")

    # -- buttons -------------------------------------------------------------------------

    def show_summary(self, body: dict, respond: Respond) -> None:
        paper = self._paper(body, respond)
        if paper:
            text, blocks = blocks_for.summary_message(paper)
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def share_paper(self, body: dict, respond: Respond) -> None:
        paper = self._paper(body, respond)
        if paper:
            text, blocks = blocks_for.shared_paper_message(paper, user_name(body))
            respond(text=text, blocks=blocks, response_type="in_channel", replace_original=False)

    def share_reply(self, body: dict, respond: Respond) -> None:
        kept = self.shared_replies.get(body["actions"][0]["value"])
        if kept is None:
            respond(text="That answer is no longer kept; ask again with `/paper ask`.", response_type="ephemeral",
                    replace_original=False)
            return
        text, blocks = kept
        shared = [*blocks, blocks_for.context_block(f"Shared by {escape(user_name(body))} with `/paper ask`")]
        respond(text=text, blocks=shared[: blocks_for.MAX_BLOCKS], response_type="in_channel", replace_original=False)

    def open_ask_modal(self, ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        paper_id = body["actions"][0]["value"]
        paper = self.deps.library.paper(paper_id)
        if paper is None:
            return
        metadata = {"paper_id": paper_id, "response_url": body.get("response_url"),
                    "channel": (body.get("channel") or {}).get("id")}
        client.views_open(trigger_id=body["trigger_id"], view=ask_about_view(paper.title, metadata))

    def ack_ask_about(self, ack: Ack, view: dict) -> None:
        question = _question_from(view)
        if not question:
            ack(response_action="errors", errors={QUESTION_BLOCK: "Type a question first."})
            return
        ack()

    def answer_ask_about(self, view: dict, body: dict, client: WebClient) -> None:
        question = _question_from(view)
        if not question:
            return
        metadata = json.loads(view.get("private_metadata") or "{}")
        paper = self.deps.library.paper(metadata.get("paper_id", ""))
        # The paper becomes the conversation so far: the answer is about it.
        history = (Turn(question=f"Tell me about {paper.title}", answer=tldr(paper), paper_ids=(paper.id,)),) if paper else ()
        scope = (paper.id,) if paper else ()  # asked from the paper's "Ask about this": it is about that paper
        if metadata.get("response_url"):
            self._answer(question, history, WebhookClient(metadata["response_url"]), scope)
            return
        answer = self.deps.library.ask(question, list(history), scope=scope)
        text, blocks = answer_reply(answer)
        client.chat_postEphemeral(channel=metadata.get("channel") or body["user"]["id"], user=body["user"]["id"],
                                  text=text, blocks=blocks)

    def _paper(self, body: dict, respond: Respond):
        paper = self.deps.library.paper(body["actions"][0]["value"])
        if paper is None:
            respond(text="That paper is no longer in the library.", response_type="ephemeral", replace_original=False)
        return paper


def _question_from(view: dict) -> str:
    value = view["state"]["values"].get(QUESTION_BLOCK, {}).get(QUESTION_INPUT, {}).get("value") or ""
    return " ".join(value.split())


def ask_about_view(title: str, metadata: dict) -> dict:
    return {
        "type": "modal",
        "callback_id": ASK_ABOUT_VIEW,
        "title": {"type": "plain_text", "text": "Ask about a paper"},
        "submit": {"type": "plain_text", "text": "Ask"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(title)}*"[:3000]}},
            {
                "type": "input",
                "block_id": QUESTION_BLOCK,
                "label": {"type": "plain_text", "text": "Your question"},
                "element": {"type": "plain_text_input", "action_id": QUESTION_INPUT, "multiline": True,
                            "max_length": 2000},
            },
        ],
    }


def _ack_only(ack: Ack) -> None:
    ack()


def register(app: App, deps: Any) -> None:
    commands = PaperCommands(deps)
    app.command(COMMAND)(ack=commands.ack_command, lazy=[commands.run_command])
    app.action(SHOW_SUMMARY)(ack=_ack_only, lazy=[commands.show_summary])
    app.action(SHARE_PAPER)(ack=_ack_only, lazy=[commands.share_paper])
    app.action(SHARE_REPLY)(ack=_ack_only, lazy=[commands.share_reply])
    app.action(ASK_ABOUT)(commands.open_ask_modal)  # views.open needs the trigger within 3 s
    app.view(ASK_ABOUT_VIEW)(ack=commands.ack_ask_about, lazy=[commands.answer_ask_about])
