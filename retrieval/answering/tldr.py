"""A one-line TL;DR of a paper, taken (nearly) verbatim from its summary.

The summaries open in different ways: the reading-group blog starts most papers with the
caption of a figure ("Illustration of …", "The general architecture of FixMatch. …"),
some summaries open with a label ("Background.") or a remark about the summary itself
("This summary builds on my summary of …"). The TL;DR is the first sentence that says
what the paper does, trimmed to one line.
"""

from __future__ import annotations

from ..sentences.split import is_quotable, looks_like_caption, split_sentences
from ..types import Paper

MAX_CHARS = 200


def tldr(paper: Paper, max_chars: int = MAX_CHARS) -> str:
    """The first informative sentence of the paper's summary, at most ``max_chars`` long."""
    return tldr_of_text(paper.text, max_chars)


def tldr_of_text(text: str, max_chars: int = MAX_CHARS) -> str:
    sentences = split_sentences(_strip_caption_paragraph(text))
    chosen = next((s for s in sentences if is_quotable(s)), sentences[0] if sentences else "")
    return shorten(chosen, max_chars)


def shorten(sentence: str, max_chars: int = MAX_CHARS) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return f"{cut}…"


def _strip_caption_paragraph(text: str) -> str:
    """Drop a figure caption that opens a hard-wrapped summary (a short first paragraph).

    Hard-wrapped text shows a paragraph's end as a short line ending in a full stop; a first
    paragraph of at most three lines that reads like a caption is the picture's caption.
    """
    lines = [line.rstrip() for line in text.strip().splitlines()]
    if len(lines) < 3:
        return text
    width = max(len(line) for line in lines)
    for end, line in enumerate(lines[:3]):
        next_word = lines[end + 1].split(" ", 1)[0]
        # The paragraph ended here if the next line's first word would have fit on this one.
        if line.endswith((".", ":")) and len(line) + 1 + len(next_word) <= width:
            first_paragraph = " ".join(lines[: end + 1])
            first_sentence = split_sentences(first_paragraph)[0]
            if looks_like_caption(first_sentence):
                return "\n".join(lines[end + 1 :])
            return text
    return text


