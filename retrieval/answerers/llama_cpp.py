"""Answers from a GGUF model run in-process by llama-cpp-python (the optional ``llama-cpp`` extra).

Same prompts and contract as the OpenAI answerer; for a shared or GPU-served local model,
prefer `llama-server` (llama.cpp's OpenAI-compatible server) with the ``openai`` answerer.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence

from paperbot.config import Settings
from paperbot.retrieval.answerers.base import AnswererUnavailable, Draft, Evidence
from paperbot.retrieval.answerers.openai_chat import build_messages, draft_from_reply, holding_back
from paperbot.retrieval.llm import EMPTY_REPLY_NOTE, FALLBACK, llama_cpp_model
from paperbot.retrieval.types import Turn

log = logging.getLogger(__name__)

FAILED_NOTE = f"The local language model failed; {FALLBACK}"
# llama-cpp-python reports a too-long prompt as ValueError and decoding failures as RuntimeError.
_MODEL_ERRORS = (ValueError, RuntimeError)


class LlamaCppAnswerer:
    name = "llama_cpp"

    def __init__(self, settings: Settings):
        self._settings = settings
        self._model = llama_cpp_model(settings)  # loads the GGUF now: seconds, once per process

    def _options(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> dict:
        return {
            "messages": build_messages(question, evidence, history),
            "temperature": self._settings.llm.temperature,
            "max_tokens": self._settings.llm.max_tokens,
        }

    def answer(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> Draft:
        try:
            result = self._model.create_chat_completion(**self._options(question, evidence, history))
        except _MODEL_ERRORS as exc:
            log.warning("llama.cpp answer failed: %s: %s", type(exc).__name__, exc)
            raise AnswererUnavailable(FAILED_NOTE, cause=exc)
        reply = result["choices"][0]["message"].get("content") or ""
        if not reply.strip():
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)
        return draft_from_reply(reply)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]
    ) -> Generator[str, None, Draft]:
        """Same contract as :meth:`OpenAIAnswerer.stream`."""
        received = ""
        sent = 0
        try:
            for chunk in self._model.create_chat_completion(**self._options(question, evidence, history), stream=True):
                received += chunk["choices"][0]["delta"].get("content") or ""
                if not holding_back(received) and len(received) > sent:
                    yield received[sent:]
                    sent = len(received)
        except _MODEL_ERRORS as exc:
            log.warning("llama.cpp stream failed: %s: %s", type(exc).__name__, exc)
            raise AnswererUnavailable(FAILED_NOTE, cause=exc)
        if not received.strip():
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)
        if len(received) > sent:
            yield received[sent:]
        return draft_from_reply(received)
