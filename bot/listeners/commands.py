"""`/paper`: look a paper up, ask a question, add a paper, preview the digest; and its buttons.

Every listener acks at once; the slow work (lookup, answering, the digest) runs in a lazy
listener and replies through the command's ``response_url`` — ephemeral unless the user
presses "Share in channel". Each path answers on failure too: a short apology that says what to
do (`bot.replies.failures`), never silence. A question is answered by the flow every surface shares
(`bot.replies.questions`): questions longer than ``PAPERBOT_MAX_QUESTION_CHARS`` get the limit
message, wherever they are asked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from ..deps import Deps
from ..blocks import paper_blocks as blocks_for
from .arxiv_papers import NOT_AN_ID, ArxivPapers
from ..weekly_digest import DigestLedger, build_digest
from ..blocks.digest_blocks import digest_message
from ..replies.failures import apology, apologising
from ..blocks.paper_blocks import ASK_ABOUT, SHARE_PAPER, SHARE_REPLY, SHOW_SUMMARY
from ..replies.private_replies import tell
from ..state.shared_replies import SharedReplies
from ..blocks.slack_text import escape
from ...retrieval.library import tldr
from ...retrieval.types import Turn, parse_arxiv_id
from ..replies.ephemeral import EphemeralReply, PrivateReply
from ..replies.questions import Asked, reply_to_question, too_long

log = logging.getLogger(__name__)

COMMAND = "/paper"
ASK_ABOUT_VIEW = "paper_ask_about_view"
QUESTION_BLOCK, QUESTION_INPUT = "question", "question_input"
_HELP_WORDS = {"help", "?", "-h", "--help", "h"}
ECHO_CHARS = 150  # how much of a question "Looking through the papers for: …" repeats
SLACK_INPUT_LIMIT = 3000  # the longest a plain_text_input may allow

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
    if word == "add":
        return Invocation("add", rest)  # alone: the form; with an arXiv id or link: that paper
    if word == "digest" and not rest:
        return Invocation("digest")
    if word.startswith(("-", "/")):
        return Invocation("help", note=f"Unknown option {first}.")
    return Invocation("lookup", text)


def user_name(body: dict) -> str:
    """A name to show (never a mention: showing it must not ping anyone)."""
    user = body.get("user") or {}
    return body.get("user_name") or user.get("name") or user.get("username") or "someone"


class PaperCommands:
    def __init__(self, deps: Deps):
        self.deps = deps
        self.shared_replies = SharedReplies(deps.state.engine)
        self.digest_ledger = DigestLedger(deps.state.engine)
        self.arxiv = ArxivPapers(deps)

    # -- /paper --------------------------------------------------------------------------

    @property
    def question_limit(self) -> int:
        return self.deps.settings.max_question_chars

    def ack_command(self, ack: Ack, command: dict, client: WebClient, respond: Respond) -> None:
        invocation = parse(command.get("text", ""))
        if invocation.subcommand == "help":
            text, blocks = blocks_for.help_message(invocation.note)
            ack(text=text, blocks=blocks, response_type="ephemeral")
        elif invocation.subcommand == "add" and invocation.argument:
            arxiv_id = parse_arxiv_id(invocation.argument)
            if arxiv_id is None:
                text, blocks = blocks_for.help_message(NOT_AN_ID)
                ack(text=text, blocks=blocks, response_type="ephemeral")
                return
            ack()
            with apologising(_ephemeral(respond), apology("open the form", "Please try `/paper add` again.")):
                self.arxiv.open_form(client, command, arxiv_id)
        elif invocation.subcommand == "add":
            ack()
            from .add_paper import add_paper_view

            with apologising(_ephemeral(respond), apology("open the form", "Please try `/paper add` again.")):
                client.views_open(trigger_id=command["trigger_id"], view=add_paper_view(command.get("channel_id")))
        elif invocation.subcommand == "ask" and (limit_message := too_long(self.deps, invocation.argument)):
            text, blocks = limit_message
            ack(text=text, blocks=blocks, response_type="ephemeral")
        elif invocation.subcommand == "ask":
            ack(text=f"Looking through the papers for: {escape(_shortened(invocation.argument))}",
                response_type="ephemeral")
        else:
            ack()

    def run_command(self, command: dict, respond: Respond, client: WebClient) -> None:
        invocation = parse(command.get("text", ""))
        if invocation.subcommand == "add" and parse_arxiv_id(invocation.argument):
            with apologising(_ephemeral(respond), apology("add that paper", "Please try `/paper add` again in a minute.")):
                self.arxiv.add_from_command(command, client, user_name(command))
        elif invocation.subcommand == "lookup":
            with apologising(_ephemeral(respond), apology("look that up", "Please try `/paper` again in a minute.")):
                hits = self.deps.library.lookup(invocation.argument)
                text, blocks = blocks_for.lookup_message(invocation.argument, hits)
                respond(text=text, blocks=blocks, response_type="ephemeral")
        elif invocation.subcommand == "ask" and not too_long(self.deps, invocation.argument):  # the ack said so
            # The answer, or the apology, takes the place of "Looking through the papers…".
            sorry = apology("answer that", "Please try `/paper ask` again in a minute.")
            with apologising(_ephemeral(respond, replace_original=True), sorry):
                reply = EphemeralReply(respond, self.shared_replies, replace_original=True, apology_text=sorry)
                reply_to_question(self.deps, Asked(invocation.argument, command.get("channel_id")), reply)
        elif invocation.subcommand == "digest":
            with apologising(_ephemeral(respond), apology("build the digest preview",
                                                          "Please try `/paper digest` again in a minute.")):
                self._preview_digest(respond)

    def _preview_digest(self, respond: Respond) -> None:
        settings = self.deps.settings.digest
        digest = build_digest(self.deps.library, self.digest_ledger, self.deps.state, datetime.now(timezone.utc))
        text, blocks = digest_message(digest)
        where = f"<#{settings.channel}>" if settings.channel else "no channel yet (set PAPERBOT_DIGEST__CHANNEL)"
        note = (f"Preview of this week's digest — posts to {where} on {settings.weekday.title()} "
                f"at {settings.time} {settings.timezone}")
        respond(text=text, blocks=[blocks_for.context_block(note), *blocks][:blocks_for.MAX_BLOCKS], response_type="ephemeral")

    # -- buttons -------------------------------------------------------------------------

    def show_summary(self, body: dict, respond: Respond) -> None:
        with apologising(_ephemeral(respond), apology("show that summary", "Please click again in a minute.")):
            paper = self._paper(body, respond)
            if paper:
                text, blocks = blocks_for.summary_message(paper)
                respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def share_paper(self, body: dict, respond: Respond) -> None:
        with apologising(_ephemeral(respond), apology("share that paper", "Please click again in a minute.")):
            paper = self._paper(body, respond)
            if paper:
                text, blocks = blocks_for.shared_paper_message(paper, user_name(body))
                respond(text=text, blocks=blocks, response_type="in_channel", replace_original=False)

    def share_reply(self, body: dict, respond: Respond) -> None:
        with apologising(_ephemeral(respond), apology("share that answer", "Please click again in a minute.")):
            kept = self.shared_replies.get(body["actions"][0]["value"])
            if kept is None:
                respond(text="That answer is no longer kept; ask again with `/paper ask`.", response_type="ephemeral",
                        replace_original=False)
                return
            text, blocks = kept
            shared = [*blocks, blocks_for.context_block(f"Shared by {escape(user_name(body))} with `/paper ask`")]
            respond(text=text, blocks=shared[: blocks_for.MAX_BLOCKS], response_type="in_channel",
                    replace_original=False)

    def open_ask_modal(self, ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        with apologising(_ephemeral(respond), apology("open the question form", "Please click again in a minute.")):
            paper_id = body["actions"][0]["value"]
            paper = self.deps.library.paper(paper_id)
            if paper is None:
                respond(text="That paper is no longer in the library.", response_type="ephemeral",
                        replace_original=False)
                return
            metadata = {"paper_id": paper_id, "response_url": body.get("response_url"),
                        "channel": (body.get("channel") or {}).get("id")}
            client.views_open(trigger_id=body["trigger_id"],
                              view=ask_about_view(paper.title, metadata, min(self.question_limit, SLACK_INPUT_LIMIT)))

    def ack_ask_about(self, ack: Ack, view: dict) -> None:
        question = _question_from(view)
        if not question:
            ack(response_action="errors", errors={QUESTION_BLOCK: "Type a question first."})
        elif limit_message := too_long(self.deps, question):
            ack(response_action="errors", errors={QUESTION_BLOCK: limit_message[0]})
        else:
            ack()

    def answer_ask_about(self, view: dict, body: dict, client: WebClient) -> None:
        question = _question_from(view)
        if not question or too_long(self.deps, question):
            return  # the modal showed why and stayed open
        metadata = json.loads(view.get("private_metadata") or "{}")
        user, channel = body["user"]["id"], metadata.get("channel")
        response_url = metadata.get("response_url")

        def send(text: str) -> None:
            if response_url:
                WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False)
            else:
                tell(client, user=user, channel=channel, text=text)

        sorry = apology("answer that", "Please ask again in a minute.")
        with apologising(send, sorry):
            paper = self.deps.library.paper(metadata.get("paper_id", ""))
            # The paper becomes the conversation so far: the answer is about it.
            earlier = (Turn(question=f"Tell me about {paper.title}", answer=tldr(paper), paper_ids=(paper.id,)),) if paper else ()
            scope = (paper.id,) if paper else ()  # asked from the paper's "Ask about this": it is about that paper
            reply = (EphemeralReply(WebhookClient(response_url).send, self.shared_replies, replace_original=False,
                                    apology_text=sorry) if response_url
                     else PrivateReply(client, user=user, channel=channel, apology_text=sorry))
            reply_to_question(self.deps, Asked(question, channel, earlier=earlier, scope=scope), reply)

    def _paper(self, body: dict, respond: Respond):
        paper = self.deps.library.paper(body["actions"][0]["value"])
        if paper is None:
            respond(text="That paper is no longer in the library.", response_type="ephemeral", replace_original=False)
        return paper


def _ephemeral(respond: Respond, *, replace_original: bool = False):
    """Send a text to the person through ``respond``, visible only to them."""
    return lambda text: respond(text=text, response_type="ephemeral", replace_original=replace_original)


def _shortened(question: str) -> str:
    return question if len(question) <= ECHO_CHARS else question[: ECHO_CHARS - 1].rstrip() + "…"


def _question_from(view: dict) -> str:
    value = view["state"]["values"].get(QUESTION_BLOCK, {}).get(QUESTION_INPUT, {}).get("value") or ""
    return " ".join(value.split())


def ask_about_view(title: str, metadata: dict, max_chars: int) -> dict:
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
                            "max_length": max_chars},
            },
        ],
    }


def _ack_only(ack: Ack) -> None:
    ack()


def register(app: App, deps: Deps) -> None:
    commands = PaperCommands(deps)
    app.command(COMMAND)(ack=commands.ack_command, lazy=[commands.run_command])
    app.action(SHOW_SUMMARY)(ack=_ack_only, lazy=[commands.show_summary])
    app.action(SHARE_PAPER)(ack=_ack_only, lazy=[commands.share_paper])
    app.action(SHARE_REPLY)(ack=_ack_only, lazy=[commands.share_reply])
    app.action(ASK_ABOUT)(commands.open_ask_modal)  # views.open needs the trigger within 3 s
    app.view(ASK_ABOUT_VIEW)(ack=commands.ack_ask_about, lazy=[commands.answer_ask_about])
