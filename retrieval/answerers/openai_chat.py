"""Answers written by an OpenAI chat model, or any OpenAI-compatible server (Ollama, vLLM, llama.cpp server, LM Studio).

The model sees the numbered evidence passages and the earlier turns of the conversation; it
writes ``[n]`` markers that `retrieval.answering` turns into verified citations, or the
cannot-answer sentinel (:data:`prompts.CANNOT_ANSWER`) when the passages don't state the fact.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Generator, Sequence

import openai

from paperbot import prompts
from paperbot.config import Settings
from paperbot.retrieval.answerers.base import AnswererUnavailable, Draft, Evidence
from paperbot.retrieval.llm import CUT_OFF_NOTE, EMPTY_REPLY_NOTE, openai_client, unavailable
from paperbot.retrieval.types import Turn

log = logging.getLogger(__name__)

# Older turns rarely matter for a follow-up and only cost tokens.
MAX_HISTORY_TURNS = 6
# Earlier answers' markers point at earlier evidence; left in, they would mislead the model's numbering.
_MARKER = re.compile(r"\s*\[\d+\]")
_LLM_ERRORS = (openai.OpenAIError, json.JSONDecodeError)


def draft_from_reply(reply: str) -> Draft:
    """The :class:`Draft` a model reply stands for (the sentinel means: abstain)."""
    if prompts.is_cannot_answer(reply):
        return Draft(text=prompts.without_sentinel(reply), abstained=True)
    return Draft(text=reply.strip())


def holding_back(received: str) -> bool:
    """Whether streamed text so far could be (or is) the sentinel, and so must not reach users yet."""
    head = received.lstrip()
    return prompts.CANNOT_ANSWER.startswith(head) or head.startswith(prompts.CANNOT_ANSWER)


def build_messages(question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> list[dict[str, str]]:
    """System rules, the earlier turns as prior messages, then the passages and the question."""
    messages = [{"role": "system", "content": prompts.render("answer_system")}]
    for turn in list(history)[-MAX_HISTORY_TURNS:]:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": _MARKER.sub("", turn.answer)})
    passages = "\n\n".join(
        prompts.evidence_passage(
            item.n, title=item.paper.title, source=item.paper.source, text=item.text,
            authors=item.paper.authors, presenter=item.paper.presenter,
        )
        for item in evidence
    )
    question_message = prompts.render("answer_question", passages=passages, question=question)
    messages.append({"role": "user", "content": question_message})
    return messages


class OpenAIAnswerer:
    name = "openai"

    def __init__(self, settings: Settings):
        self._settings = settings
        self._client = openai_client(settings)

    def _request(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> dict:
        llm = self._settings.llm
        return {
            "model": llm.model,
            "messages": build_messages(question, evidence, history),
            "temperature": llm.temperature,
            "max_tokens": llm.max_tokens,
        }

    def answer(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]) -> Draft:
        try:
            completion = self._client.chat.completions.create(**self._request(question, evidence, history))
        except _LLM_ERRORS as exc:
            raise unavailable(exc, self._settings)
        reply = completion.choices[0].message.content if completion.choices else None
        if not reply or not reply.strip():
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)
        return draft_from_reply(reply)

    def stream(
        self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn]
    ) -> Generator[str, None, Draft]:
        """Yield the reply as it arrives; ``draft_from_reply("".join(chunks))`` equals :meth:`answer`'s Draft.

        Text that could still turn out to be the cannot-answer sentinel is held back, so the
        sentinel always arrives whole, as the first chunk, and callers can keep it from users.
        The generator's return value (``draft = yield from answerer.stream(...)``) is the Draft.
        """
        received = ""
        sent = 0
        finished = False
        try:
            with self._client.chat.completions.create(
                **self._request(question, evidence, history), stream=True
            ) as chunks:
                for chunk in chunks:
                    for choice in chunk.choices:  # usage-only chunks have no choices
                        received += choice.delta.content or ""
                        finished = finished or choice.finish_reason is not None
                    if holding_back(received):
                        continue  # undecided, or abstaining: the sentinel goes out whole below
                    if len(received) > sent:
                        yield received[sent:]
                        sent = len(received)
        except _LLM_ERRORS as exc:
            raise unavailable(exc, self._settings)
        if not finished:  # the connection closed before the model said it was done
            log.warning("LLM stream ended without a finish_reason after %d characters", len(received))
            raise AnswererUnavailable(CUT_OFF_NOTE)
        if not received.strip():
            raise AnswererUnavailable(EMPTY_REPLY_NOTE)
        if len(received) > sent:
            yield received[sent:]
        return draft_from_reply(received)
