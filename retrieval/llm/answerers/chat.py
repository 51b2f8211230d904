"""An answerer written by a chat model: the prompts it gets, the replies it must not pass off as answers.

The model behind it (an OpenAI-compatible server, or llama.cpp in-process) is a :class:`ChatModel`.
Passages reach the model as quoted data (between tags, with the rule that nothing inside them
is an instruction). The same model checks each claim of an answer against the one passage it
cites (:meth:`ChatAnswerer.supporting_quote`), seeing only that passage and that claim.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from paperbot import prompts
from ....config import Settings
from .base import AnswererUnavailable, Evidence
from ...answering.citations import MARKER, fold
from ...sentences.split import split_sentences as sentences
from ..notes import ECHO_NOTE
from ...types import Turn

if TYPE_CHECKING:
    from ..deadline import Deadline

# Older turns rarely matter for a follow-up and only cost tokens.
MAX_HISTORY_TURNS = 6
# A claim check replies with one sentence; reasoning models also think within this budget.
CHECK_TOKENS = 300
# A rough, safe token count for English prose: real tokenizers give about 4 characters a token.
CHARS_PER_TOKEN = 3
# A reply holding this share of a passage's text word for word copied it out instead of answering.
COPIED_SHARE = 0.6
_LABEL = re.compile(r"^\s*(passages|question)\s*:", re.I | re.M)  # the question template's own labels


class ChatModel(Protocol):
    def chat(self, messages: list[dict[str, str]], *, max_tokens: int, deadline: "Deadline") -> Iterator[str]:
        """Yield the reply as it arrives; raise AnswererUnavailable (with the note) when it fails.

        A reply that is empty, cut off or too long for ``max_tokens`` is a failure too.
        """
        ...


def _tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def build_messages(question: str, evidence: Sequence[Evidence], history: Sequence[Turn],
                   context_length: int = 1 << 30, reply_tokens: int = 0) -> list[dict[str, str]]:
    """System rules, the earlier turns as prior messages, then the passages and the question.

    Passages that would not fit the model's context (with room for the reply) are left out, the
    weakest first; a server would otherwise cut the prompt itself, rules and all.
    """
    messages = [{"role": "system", "content": prompts.render("answer_system")}]
    for turn in list(history)[-MAX_HISTORY_TURNS:]:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": MARKER.sub("", turn.answer)})
    room = context_length - reply_tokens - sum(_tokens(m["content"]) for m in messages) - _tokens(question) - 50
    passages: list[str] = []
    for item in evidence:
        passage = prompts.evidence_passage(
            item.n, title=item.paper.title, source=item.paper.source, text=item.text,
            authors=item.paper.authors, presenter=item.paper.presenter,
        )
        room -= _tokens(passage)
        if passages and room < 0:
            break
        passages.append(passage)
    question_message = prompts.render("answer_question", passages="\n\n".join(passages), question=question)
    messages.append({"role": "user", "content": question_message})
    return messages


def copies_passages(reply: str, evidence: Sequence[Evidence]) -> bool:
    """Whether the reply copies a passage out (most of its sentences, word for word) instead of answering."""
    text = fold(MARKER.sub("", reply))
    for item in evidence:
        pieces = sentences(item.text)
        total = sum(len(p) for p in pieces)
        if len(pieces) < 3 or total < 200:
            continue  # a short passage quoted whole can still be a fair answer
        copied = sum(len(p) for p in pieces if fold(p) in text)
        if copied >= COPIED_SHARE * total:
            return True
    return False


def echoes_prompt(reply: str, messages: list[dict[str, str]], evidence: Sequence[Evidence]) -> bool:
    """Whether the reply repeats the prompt (its rules, its labels, the passages' headings) or copies the passages."""
    text = fold(reply)
    rules = [fold(line) for line in messages[0]["content"].splitlines() if len(line.strip()) >= 30]
    headings = [fold(f'[{item.n}] "{item.paper.title}"') for item in evidence]
    return (any(rule in text for rule in rules) or any(heading in text for heading in headings)
            or "<passage>" in text or "</passage>" in text or bool(_LABEL.search(reply))
            or copies_passages(reply, evidence))


class ChatAnswerer:
    """Answers, and checks claims, with a chat model; the answer contract of `answerers.base`."""

    streams_progress = True
    checks_claims = True
    judges_near_misses = True

    def __init__(self, name: str, model: ChatModel, settings: Settings):
        self.name = name
        self._model = model
        self._settings = settings

    def stream(self, question: str, evidence: Sequence[Evidence], history: Sequence[Turn], *,
               deadline: "Deadline") -> Iterator[str]:
        """The model's reply as it arrives; raises AnswererUnavailable at the end if it only echoed the prompt."""
        llm = self._settings.llm
        messages = build_messages(question, evidence, history, llm.context_length, llm.max_tokens)
        received: list[str] = []
        for piece in self._model.chat(messages, max_tokens=llm.max_tokens, deadline=deadline):
            received.append(piece)
            yield piece
        reply = "".join(received)
        if not prompts.is_cannot_answer(reply) and echoes_prompt(reply, messages, evidence):
            raise AnswererUnavailable(ECHO_NOTE)

    def supporting_quote(self, claim: str, passage: str, *, deadline: "Deadline") -> str | None:
        """Ask the model, shown only this passage and this claim, for the passage sentence that states the claim."""
        messages = [
            {"role": "system", "content": prompts.render("claim_check_system")},
            {"role": "user", "content": prompts.render("claim_check", passage=prompts.quoted(passage),
                                                       claim=prompts.quoted(claim))},
        ]
        llm = self._settings.llm
        budget = llm.max_tokens if llm.reasoning else min(CHECK_TOKENS, llm.max_tokens)
        reply = "".join(self._model.chat(messages, max_tokens=budget, deadline=deadline))
        return None if prompts.is_not_supported(reply) else reply.strip()
