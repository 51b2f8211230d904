"""What one index generation needs in memory, changed paper by paper as the store changes.

The papers (in catalog order) and their chunks, BM25 over whole summaries and over chunks, the
corpus vocabulary and the tables spelling correction reads, each stem's document frequency, and
the catalog tables that name matching (`mentions`) and `/paper` lookup read. ``apply`` takes the
papers that changed since the last generation: it removes what they contributed and adds what
they now contribute, so a refresh costs the changed papers, never the whole corpus.
"""

from __future__ import annotations

import bisect
import importlib.util
import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from .deferred import Deferred
from .lexical import LexicalIndex
from ..questions.lookup import LookupIndex
from ..questions.mentions import MentionIndex
from .near_words import NearWords
from ..answering.source_lists import name_words
from .text_match import STOPWORDS
from ..types import Chunk, Paper


def _bm25s_stopwords() -> tuple[str, ...]:
    # bm25s's English list, read from its file: importing bm25s would pull in scipy (~1 s at start-up).
    spec = importlib.util.find_spec("bm25s")
    module_spec = importlib.util.spec_from_file_location("_bm25s_stopwords", Path(spec.origin).parent / "stopwords.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.STOPWORDS_EN


# Question scaffolding ("which papers", "what have we read") must not match every summary.
_BM25_STOPWORDS = frozenset(_bm25s_stopwords()) | STOPWORDS
_STOPWORD_SET = frozenset(_BM25_STOPWORDS)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's tokenizer (scikit-learn's CountVectorizer pattern)
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
SPELLING_MATCH = 0.79  # similarity (1 - edits / length) a query word needs to be read as a corpus word
_STEMMER = Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def catalog_order(paper: Paper) -> tuple:
    """The order papers are listed in: as they were added, then by file and line."""
    return (paper.added.isoformat() if paper.added else "", paper.source, paper.line or 0, paper.title)


def _first_with_prefix(items: list, key):
    """The first item of a sorted list that is >= key (the candidate sharing its prefix), if any."""
    at = bisect.bisect_left(items, key)
    return items[at] if at < len(items) else None


def _joined_titles(paper: Paper) -> set[tuple[str, str]]:
    """A title's word pairs written as one word ("batchnorm" -> "batch normalization"), and its
    short name run together ("U$^2$-Net" -> "u2net")."""
    title_words = words(paper.title)
    joined = {(a + b, f"{a} {b}") for a, b in zip(title_words, title_words[1:])}
    short = re.findall(r"[a-z0-9]+", re.sub(r"[$^{}\\]", "", re.split(r"[:(]", paper.title, maxsplit=1)[0].lower()))
    if 1 < len(short) <= 4:
        joined.add(("".join(short), " ".join(short)))
    return joined


class _SortedCounts:
    """A multiset kept as counts plus the sorted list of its distinct members."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.sorted: list = []

    def add(self, items: Iterable) -> None:
        for item in items:
            if not self.counts[item]:
                bisect.insort(self.sorted, item)
            self.counts[item] += 1

    def remove(self, items: Iterable) -> None:
        for item in items:
            self.counts[item] -= 1
            if self.counts[item] <= 0:
                del self.counts[item]
                at = bisect.bisect_left(self.sorted, item)
                del self.sorted[at]

    def bulk(self, items: Iterable) -> None:
        """Add many at once (one sort instead of many inserts)."""
        self.counts.update(items)
        self.sorted = sorted(self.counts)


class _TypoWords:
    """The words a misspelt one may be read as (alphabetic, 4+ letters), counted by paper, and the
    trigram postings that find those near a typed word (every word ever seen: the gone have no count)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()  # never holds a zero
        self.near = NearWords()

    def add(self, words: list[str]) -> None:
        for word in words:
            if word not in self.counts:
                self.near.add(word)
        self.counts.update(words)

    def remove(self, words: list[str]) -> None:
        for word in words:
            self.counts[word] -= 1
            if self.counts[word] <= 0:
                del self.counts[word]


class _PaperStems:
    """Each paper's content stems (a question's few best papers need them), made on first use."""

    def __init__(self, index: "CorpusIndex"):
        self._index = index
        self._cache: dict[str, frozenset[str]] = {}

    def of(self, paper: Paper) -> frozenset[str]:
        stems = self._cache.get(paper.id)
        if stems is None:
            stems = frozenset(self._index.stems(self._index.paper_text(paper), joined=True))
        return stems

    def get(self, paper_id: str, default=frozenset()):
        paper = self._index.papers.get(paper_id)
        if paper is None:
            return default
        stems = self._cache.get(paper_id)
        if stems is None:
            stems = self._cache[paper_id] = self.of(paper)
        return stems

    def forget(self, paper_id: str) -> None:
        self._cache.pop(paper_id, None)

    def __getstate__(self):  # saved without the cache: it is rebuilt as questions need it
        return {"_index": self._index, "_cache": {}}


class CorpusIndex:
    def __init__(self, papers: Iterable[Paper] = (), chunks: Iterable[Chunk] = ()):
        self.papers: dict[str, Paper] = {}
        self.chunks_of: dict[str, list[Chunk]] = {}
        self.paper_bm25 = LexicalIndex()
        self.chunk_bm25 = LexicalIndex()
        self._chunk_by_id: dict[str, Chunk] = {}
        self._vocabulary = _SortedCounts()  # words of whole summaries, counted by paper
        # Read only for a word the corpus lacks: a saved index reads these two when one first comes.
        self._typo_words = Deferred(_TypoWords())
        self._joined = Deferred(_SortedCounts())  # a title's words run together
        self._hyphenated: dict[str, Counter] = {}
        self._stems: dict[str, str] = {}  # word -> stem, as the stemmer gives it
        self.paper_stems = _PaperStems(self)
        self.document_frequency: Counter = Counter()
        self.source_counts: Counter = Counter()  # source file -> its papers: the sources, without a scan
        self.sources_by_word: dict[str, set[str]] = {}  # a word of a source's name -> those sources
        self.mentions = MentionIndex()
        self._lookup = Deferred(LookupIndex())  # only `/paper` reads it: a saved one is read on first use
        self.apply(papers, chunks, bulk=True)

    def __getstate__(self):  # saved without the word -> stem cache: a question stems its few words again
        return dict(self.__dict__, _stems={})

    # -- changes ------------------------------------------------------------------------------

    def apply(self, papers: Iterable[Paper], chunks: Iterable[Chunk], removed: Iterable[str] = (), *,
              bulk: bool = False) -> None:
        """Take in new and changed papers (with all their chunks) and drop removed ones."""
        papers = list(papers)
        by_paper: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_paper.setdefault(chunk.paper_id, []).append(chunk)
        gone = [pid for pid in dict.fromkeys([*removed, *(p.id for p in papers)]) if pid in self.papers]
        for paper_id in gone:
            self._remove(paper_id)
        paper_docs, chunk_docs = [], []
        vocabulary: list[str] = []
        last = catalog_order(next(reversed(self.papers.values()))) if self.papers else None
        papers.sort(key=catalog_order)
        for paper in papers:
            paper_chunks = sorted(by_paper.get(paper.id, []), key=lambda c: c.position)
            text = self.paper_text(paper)
            self.papers[paper.id] = paper
            self.chunks_of[paper.id] = paper_chunks
            heading = self.paper_heading(paper)
            paper_docs.append((paper.id, self.tokens(text)))
            for chunk in paper_chunks:
                self._chunk_by_id[chunk.id] = chunk
                chunk_docs.append((chunk.id, self.tokens(heading + " " + chunk.text)))
            vocabulary.extend(frozenset(words(text)))
            self.document_frequency.update(self.paper_stems.of(paper))
            if not self.source_counts[paper.source]:
                for word in name_words(paper.source):
                    self.sources_by_word.setdefault(word, set()).add(paper.source)
            self.source_counts[paper.source] += 1
            self.mentions.add(paper)
            self._lookup.change("add", paper)
        self.paper_bm25.add(paper_docs)
        self.chunk_bm25.add(chunk_docs)
        new_words = [w for w in vocabulary if not self._vocabulary.counts[w]]
        if bulk:
            self._vocabulary.bulk(vocabulary)
        else:
            self._vocabulary.add(vocabulary)
        self._typo_words.change("add", [w for w in vocabulary if w.isalpha() and len(w) >= 4])
        self._joined.change("bulk" if bulk else "add", [j for p in papers for j in _joined_titles(p)])
        for word in new_words:
            if "-" in word:
                self._hyphenated.setdefault(word.replace("-", ""), Counter())[word] += 1
        if papers and last is not None and catalog_order(papers[0]) < last:
            # A paper sorts before the last one (e.g. a changed older paper): put it in its place.
            self.papers = dict(sorted(self.papers.items(), key=lambda item: catalog_order(item[1])))
            self.mentions.renumber(self.papers)

    def _remove(self, paper_id: str) -> None:
        paper = self.papers.pop(paper_id)
        self.source_counts[paper.source] -= 1
        if self.source_counts[paper.source] <= 0:
            del self.source_counts[paper.source]
            for word in name_words(paper.source):
                self.sources_by_word[word].discard(paper.source)
                if not self.sources_by_word[word]:
                    del self.sources_by_word[word]
        heading = self.paper_heading(paper)
        for chunk in self.chunks_of.pop(paper_id, []):
            self._chunk_by_id.pop(chunk.id, None)
            self.chunk_bm25.remove([(chunk.id, self.tokens(heading + " " + chunk.text))])
        text = self.paper_text(paper)
        self.paper_bm25.remove([(paper_id, self.tokens(text))])
        found = frozenset(words(text))
        self._vocabulary.remove(found)
        self._typo_words.change("remove", [w for w in found if w.isalpha() and len(w) >= 4])
        for word in found:
            if "-" in word and not self._vocabulary.counts.get(word):
                key = word.replace("-", "")
                self._hyphenated[key].pop(word, None)
                if not self._hyphenated[key]:
                    del self._hyphenated[key]
        self._joined.change("remove", list(_joined_titles(paper)))
        stems = self.paper_stems.of(paper)
        self.paper_stems.forget(paper_id)
        self.document_frequency.subtract(stems)
        for stem in stems:
            if self.document_frequency[stem] <= 0:
                del self.document_frequency[stem]
        self.mentions.remove(paper)
        self._lookup.change("remove", paper)

    # -- reading ------------------------------------------------------------------------------

    @property
    def lookup(self) -> LookupIndex:
        return self._lookup.get()

    @property
    def paper_ids(self):
        return self.papers.keys()

    @property
    def vocabulary(self):
        return self._vocabulary.counts.keys()

    @property
    def stemmer(self):
        return _STEMMER

    def chunk(self, chunk_id: str) -> Chunk:
        return self._chunk_by_id[chunk_id]

    @staticmethod
    def paper_heading(paper: Paper) -> str:
        return " ".join([paper.title, " ".join(paper.authors), paper.presenter or ""])

    def paper_text(self, paper: Paper) -> str:
        return f"{self.paper_heading(paper)} {paper.text}"

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens, exactly as bm25s.tokenize makes them: lower case, no stopwords, stemmed."""
        return self._stem_all([t for t in _TOKEN.findall(text.lower()) if t not in _BM25_STOPWORDS])

    def _stem_all(self, found: list[str]) -> list[str]:
        unknown = [w for w in dict.fromkeys(found) if w not in self._stems]
        if unknown:
            self._stems.update(zip(unknown, _STEMMER.stemWords(unknown)))
        return [self._stems[w] for w in found]

    def stems(self, text: str, *, joined: bool = False) -> list[str]:
        return self._stem_all(self.content_words(text, joined=joined))

    @staticmethod
    def content_words(text: str, *, joined: bool = False) -> list[str]:
        """Words that carry content, hyphenated ones as their parts ("zero-bubble" -> zero, bubble).

        With ``joined`` (for the corpus side), also run together, so "cifar10" in a question
        finds "CIFAR-10" in a summary.
        """
        out = []
        for word in words(text):
            parts = [p for p in word.split("-") if len(p) > 1 and p not in _STOPWORD_SET]
            if "-" in word:
                out.extend(parts)
                if joined:
                    out.append(word.replace("-", ""))
            elif parts:
                out.append(word)
        return out

    def idf(self, stem: str) -> float:
        """Rarer stems weigh more; a stem no paper has weighs most."""
        n = len(self.papers)
        return math.log((n + 1) / (self.document_frequency.get(stem, 0) + 0.5))

    def correct_spelling(self, text: str) -> str:
        """Words the corpus doesn't have, read as the corpus word they shorten or misspell.

        "batchnorm" -> "batch normalization" (a title's two words, run together and cut short),
        "normaliz" -> "normalization" (a prefix), "refomer" -> "reformer" (a typo).
        """
        vocabulary = self._vocabulary.counts

        def fix(match: re.Match) -> str:
            word = match.group(0)
            if word in vocabulary or word in _STOPWORD_SET:
                return word
            if word in self._hyphenated:  # "cifar10" -> "cifar-10"
                return min(self._hyphenated[word])
            if len(word) < 5:
                return word
            longer = _first_with_prefix(self._vocabulary.sorted, word)
            if longer and longer.startswith(word) and len(word) >= 0.75 * len(longer):
                return longer
            joined = _first_with_prefix(self._joined.get().sorted, (word, ""))
            if joined and joined[0].startswith(word) and len(word) > joined[1].find(" ") + 1:
                return joined[1]
            # The few words the typo may be, in the same (sorted) order: the same pick as over them all.
            typo_words = self._typo_words.get()
            near, counts = typo_words.near, typo_words.counts
            choices = sorted(w for w in map(near.words.__getitem__, near.candidates(word, SPELLING_MATCH, with_ratio=False))
                             if counts.get(w, 0) > 0)
            found = process.extractOne(word, choices, scorer=DamerauLevenshtein.normalized_similarity,
                                       score_cutoff=SPELLING_MATCH)
            return found[0] if found else word
        return _WORD.sub(fix, text.lower())
