"""Which messages in a channel thread the bot answered get a reply without an @mention.

People expect the bot to answer when mentioned (that is the `app_mention` event, always answered)
and, without a mention, only when the person who asked it follows up with a question meant for
it. Thanks, chatter and messages addressed to someone else get nothing. What is a question for the
bot is the fitted route decision (`Library.is_question_for_bot`), never a list of phrasings; the
rest are structural facts: who the message mentions and whether its author asked the bot there.

``PAPERBOT_SLACK__THREAD_REPLIES`` sets how far this goes: ``asker`` (the default), ``anyone``
(questions from anyone in the thread) or ``mentions`` (only @mentions are answered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...retrieval.library import Library
    from ..state.store import State

# A user, a user group or a broadcast (<!here>, <!channel>, <!everyone>) mentioned in message text.
_MENTION = re.compile(r"<@(?P<user>[A-Z0-9]+)(?:\|[^>]*)?>|<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|[^>]*)?>")


def mentioned_users(text: str) -> list[str | None]:
    """Everyone the text mentions: user ids, ``None`` for a user group or a broadcast."""
    return [match.group("user") for match in _MENTION.finditer(text or "")]


def mentions_user(text: str, user_id: str | None) -> bool:
    return bool(user_id) and user_id in mentioned_users(text)


def addressed_to_someone_else(text: str, bot_user_id: str | None) -> bool:
    """The message mentions a person (or a group, or the channel) other than the bot."""
    return any(user != bot_user_id for user in mentioned_users(text))


@dataclass(frozen=True)
class ThreadPolicy:
    """Decides whether an unmentioned message in a channel thread gets an answer."""

    mode: str  # "asker" | "anyone" | "mentions"
    state: State  # is_bot_thread, is_asker
    library: Library  # is_question_for_bot

    def answers(self, *, channel: str, thread_ts: str, user: str | None, text: str, bot_user_id: str | None) -> bool:
        if self.mode == "mentions" or not user:
            return False
        if not self.state.is_bot_thread(channel, thread_ts):
            return False
        if self.mode == "asker" and not self.state.is_asker(channel, thread_ts, user):
            return False
        if addressed_to_someone_else(text, bot_user_id):
            return False
        return self.library.is_question_for_bot(text)
