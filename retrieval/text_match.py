"""Small word-level helpers shared by the answerers and the question router."""

from __future__ import annotations

import re

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
