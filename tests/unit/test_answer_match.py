"""The answer matcher: question -> answering sentence across languages; sentence vectors kept on disk."""

import numpy as np
import pytest

from paperbot.retrieval.sentences import answer_match
from paperbot.retrieval.sentences.answer_match import AnswerMatcher
from paperbot.retrieval.sentences.kept_vectors import KeptVectors
from paperbot.retrieval.sentences.paper_sentences import SentenceIndex
from paperbot.retrieval.types import Paper

SENTENCES = (  # from the lottery ticket summary
    "Pruned neural network architectures created by removing unnecessary weights from trained dense neural networks "
    "can attain various benefits without sacrificing accuracy.",
    "However, training the pruned network from scratch (as opposed to training the full network and pruning) has "
    "historically achieved poor accuracy.",
    "Larger network architectures have typically been considered superior, but this paper demonstrates that such a "
    "belief is not necessarily true.",
)


@pytest.mark.parametrize(("question", "answering"), [
    ("what happens if you train the pruned net from scratch?", 1),
    ("was passiert, wenn man das beschnittene Netz von Grund auf trainiert?", 1),  # German question, English summary
    ("are bigger networks always better?", 2),
    ("sind größere Netze immer besser?", 2),
])
def test_the_sentence_that_answers_ranks_first_in_either_language(tmp_path, question, answering):
    matcher = AnswerMatcher(tmp_path)
    scores = matcher.passages(SENTENCES) @ matcher.query(question)
    assert int(np.argmax(scores)) == answering


def test_sentence_vectors_are_computed_once_and_kept_on_disk(tmp_path):
    first = AnswerMatcher(tmp_path).passages(SENTENCES)
    later = AnswerMatcher(tmp_path)  # another process, same cache dir
    kept = later.passages(SENTENCES)
    assert "_loaded" not in later.__dict__  # read back, the model never loaded
    assert kept.shape == first.shape and np.allclose(kept, first, atol=2e-3)
    assert len(list((tmp_path / "sentence-vectors" / answer_match.MODEL_NAME).rglob("*.npy"))) == 1


def test_a_damaged_cache_file_is_recomputed_not_fatal(tmp_path):
    expected = AnswerMatcher(tmp_path).passages(SENTENCES)
    (cached,) = (tmp_path / "sentence-vectors").rglob("*.npy")
    cached.write_bytes(b"not an array")
    assert np.allclose(AnswerMatcher(tmp_path).passages(SENTENCES), expected, atol=2e-3)


def test_the_corpus_embedders_sentence_vectors_are_kept_as_well(tmp_path):
    class CountingEmbedder:
        def __init__(self):
            self.calls = 0

        def get_text_embedding(self, text):
            self.calls += 1
            return [1.0, float(len(text))]

    paper = Paper(id="p", title="Pruning", source="notes.md", text=" ".join(SENTENCES))
    first = CountingEmbedder()
    vectors = SentenceIndex(first, None, KeptVectors("counting", tmp_path, shipped_dir=None)).of(paper).vectors
    later = CountingEmbedder()  # another process, same cache dir
    kept = SentenceIndex(later, None, KeptVectors("counting", tmp_path, shipped_dir=None)).of(paper).vectors
    assert first.calls == len(SENTENCES) and later.calls == 0
    assert np.array_equal(kept, vectors)  # kept as computed: the same scores in every process
