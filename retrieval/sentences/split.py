"""Splitting summaries into sentences, verbatim, and telling which of them can be quoted.

One splitter for the whole product: the reader ranks these sentences, citations quote them, the
TL;DR takes the first informative one. Each sentence is a piece of the source with its whitespace
collapsed, so every quote stays verbatim.

A sentence never ends at an abbreviation ("vs.", "e.g.", "i.e.", "et al.", "Fig.", "Eq.") or an
initial, nor inside a decimal or a version number (a full stop there has no space after it).
Inline markdown headings ("#### What is BN?"), bullet markers, bare URLs and image placeholders
(`![]() |`) are split off as pieces of their own, and :func:`is_quotable` refuses them, as it
refuses figure captions and remarks about the summary itself.
"""

from __future__ import annotations

import re

# A full stop, question or exclamation mark (and any closing quote or bracket), then space, then
# what can start a sentence. Single newlines are hard wraps; a blank line ends a paragraph.
_END = re.compile(r"(?<=[.!?])[\"”')\]]?\s+(?=[\"“(\[$]?[A-Z0-9])|\n\s*\n")
# Pieces split off wherever they stand: headings, bullets after a colon or a full stop, bare URLs,
# image placeholders.
_HEADING = re.compile(r"(?:^|\s)(#{1,6}\s+[^#?\n]{0,80}?(?:\?|(?=\s[-*]\s)|$))")
_HEADING_START = re.compile(r"\s#{1,6}\s")
_BULLET = re.compile(r"(?<=[.:!?)])\s+[-*•]\s+(?=\S)|\s[*•]\s+(?=[A-Z])")
_LEADING_BULLET = re.compile(r"^\s*[-*•]\s+")
_BARE_URL = re.compile(r"(?:^|(?<=\s))https?://\S+")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)\s*\|?")
# Words after which a full stop is not a sentence end (lower-cased, without the stop).
ABBREVIATIONS = frozenset(
    "e.g i.e vs v cf al fig figs eq eqs sec secs tab no nos approx resp ref refs dr mr ms mrs prof st incl esp viz ca "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split())
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")

_CAPTION_START = re.compile(
    r"^(?:an?\s+|the\s+)?(?:(?:general|overall|high-level|visual|schematic)\s+)?"
    r"(?:illustration|diagram|figure|fig\.|overview|comparison|depiction|visuali[sz]ation|"
    r"inference results|results|architecture|schematic|examples?|samples?|screenshot|plot|table)\b",
    re.IGNORECASE,
)
_META = re.compile(r"\b(?:this|my|the previous|an earlier) (?:summary|post|write-?up)\b", re.IGNORECASE)
_VERBISH = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|can|could|will|would|may|might|must|should|"
    r"do|does|did|we|i|they|it|this paper|the authors?|uses?|used|consists?|contains?|shows?|learns?|achieves?|"
    r"outperforms?|reduces?|improves?|combines?|takes?|makes?|gives?|allows?|enables?|relies|computes?|"
    r"produces?|replaces?|adds?|predicts?|reaches?|runs?|works?)\b",
    re.IGNORECASE,
)
_MIN_WORDS = 4
_MARKUP_ONLY = re.compile(r"^[\s|!\[\]()#*•-]*$")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _ends_with_abbreviation(piece: str) -> bool:
    match = _LAST_WORD.search(piece)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    # "et al.", "e.g.", "Fig.", and single initials ("J. Smith") do not end a sentence.
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _pieces(text: str) -> list[str]:
    """The text cut at every heading, bullet, bare URL and image placeholder (kept as pieces)."""
    text = _IMAGE.sub(lambda m: f"\n\n{m.group(0)}\n\n", text)
    text = _BARE_URL.sub(lambda m: f"\n\n{m.group(0)}\n\n", text)
    text = _HEADING.sub(lambda m: f"\n\n{m.group(1)}\n\n", text)
    text = _BULLET.sub("\n\n", text)
    return [_LEADING_BULLET.sub("", p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def split_sentences(text: str) -> list[str]:
    """The text's sentences in order, verbatim with whitespace collapsed (headings, URLs and
    markup as pieces of their own)."""
    out: list[str] = []
    for block in _pieces(text):
        parts = [_collapse(p) for p in _END.split(block) if p and _collapse(p)]
        merged: list[str] = []
        for part in parts:
            if merged and _ends_with_abbreviation(merged[-1]):
                merged[-1] = f"{merged[-1]} {part}"
            else:
                merged.append(part)
        out.extend(part for part in merged if len(part) > 2)
    return out


def is_prose(piece: str) -> bool:
    """Not a heading, bare URL or image placeholder."""
    return not (piece.startswith("#") or _BARE_URL.fullmatch(piece) or _MARKUP_ONLY.match(_IMAGE.sub("", piece)))


def is_quotable(sentence: str) -> bool:
    """A sentence worth quoting: prose of five words or more, not a caption or a remark about the summary."""
    if not is_prose(sentence) or len(sentence.split()) < _MIN_WORDS or _META.search(sentence):
        return False
    return not _CAPTION_START.match(sentence) or bool(_VERBISH.search(sentence))


def looks_like_caption(sentence: str) -> bool:
    return bool(_CAPTION_START.match(sentence)) or not _VERBISH.search(sentence)
