"""Answers from a GGUF model run in-process by llama-cpp-python (the optional ``llama-cpp`` extra).

Same prompts, claim checks and contract as the OpenAI answerer. The model gets every core
(``PAPERBOT_LLM__THREADS``) and the chat template of ``PAPERBOT_LLM__CHAT_FORMAT`` (else the GGUF's
own). For a shared or GPU-served local model, prefer `llama-server` (llama.cpp's OpenAI-compatible
server) with the ``openai`` answerer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from ....config import Settings
from .base import AnswererUnavailable
from .chat import ChatAnswerer
from ..deadline import Deadline, DeadlineExceeded
from ..client import llama_cpp_model
from ..notes import CUT_OFF_NOTE, EMPTY_REPLY_NOTE, FALLBACK, TOO_LONG_NOTE

log = logging.getLogger(__name__)

FAILED_NOTE = f"The local language model failed; {FALLBACK}"
# llama-cpp-python reports a too-long prompt as ValueError and decoding failures as RuntimeError.
_MODEL_ERRORS = (ValueError, RuntimeError)


class LlamaCppChat:
    """A :class:`~paperbot.retrieval.llm.answerers.chat.ChatModel` on an in-process GGUF model."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._model = llama_cpp_model(settings)  # loads the GGUF now: seconds, once per process
        self._lock = threading.Lock()  # one generation at a time: the model is not thread-safe

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, deadline: Deadline) -> Iterator[str]:
        if not self._lock.acquire(timeout=deadline.remaining()):
            raise DeadlineExceeded("the local model was busy until the deadline")
        finish_reason = None
        said_something = False
        chunks = None
        try:
            chunks = self._model.create_chat_completion(
                messages=messages, temperature=self._settings.llm.temperature, max_tokens=max_tokens, stream=True)
            for chunk in chunks:
                deadline.check()
                choice = chunk["choices"][0]
                piece = choice["delta"].get("content") or ""
                finish_reason = choice.get("finish_reason") or finish_reason
                said_something = said_something or bool(piece.strip())
                if piece:
                    yield piece
        except _MODEL_ERRORS as exc:
            log.warning("llama.cpp generation failed: %s: %s", type(exc).__name__, exc)
            raise AnswererUnavailable(FAILED_NOTE, cause=exc) from exc
        finally:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()  # stops generating (e.g. at the deadline)
            self._lock.release()
        if finish_reason == "length":
            raise AnswererUnavailable(TOO_LONG_NOTE)
        if finish_reason is None:
            raise AnswererUnavailable(CUT_OFF_NOTE)
        if not said_something:
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)


class LlamaCppAnswerer(ChatAnswerer):
    def __init__(self, settings: Settings):
        super().__init__("llama_cpp", LlamaCppChat(settings), settings)
