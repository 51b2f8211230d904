"""👍/👎 under an answer: Slack's native `feedback_buttons` element in a `context_actions` block.

Both buttons share one action id; a click's action carries the pressed button's ``value``
(``{"type": "feedback_buttons", "action_id": …, "value": "helpful:42", "text": {…}}``), so the
value says which button and which answer (its question-log id). Answers posted before the native
element came in carry two ordinary buttons whose value is the bare id; their clicks still count.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ContextActionsBlock, FeedbackButtonObject, FeedbackButtonsElement

FEEDBACK_ACTION = "answer_feedback"
BLOCK_ID = "answer_feedback"
HELPFUL, NOT_HELPFUL = "helpful", "not_helpful"
# The two ordinary buttons of older answers.
LEGACY_UP, LEGACY_DOWN = "answer_feedback_up", "answer_feedback_down"


def feedback_block(question_id: str) -> dict:
    """The 👍/👎 block for the answer logged as ``question_id``."""
    return ContextActionsBlock(block_id=BLOCK_ID, elements=[FeedbackButtonsElement(
        action_id=FEEDBACK_ACTION,
        positive_button=FeedbackButtonObject(text="👍 Helpful", value=f"{HELPFUL}:{question_id}",
                                             accessibility_label="This answer was helpful"),
        negative_button=FeedbackButtonObject(text="👎 Not helpful", value=f"{NOT_HELPFUL}:{question_id}",
                                             accessibility_label="This answer was not helpful"),
    )]).to_dict()


def read_click(action: dict) -> tuple[bool, int | None] | None:
    """(helpful, question id) of a feedback click; None for a value that is neither button's."""
    value = str(action.get("value") or "")
    if action.get("action_id") in (LEGACY_UP, LEGACY_DOWN):
        return action["action_id"] == LEGACY_UP, int(value) if value.isdigit() else None
    verdict, _, question_id = value.partition(":")
    if verdict not in (HELPFUL, NOT_HELPFUL):
        return None
    return verdict == HELPFUL, int(question_id) if question_id.isdigit() else None
