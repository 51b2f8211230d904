"""Candidates first, then scores: spelling correction, people and title mentions and `/paper` lookup
read only the words trigram postings put near a typed word, and give what a scan of every word gave.

"A scan" is the same code with `NearWords.candidates` returning every word: exactly what the
scorers compared a question word with before the postings existed. The questions are typos of the
corpus's words, and every labelled question (retrieval/training/labels, conversation turns too).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein
from wordfreq import top_n_list

from paperbot.retrieval.questions import mentions
from paperbot.retrieval.index.corpus_index import SPELLING_MATCH, CorpusIndex
from paperbot.retrieval.corpus.loaders import corpus_files, load_file
from paperbot.retrieval.questions.lookup import NAME_THRESHOLD
from paperbot.retrieval.questions.mentions import NAME_PART_MATCH, TITLE_MATCH
from paperbot.retrieval.index.near_words import NearWords
from paperbot.retrieval.types import Paper

from tests.conftest import SHIPPED_CORPUS

LABELS = Path(__file__).resolve().parents[2] / "retrieval" / "training" / "labels"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ENGLISH = [w for w in top_n_list("en", 1_000_000, wordlist="large") if re.fullmatch(r"[a-z]+", w)]


def typo(word: str, rng: random.Random) -> str:
    """One to three random edits: insert, delete, substitute, swap two neighbours."""
    for _ in range(rng.randint(1, 3)):
        at, kind, letter = rng.randrange(len(word) + 1), rng.randrange(4), rng.choice(LETTERS)
        if kind == 0:
            word = word[:at] + letter + word[at:]
        elif kind == 1 and len(word) > 1:
            word = word[:at] + word[at + 1:]
        elif kind == 2:
            word = word[:at] + letter + word[at + 1:]
        elif at + 1 < len(word):
            word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word


def scan_every_word(monkeypatch):
    monkeypatch.setattr(NearWords, "candidates",
                        lambda self, word, cutoff, with_ratio: np.arange(len(self.words), dtype=np.int64))


def _shipped_papers() -> list[Paper]:
    return [p for path in corpus_files([SHIPPED_CORPUS]) for p in load_file(path)]


def _english_papers(n: int, seed: int = 3) -> list[Paper]:
    """Papers whose titles, names and summaries draw on 20,000 English words (Zipf's law)."""
    rng = random.Random(seed)
    words = ENGLISH[:20_000]
    cumulative = np.cumsum(1.0 / np.arange(1, len(words) + 1)).tolist()

    def draw(k: int) -> list[str]:
        return rng.choices(words, cum_weights=cumulative, k=k)

    papers = []
    for i in range(n):
        title = " ".join(w.title() for w in draw(rng.randint(2, 6)))
        authors = tuple(" ".join(w.title() for w in draw(2)) for _ in range(rng.randint(1, 3)))
        papers.append(Paper(id=f"p{i}", title=title, source="english.md", line=i, authors=authors,
                            presenter=" ".join(draw(2)).title() if i % 3 == 0 else None,
                            text=" ".join(draw(60)).capitalize() + "."))
    return papers


def _labelled_questions() -> list[str]:
    rows = [json.loads(line) for path in sorted(LABELS.glob("*/*.jsonl")) for line in path.read_text().splitlines()]
    return [turn["question"] for row in rows for turn in row.get("turns", [row])]


@pytest.fixture(scope="module", params=["shipped", "english", "labelled"])
def corpus(request) -> tuple[CorpusIndex, list[str], list[str]]:
    """An index, questions and `/paper` lookups: full of typos of its titles', names' and summaries'
    words, or, for the shipped corpus, every labelled question, and as lookups those questions and
    every title and name the catalog has."""
    papers = _english_papers(1500) if request.param == "english" else _shipped_papers()
    index = CorpusIndex(papers)
    if request.param == "labelled":
        questions = _labelled_questions()
        names = sorted({n for p in papers for n in (*p.authors, p.presenter) if n})
        return index, questions, questions + [p.title for p in papers] + names
    rng = random.Random(11)
    title_words = sorted({w for p in papers for w in re.findall(r"[a-z]+", p.title.lower()) if len(w) > 3})
    name_words = sorted({w for p in papers for n in (*p.authors, p.presenter or "")
                         for w in re.findall(r"[a-z]+", n.lower()) if len(w) > 3})
    summary_words = sorted(w for w in index.vocabulary if w.isalpha() and len(w) >= 5)
    questions = []
    for _ in range(150):
        title = rng.choice(papers).title
        questions.append(" ".join(typo(w, rng) if rng.random() < 0.5 and len(w) > 3 else w
                                  for w in title.lower().split()))  # a title, a few words misspelt
        questions.append(f"who presented the {typo(rng.choice(title_words), rng)} "
                         f"{rng.choice(title_words)} paper by {typo(rng.choice(name_words), rng)}?")
        questions.append(f"how does {typo(rng.choice(summary_words), rng)} "
                         f"{typo(rng.choice(summary_words), rng)} work")
    lookups = [q.split(" paper by ")[-1].rstrip("?") if " paper by " in q else q for q in questions]
    return index, questions, lookups


@pytest.fixture(scope="module")
def scanned_mentions(corpus) -> list:
    """What a scan of every word and every title finds in each question: the reference the small and
    the large catalog are both compared with, so computed once per corpus."""
    index, questions, _ = corpus
    with pytest.MonkeyPatch.context() as patch:
        scan_every_word(patch)
        patch.setattr(mentions, "EVERY_TITLE_UP_TO", 10**9)
        return [index.mentions._find(q, index.papers) for q in questions]


def test_candidates_hold_every_word_that_reaches_the_cutoff():
    near = NearWords()
    words = ENGLISH[:30_000]
    for word in words:
        near.add(word)
    rng = random.Random(5)
    cutoffs = [(SPELLING_MATCH, False), (TITLE_MATCH, True), (NAME_PART_MATCH, True),
               ((NAME_THRESHOLD - 0.1) / 0.9, True)]
    checked = 0
    for word in rng.sample(words, 200):
        typed = typo(word, rng)
        edits = process.cdist([typed], words, scorer=DamerauLevenshtein.normalized_similarity)[0]
        edits_or_ratio = np.maximum(edits, process.cdist([typed], words, scorer=fuzz.ratio)[0] / 100)
        for cutoff, with_ratio in cutoffs:  # each word's similarities computed once (the scan is the slow part)
            similarity = edits_or_ratio if with_ratio else edits
            reaching = set(np.flatnonzero(similarity >= cutoff - 1e-6).tolist())
            found = set(near.candidates(typed, cutoff - 1e-6, with_ratio=with_ratio).tolist())
            assert reaching <= found, (typed, cutoff, [words[i] for i in reaching - found])
            assert len(found) < len(words) / 10  # postings narrow the search
            checked += len(reaching)
    assert checked > 200  # the typos do come near words


def test_spelling_correction_is_what_a_scan_gives(corpus, monkeypatch):
    index, questions, _ = corpus
    corrected = [index.correct_spelling(q) for q in questions]
    assert sum(c != q.lower() for c, q in zip(corrected, questions)) > 50  # typos were corrected
    scan_every_word(monkeypatch)
    assert corrected == [index.correct_spelling(q) for q in questions]


@pytest.mark.parametrize("every_title_up_to", [mentions.EVERY_TITLE_UP_TO, 0], ids=["small", "large"])
def test_mentions_are_what_a_scan_gives(corpus, scanned_mentions, monkeypatch, every_title_up_to):
    """A small catalog scores every title; a large one (here: as if large) the titles near the question."""
    monkeypatch.setattr(mentions, "EVERY_TITLE_UP_TO", every_title_up_to)
    index, questions, _ = corpus
    papers = index.papers
    found = [index.mentions._find(q, papers) for q in questions]  # uncached: found now
    assert sum(bool(m.papers) for m in found) > 50 and sum(bool(m.people) for m in found) > 50
    scanned = scanned_mentions
    small = len(index.mentions._titles.words) <= every_title_up_to
    for question, new, old in zip(questions, found, scanned):
        assert (new.people, new.papers, new.name_words) == (old.people, old.papers, old.name_words), question
        if old.title_score >= TITLE_MATCH or small:
            assert new.title_score == old.title_score, question
        else:  # below the cutoff: the best title sharing a near word, else 0 (never above the scan)
            assert new.title_score <= old.title_score, question
    if not small:
        assert any(new.title_score < old.title_score for new, old in zip(found, scanned))


def test_lookup_is_what_a_scan_gives(corpus, monkeypatch):
    index, _, queries = corpus
    papers = index.papers

    def hits(query):
        return [(h.paper.id, h.score, h.matched_on) for h in index.lookup.find(papers, query)]

    found = [hits(q) for q in queries]
    assert sum(any(kind != "topic" for _, _, kind in h) for h in found) > 100
    scan_every_word(monkeypatch)
    assert found == [hits(q) for q in queries]
