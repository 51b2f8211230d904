"""👍/👎 on answers (the native feedback buttons, `bot.blocks.feedback_buttons`): stored with the answer's
question-log id, thanked with an ephemeral note."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond

from ..blocks.feedback_buttons import FEEDBACK_ACTION, LEGACY_DOWN, LEGACY_UP, read_click
from ..deps import Deps

log = logging.getLogger(__name__)
THANKS = "Thanks for the feedback!"
FAILED = "Sorry, I couldn't save your feedback just now: something went wrong on my side. Please click again in a minute."


def register(app: App, deps: Deps) -> None:
    def store(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        click = read_click(body["actions"][0])
        if click is None:
            log.warning("feedback click with an unknown value: %r", body["actions"][0].get("value"))
            return
        helpful, question_id = click
        try:
            deps.state.record_feedback(question_id, body["user"]["id"], helpful)
        except Exception:
            log.exception("storing feedback failed")
            respond(text=FAILED, response_type="ephemeral", replace_original=False)
            return
        respond(text=THANKS, response_type="ephemeral", replace_original=False)

    for action_id in (FEEDBACK_ACTION, LEGACY_UP, LEGACY_DOWN):
        app.action(action_id)(store)
