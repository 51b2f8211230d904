"""Small text helpers shared by the answerers, the question router, lookup and the catalog."""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[a-z0-9]+(?:[-+][a-z0-9]+)*")

STOPWORDS = frozenset("""
a an the and or but if of to in on at by for with from as is are was were be been being it its this that these
those there their they them what which who whom whose when where why how do does did done doing can could should
would will shall may might must i we you he she our us your my me about into over than then so such not no yes any
all some more most much many very just also only get got have has had having paper papers summary summaries blog
entry entries read we've weve anything something tell explain describe say says said use used using between
versus vs vs. like s whats what's who's whos
""".split())


def content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d"})


def normalize(text: str) -> str:
    """Lower case, accents and LaTeX markup removed: 'U$^2$-Net' -> 'u2-net', 'Łukasz' -> 'lukasz'."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[$^{}\\]", "", text)
    return text.lower()


def title_key(title: str) -> str:
    """What makes two titles the same paper: words only, case, accents, LaTeX and punctuation folded.

    The index stores it per paper (duplicate checks are one indexed lookup), so a change here
    needs the stored keys rebuilt: bump ``TITLE_KEY_VERSION``.
    """
    return " ".join(re.findall(r"[a-z0-9]+", normalize(title)))


TITLE_KEY_VERSION = 1
