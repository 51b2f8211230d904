"""One question -> reply flow for every surface: mentions, DMs, thread follow-ups, agent threads,
`/paper ask` and a paper's "Ask about this".

The flow is the same everywhere: the length limit (``PAPERBOT_MAX_QUESTION_CHARS``), the answer
(its steps shown as task cards where the surface and the answerer can), one row in the question
log (the same data from every surface), then the reply. Where the reply goes and how it looks is
the surface's :class:`Reply` (a thread message, an ephemeral reply, a private one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...retrieval.errors import QuestionError
from ...retrieval.types import Answer, Turn
from ..blocks.answers import too_long_message
from ..deps import Deps
from ..state.once import UNDELIVERED
from .reply import Reply

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def question_text(text: str) -> str:
    """The question without the bot's mention."""
    return " ".join(_MENTION.sub(" ", text or "").split())


@dataclass(frozen=True)
class Asked:
    """A question and where it was asked."""

    text: str
    channel: str | None = None
    thread_ts: str | None = None  # a thread the bot answers in: its earlier turns are the conversation
    earlier: tuple[Turn, ...] = ()  # the conversation when it starts outside a thread ("Ask about this")
    scope: tuple[str, ...] = ()  # paper ids the question is about


def too_long(deps: Deps, question: str) -> tuple[str, list[dict]] | None:
    """The limit message for a question over the one length limit; None when it is within it."""
    limit = deps.settings.max_question_chars
    return too_long_message(limit) if len(question) > limit else None


def reply_to_question(deps: Deps, asked: Asked, reply: Reply) -> Answer | None:
    """Answer ``asked`` through ``reply``; a refusal or an apology instead when there is no answer.

    The answer is logged before it is sent (the reply carries its log id) and forgotten again if it
    never reached Slack, so a redelivery answers it (see bot/state/once.py).
    """
    limit_message = too_long(deps, asked.text)
    if limit_message is not None:
        reply.send(limit_message)
        return None
    try:
        answer = _answer(deps, asked, reply)
    except QuestionError as exc:  # its message is meant for the asker
        reply.send(reply.refusal(str(exc)))
        return None
    except Exception:
        log.exception("answering failed in %s/%s", asked.channel, asked.thread_ts)
        reply.send(reply.apology())
        return None
    question_id = deps.state.record_question(
        asked.text, channel=asked.channel, thread_ts=asked.thread_ts, answer=answer.answer,
        paper_ids=answer.paper_ids, abstained=answer.abstained)
    try:
        reply.send(reply.answer(answer, question_id), answer)
    except UNDELIVERED:
        deps.state.forget_question(question_id)  # never reached Slack: not answered
        raise
    return answer


def _history(deps: Deps, asked: Asked) -> list[Turn]:
    if asked.channel and asked.thread_ts:
        return deps.state.thread_history(asked.channel, asked.thread_ts)
    return list(asked.earlier)


def _answer(deps: Deps, asked: Asked, reply: Reply) -> Answer:
    history: Sequence[Turn] = _history(deps, asked)
    cards = reply.progress_cards() if deps.library.streams_progress else None
    if cards is None:
        return deps.library.ask(asked.text, history, asked.scope)
    for item in deps.library.ask_stream(asked.text, history, asked.scope):
        if isinstance(item, Answer):
            return item
        cards.show(item)
    raise RuntimeError("the answer stream ended without an answer")
