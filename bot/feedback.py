"""👍/👎 on answers: stored with the answer's question-log id."""

from __future__ import annotations

from slack_bolt import Ack, App

from paperbot.bot.render import FEEDBACK_DOWN, FEEDBACK_UP
from paperbot.bot.replying import Deps


def register(app: App, deps: Deps) -> None:
    def store(helpful: bool):
        def handler(ack: Ack, body: dict, respond) -> None:
            ack()
            action = body["actions"][0]
            question_id = int(action["value"]) if str(action.get("value", "")).isdigit() else None
            deps.state.record_feedback(question_id, body["user"]["id"], helpful)
            respond(text="Thanks for the feedback!", response_type="ephemeral", replace_original=False)
        return handler

    app.action(FEEDBACK_UP)(store(True))
    app.action(FEEDBACK_DOWN)(store(False))
