"""Lists by source: "list every paper from the reading-group blog", "what do we have from shortscience?".

A source is the file a paper came from; a question names one when it shares two words with the
file's name ("reading group" for scale-ai-reading-group.txt) or one word rare in everyday language
("shortscience"). Such a list question is a query over the catalog: every paper of that source,
by title, in the order the source gives them — no quote to choose, so no citations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ..questions.question_text import tokens
from ..types import Answer, Paper
from ..index.word_rarity import specificity

_NAME_WORDS = re.compile(r"[a-z0-9]+")
_FILE_WORDS = frozenset({"txt", "md", "pdf", "papers", "paper", "summaries", "summary"})
RARE = 0.9  # a source-name word this rare in everyday language names the source on its own


def name_words(source: str) -> set[str]:
    """The words of a source's file name that can name it."""
    return {w for w in _NAME_WORDS.findall(source.lower()) if w not in _FILE_WORDS and len(w) > 1}


def named_source(question: str, sources_by_word: Mapping[str, Iterable[str]]) -> str | None:
    """The source the question names, if exactly one is named (``sources_by_word``: a name word ->
    the sources whose name has it; only the sources sharing a word with the question are read)."""
    asked = set(tokens(question))
    named = []
    for source in sorted({s for w in asked for s in sources_by_word.get(w, ())}):
        shared = name_words(source) & asked
        if len(shared) >= 2 or any(specificity(w) >= RARE for w in shared):
            named.append(source)
    return named[0] if len(named) == 1 else None


def source_list(question: str, source: str, papers: Iterable[Paper]) -> Answer:
    members = sorted((p for p in papers if p.source == source), key=lambda p: (p.path or "", p.line or 0, p.title))
    titles = "; ".join(f"“{p.title}”" for p in members)
    count = f"{len(members)} of our papers come" if len(members) != 1 else "One of our papers comes"
    return Answer(question=question, answer=f"{count} from {source}: {titles}.", abstained=False,
                  paper_ids=[p.id for p in members])
