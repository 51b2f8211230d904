"""Prompt templates: the only place prompt text lives.

Templates are ``*.txt`` files next to this module, filled with :class:`string.Template`
(``$name`` placeholders) so that braces in corpus text need no escaping. Models are told to
reply with :data:`CANNOT_ANSWER` when the passages don't state the asked fact (detected with
:func:`is_cannot_answer`), and a claim checker with :data:`NOT_SUPPORTED` when a passage doesn't
support a claim. Corpus text and model text reach a model only between tags (:func:`quoted`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from string import Template

CANNOT_ANSWER = "CANNOT_ANSWER"
NOT_SUPPORTED = "NOT_SUPPORTED"
_TAGS = re.compile(r"<(/?)(passage|claim)\b", re.I)
# What may come before a sentinel in a reply: quotes, emphasis, spaces.
_WRAPPING = "\"'`*_ "


@cache
def load(name: str) -> Template:
    """The template ``prompts/<name>.txt``."""
    text = resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    """Fill template ``name``; a missing placeholder value raises ``KeyError``."""
    return load(name).substitute(cannot_answer=CANNOT_ANSWER, not_supported=NOT_SUPPORTED, **values).strip()


def quoted(text: str) -> str:
    """Text to put between our tags: a tag inside it is broken up, so data can't close the quote."""
    return _TAGS.sub(lambda m: f"<{m.group(1)} {m.group(2)}", text.strip())


def evidence_passage(
    n: int, *, title: str, source: str, text: str, authors: Sequence[str] = (), presenter: str | None = None
) -> str:
    """One numbered passage as the model sees it: ``[n] "Title" (source)``, who wrote/presented it, the text."""
    about = []
    if authors:
        about.append(render("evidence_authors", authors=", ".join(authors)))
    if presenter:
        about.append(render("evidence_presenter", presenter=presenter))
    lines = "".join(f"\n{line}" for line in about)
    return render("evidence_passage", n=n, title=title, source=source, about=lines, text=quoted(text))


def starts_with_sentinel(reply: str, sentinel: str) -> bool:
    """Whether the reply is the sentinel, or starts with it (a reason may follow).

    Only the start counts: a reply that merely contains it (e.g. one echoing the prompt) does not.
    """
    head = reply.strip().lstrip(_WRAPPING)
    if not head.startswith(sentinel):
        return False
    after = head[len(sentinel):len(sentinel) + 1]
    return not (after.isalnum() or after == "_")


def is_cannot_answer(reply: str) -> bool:
    """Whether a model reply is the cannot-answer sentinel (or starts with it)."""
    return starts_with_sentinel(reply, CANNOT_ANSWER)


def is_not_supported(reply: str) -> bool:
    """Whether a claim checker's reply is the not-supported sentinel (or starts with it)."""
    return starts_with_sentinel(reply, NOT_SUPPORTED)


def without_sentinel(reply: str) -> str:
    """The reason a model gave after the leading cannot-answer sentinel, if any."""
    head = reply.strip().lstrip(_WRAPPING)
    rest = head[len(CANNOT_ANSWER):] if head.startswith(CANNOT_ANSWER) else head
    return " ".join(rest.split()).lstrip(" .:;,-—*_\"'`")
