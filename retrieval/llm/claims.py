"""Claim support: an LLM's answer keeps only the sentences the passages they cite really state.

A verbatim snippet is not enough: a model can attach a real sentence to a made-up claim, or
repeat what a hostile summary told it to say. So every sentence of the answer (a *statement*) is
checked against each passage it cites, one claim and one passage at a time:

1. the answerer's model, shown only that passage and that claim, names the passage sentence that
   states it (or says it is not supported), and
2. code checks that this quote is in the cited passage and shares the claim's content words.

A statement keeps the markers that passed and is dropped when none did; statements without a
marker, and statements with links or Slack markup (never part of an answer about papers), are
dropped too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import Stemmer

from .answerers.base import AnswererUnavailable, Evidence
from ..answering.citations import MARKER, collapse, fold
from .deadline import Deadline, DeadlineExceeded
from ..index.text_match import content_words

log = logging.getLogger(__name__)

# "[1, 2]" and "[1,2]" mean "[1][2]".
_MARKER_LIST = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})+)\]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
# A sentence ends at . ! ? (or after its markers) before the next one starts.
_SENTENCE_END = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z0-9“\"(])")
# A full stop that ends an abbreviation, not a sentence: "e.g. Atari", "Fig. 2", "et al. show".
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|al|fig|figs|eq|sec|cf|approx|no|resp)|\b[A-Z])\.$", re.I)
_MARKUP = re.compile(r"<[^>\s][^>]*>|https?://|www\.", re.I)
# A quote backs a claim only if it shares this share of the claim's content words (and at least two).
SHARED_WORDS = 0.34
MAX_CHECKS = 12  # claim checks per answer; answers are a few sentences
CONCURRENT_CHECKS = 4
_stemmers = threading.local()

Verifier = Callable[..., "str | None"]  # (claim, passage, *, deadline) -> the supporting quote, or None


def _stems(text: str) -> set[str]:
    if not hasattr(_stemmers, "english"):  # PyStemmer objects are not safe to share between threads
        _stemmers.english = Stemmer.Stemmer("english")
    return set(_stemmers.english.stemWords(content_words(text)))


@dataclass(frozen=True)
class Statement:
    """One sentence of an answer, with the evidence numbers it cites."""

    line: int  # which line of the answer it is on (lists keep their lines)
    text: str  # as written, markers included
    markers: tuple[int, ...]

    @property
    def claim(self) -> str:
        """What the sentence says, without its markers."""
        return collapse(MARKER.sub("", self.text))

    @property
    def has_markup(self) -> bool:
        return bool(_MARKUP.search(self.text))


def statements(answer: str) -> tuple[list[Statement], dict[int, str]]:
    """The answer's sentences, and each line's list bullet (``{line: "- "}``)."""
    answer = _MARKER_LIST.sub(lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")), answer)
    found: list[Statement] = []
    bullets: dict[int, str] = {}
    for line_no, line in enumerate(answer.splitlines()):
        bullet = _BULLET.match(line)
        if bullet:
            bullets[line_no] = bullet.group(0).strip() + " "
            line = line[bullet.end():]
        pieces: list[str] = []
        for piece in (p.strip() for p in _SENTENCE_END.split(line.strip())):
            if pieces and _ABBREVIATION.search(pieces[-1]):
                pieces[-1] = f"{pieces[-1]} {piece}"  # a split after "e.g." or "Fig.", not a sentence
            elif piece:
                pieces.append(piece)
        for piece in pieces:
            markers = tuple(dict.fromkeys(int(n) for n in MARKER.findall(piece)))
            found.append(Statement(line_no, piece.strip(), markers))
    return found, bullets


def quote_supports(claim: str, quote: str, passage: str) -> bool:
    """Code's half of the check: the quote is in the passage, and says much of what the claim says."""
    quote = quote.strip().strip("\"'`“”‘’").strip()
    if not quote or fold(quote) not in fold(passage):
        return False
    claim_words = _stems(claim)
    shared = claim_words & _stems(quote)
    return len(shared) >= min(2, len(claim_words)) and len(shared) >= SHARED_WORDS * len(claim_words)


@dataclass
class CheckedAnswer:
    """What is left of an answer after its claims were checked."""

    text: str  # the supported statements with the markers that passed ("" when none passed)
    quotes: dict[int, list[str]] = field(default_factory=dict)  # evidence number -> quotes that passed
    dropped: int = 0  # statements left out that made a claim
    checked: int = 0  # statements that cited something


def _rebuild(kept: dict[int, list[str]], bullets: dict[int, str]) -> str:
    return "\n".join(bullets.get(line, "") + " ".join(parts) for line, parts in sorted(kept.items()))


def _with_markers(statement: Statement, passed: Sequence[int]) -> str:
    """The statement with only the markers that passed, placed before its closing punctuation."""
    claim = statement.claim
    marks = "".join(f"[{n}]" for n in passed)
    body, end = (claim[:-1], claim[-1]) if claim[-1:] in ".!?" else (claim, "")
    return f"{body.rstrip()} {marks}{end}"


def check_claims(answer: str, evidence: Sequence[Evidence], verify: Verifier, deadline: Deadline) -> CheckedAnswer:
    """Keep the statements their cited passages support; see the module docstring."""
    found, bullets = statements(answer)
    by_n = {item.n: item for item in evidence}
    pairs = [(i, n) for i, s in enumerate(found) if not s.has_markup for n in s.markers if n in by_n][:MAX_CHECKS]
    quotes = _verify_all(pairs, found, by_n, verify, deadline)
    result = CheckedAnswer(text="", checked=sum(1 for s in found if s.markers))
    kept: dict[int, list[str]] = {}
    for i, statement in enumerate(found):
        passed = [n for n in statement.markers if (i, n) in quotes]
        if not passed:
            result.dropped += len(content_words(statement.claim)) >= 3
            continue
        for n in passed:
            result.quotes.setdefault(n, []).append(quotes[(i, n)])
        kept.setdefault(statement.line, []).append(_with_markers(statement, passed))
    result.text = _rebuild(kept, bullets)
    return result


def _verify_all(pairs, found: list[Statement], by_n: dict[int, Evidence], verify: Verifier,
                deadline: Deadline) -> dict[tuple[int, int], str]:
    """(statement index, evidence number) -> the quote that passed both checks, for every pair that did."""
    if not pairs:
        return {}
    failures: list[AnswererUnavailable] = []

    def one(pair: tuple[int, int]) -> str | None:
        i, n = pair
        claim, passage = found[i].claim, by_n[n].text
        try:
            quote = verify(claim, passage, deadline=deadline)
        except AnswererUnavailable as exc:
            failures.append(exc)
            return None
        if quote is not None and not quote_supports(claim, quote, passage):
            log.info("claim check: the quote for [%d] is not in the passage or says something else", n)
            return None
        return quote

    pool = ThreadPoolExecutor(max_workers=min(CONCURRENT_CHECKS, len(pairs)), thread_name_prefix="claim-check")
    try:
        futures = {pool.submit(one, pair): pair for pair in pairs}
        done, pending = wait(futures, timeout=deadline.remaining())
        if pending:
            raise DeadlineExceeded(f"claim checks still running at the {deadline.seconds:g} s deadline")
        results = {futures[f]: f.result() for f in done}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if len(failures) == len(pairs):  # the model could check nothing: say why, as for the answer itself
        raise failures[0]
    return {pair: quote for pair, quote in results.items() if quote is not None}
