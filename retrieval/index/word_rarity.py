"""How ordinary a word is in everyday language (wordfreq's bundled frequency lists, no download).

A question word our corpus lacks means little when it is everyday chatter ("pls", "curious",
"everything") and a lot when it is a rare, specific term ("mamba", "tpus"). Frequencies are looked
up in English and a few other languages people write in, and the most common reading wins.

Loading wordfreq's five lists takes longer than the rest of a `paperbot ask` together, so the
frequencies of plain words (letters a-z) are also kept as one table in the data directory
(`save_table`, run by `paperbot ingest`); a process that finds it reads that instead. Both give
the same figures: the table holds what wordfreq returns.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
from contextlib import closing
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

log = logging.getLogger(__name__)

LANGUAGES = ("en", "de", "fr", "es", "pt")
EVERYDAY_ZIPF = 6.0  # "the", "have": no information at all
RARE_ZIPF = 2.0  # at or below this, a word is fully specific
_PLAIN = re.compile(r"[a-z]+")  # one token in every language above: wordfreq looks it up as it is

_table: sqlite3.Connection | None = None
_table_lock = threading.Lock()


def _table_path(directory: Path) -> Path:
    return directory / f"word-frequency-{version('wordfreq')}-{'-'.join(LANGUAGES)}.sqlite3"


def use_table(directory: Path) -> bool:
    """Look plain words up in the table saved in ``directory``, if there is one (opening costs nothing)."""
    global _table
    path = _table_path(directory)
    if _table is None and path.is_file():
        try:
            _table = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:  # wordfreq itself still answers
            log.warning("ignoring %s: %s", path, exc)
    return _table is not None


def _single_token_zipf(frequency: float) -> float:
    """wordfreq's zipf_frequency of a word that is one token, from its list frequency."""
    from wordfreq import freq_to_zipf

    frequency = 1.0 / (1.0 / frequency)  # as wordfreq combines the tokens' frequencies
    rounded = round(frequency, math.floor(-math.log(frequency, 10)) + 3)  # wordfreq keeps 3 significant digits
    return round(freq_to_zipf(rounded), 2)


def save_table(directory: Path) -> None:
    """Save the highest Zipf frequency of every plain word that some language does not find rare."""
    path = _table_path(directory)
    if path.is_file():
        return
    from wordfreq import get_frequency_dict

    table: dict[str, float] = {}
    for lang in LANGUAGES:
        for word, frequency in get_frequency_dict(lang).items():
            if frequency >= 10 ** (RARE_ZIPF - 9) / 2 and _PLAIN.fullmatch(word):
                table[word] = max(table.get(word, 0.0), _single_token_zipf(frequency))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as stream:
            pass
        with closing(sqlite3.connect(stream.name)) as db:
            db.execute("CREATE TABLE zipf (word TEXT PRIMARY KEY, zipf REAL) WITHOUT ROWID")
            db.executemany("INSERT INTO zipf VALUES (?, ?)", table.items())
            db.commit()
        os.replace(stream.name, path)
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not save the word-frequency table to %s: %s", directory, exc)


def _zipf(word: str) -> float:
    if _table is not None and _PLAIN.fullmatch(word):
        with _table_lock:
            row = _table.execute("SELECT zipf FROM zipf WHERE word = ?", (word,)).fetchone()
        return row[0] if row else 0.0  # not in the table: rare (or absent) in every language
    from wordfreq import zipf_frequency  # loads its lists on first use

    return max(zipf_frequency(word, lang) for lang in LANGUAGES)


@lru_cache(maxsize=65536)
def specificity(word: str) -> float:
    """0 for everyday words, 1 for rare ones, in between on a log-frequency scale."""
    zipf = _zipf(word)
    return min(1.0, max(0.0, (EVERYDAY_ZIPF - zipf) / (EVERYDAY_ZIPF - RARE_ZIPF)))
