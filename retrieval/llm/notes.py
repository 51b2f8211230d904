"""The one-line notes users see when a language model's answer is replaced by the extractive one.

Kept apart from `retrieval.llm.client` so the question path (answering, the claim checks) can name them
without importing `openai`, which the offline defaults never use.
"""

from __future__ import annotations

FALLBACK = "here is the extractive answer."

TIMED_OUT_NOTE = f"The language model timed out; {FALLBACK}"
UNREADABLE_NOTE = f"The language model sent a reply that could not be read; {FALLBACK}"
EMPTY_REPLY_NOTE = f"The language model returned an empty answer; {FALLBACK}"
CUT_OFF_NOTE = f"The language model's answer was cut off; {FALLBACK}"
TOO_LONG_NOTE = f"The language model ran out of room before finishing its answer; {FALLBACK}"
FILTERED_NOTE = f"The language model's content filter withheld the answer; {FALLBACK}"
ECHO_NOTE = f"The language model repeated its instructions or the passages instead of answering; {FALLBACK}"
FAILED_NOTE = f"The language model failed; {FALLBACK}"


def deadline_note(seconds: float) -> str:
    return f"The language model did not answer within {seconds:g} s; {FALLBACK}"
