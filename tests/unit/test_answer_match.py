"""The answer matcher: question -> answering sentence across languages, its vectors kept on disk."""

import numpy as np
import pytest

from paperbot.retrieval.sentences import answer_match
from paperbot.retrieval.sentences.answer_match import AnswerMatcher

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
    assert len(list((tmp_path / "answer-vectors" / answer_match.MODEL_NAME).rglob("*.npy"))) == 1


def test_a_damaged_cache_file_is_recomputed_not_fatal(tmp_path):
    expected = AnswerMatcher(tmp_path).passages(SENTENCES)
    (cached,) = (tmp_path / "answer-vectors").rglob("*.npy")
    cached.write_bytes(b"not an array")
    assert np.allclose(AnswerMatcher(tmp_path).passages(SENTENCES), expected, atol=2e-3)
