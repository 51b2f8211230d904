"""How ordinary a word is in everyday language (wordfreq's bundled frequency lists, no download).

A question word our corpus lacks means little when it is everyday chatter ("pls", "curious",
"everything") and a lot when it is a rare, specific term ("mamba", "tpus"). Frequencies are looked
up in English and a few other languages people write in, and the most common reading wins.
"""

from __future__ import annotations

from functools import lru_cache

LANGUAGES = ("en", "de", "fr", "es", "pt")
EVERYDAY_ZIPF = 6.0  # "the", "have": no information at all
RARE_ZIPF = 2.0  # at or below this, a word is fully specific


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """0 for everyday words, 1 for rare ones, in between on a log-frequency scale."""
    from wordfreq import zipf_frequency  # loads its lists on first use

    zipf = max(zipf_frequency(word, lang) for lang in LANGUAGES)
    return min(1.0, max(0.0, (EVERYDAY_ZIPF - zipf) / (EVERYDAY_ZIPF - RARE_ZIPF)))
