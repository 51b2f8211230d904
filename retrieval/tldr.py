"""A one-line TL;DR of a paper, taken (nearly) verbatim from its summary.

The summaries open in different ways: the reading-group blog starts most papers with the
caption of a figure ("Illustration of …", "The general architecture of FixMatch. …"),
some summaries open with a label ("Background.") or a remark about the summary itself
("This summary builds on my summary of …"). The TL;DR is the first sentence that says
what the paper does, trimmed to one line.
"""

from __future__ import annotations

import re

from paperbot.retrieval.types import Paper

MAX_CHARS = 200

# Openings of figure captions: a noun phrase naming what a picture shows.
_CAPTION_START = re.compile(
    r"^(?:an?\s+|the\s+)?(?:(?:general|overall|high-level|visual|schematic)\s+)?"
    r"(?:illustration|diagram|figure|fig\.|overview|comparison|depiction|visuali[sz]ation|"
    r"inference results|results|architecture|schematic|examples?|samples?|screenshot|plot|table)\b",
    re.IGNORECASE,
)
# A sentence about the summary, not about the paper.
_META = re.compile(r"\b(?:this|my|the previous|an earlier) (?:summary|post|write-?up)\b", re.IGNORECASE)
# Finite verbs a caption lacks; a sentence with none of them is a noun phrase.
_VERBISH = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|can|could|will|would|may|might|must|should|"
    r"do|does|did|we|i|they|it|this paper|the authors?)\b",
    re.IGNORECASE,
)
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "fig.", "cf.", "approx.", "resp.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9])")
_MARKDOWN = re.compile(r"(?m)^\s{0,3}#{1,6}\s*|\*\*|__|!\[[^\]]*\]\([^)]*\)\s*\|?")
_MIN_WORDS = 5


def tldr(paper: Paper, max_chars: int = MAX_CHARS) -> str:
    """The first informative sentence of the paper's summary, at most ``max_chars`` long."""
    return tldr_of_text(paper.text, max_chars)


def tldr_of_text(text: str, max_chars: int = MAX_CHARS) -> str:
    sentences = split_sentences(_strip_caption_paragraph(text))
    chosen = next((s for s in sentences if is_informative(s)), sentences[0] if sentences else "")
    return shorten(chosen, max_chars)


def split_sentences(text: str) -> list[str]:
    flat = " ".join(_MARKDOWN.sub(" ", text).split())
    pieces = _SENTENCE_END.split(flat)
    sentences: list[str] = []
    for piece in pieces:
        # Re-join pieces split after an abbreviation ("et al. The …" is one sentence).
        if sentences and sentences[-1].lower().endswith(_ABBREVIATIONS):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return [s.strip() for s in sentences if s.strip()]


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
            if _looks_like_caption(first_sentence):
                return "\n".join(lines[end + 1 :])
            return text
    return text


def _looks_like_caption(sentence: str) -> bool:
    return bool(_CAPTION_START.match(sentence)) or not _VERBISH.search(sentence)


def is_informative(sentence: str) -> bool:
    if len(sentence.split()) < _MIN_WORDS or _META.search(sentence):
        return False
    return not _CAPTION_START.match(sentence) or bool(_VERBISH.search(sentence))
