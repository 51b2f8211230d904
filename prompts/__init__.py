"""Prompt templates: the only place prompt text lives.

Templates are ``*.txt`` files next to this module, filled with :class:`string.Template`
(``$name`` placeholders) so that braces in corpus text need no escaping. Models are told to
reply with :data:`CANNOT_ANSWER` when the passages don't state the asked fact; tests and the
answerers detect it with :func:`is_cannot_answer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from string import Template

CANNOT_ANSWER = "CANNOT_ANSWER"


@cache
def load(name: str) -> Template:
    """The template ``prompts/<name>.txt``."""
    text = resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    """Fill template ``name``; a missing placeholder value raises ``KeyError``."""
    return load(name).substitute(cannot_answer=CANNOT_ANSWER, **values).strip()


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
    return render("evidence_passage", n=n, title=title, source=source, about=lines, text=text.strip())


def is_cannot_answer(reply: str) -> bool:
    """Whether a model reply is (or contains) the cannot-answer sentinel."""
    return CANNOT_ANSWER in reply


def without_sentinel(reply: str) -> str:
    """The reply with the sentinel taken out (models sometimes add a reason after it)."""
    return " ".join(reply.replace(CANNOT_ANSWER, " ").split()).lstrip(" .:;,-—")
