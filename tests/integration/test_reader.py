"""The reader: sentence choice and "is it stated?" fitted on labelled data, read from the fitted
parameters, and what users get for each failure kind it fixes (phrasings no labelled set uses)."""

from dataclasses import replace

import numpy as np
from paperbot.retrieval.answering.pipeline import understand
from paperbot.retrieval.answering.citations import is_verbatim
from paperbot.retrieval.questions.decisions import DecisionModels
from paperbot.retrieval.training.labelled import Labelled
from paperbot.retrieval.answering.reader import READER_FEATURES, Read, Reading
from paperbot.retrieval.training.reader_fitting import answering


def _paper(library, title_start):
    return next(p for p in library.papers() if p.title.startswith(title_start))


def test_the_reader_ranks_by_its_fitted_parameters(shared_library):
    models = shared_library.decisions
    assert models.models["reader"].features == READER_FEATURES
    index, sentences = shared_library.searcher.index, shared_library.sentences
    paper = _paper(shared_library, "Binarized Neural Architecture Search")
    question = "by what margin is the binarized search quicker than PC-DARTS?"
    fitted = models.read(understand(shared_library.searcher, question), paper.id, index, sentences)
    assert "40% faster search" in fitted.best.text
    # The same question read with every leaf's vote turned around ranks that sentence last.
    reader = models.models["reader"]
    turned = replace(reader, prior=-reader.prior, trees=tuple(replace(t, value=-t.value) for t in reader.trees))
    flipped = DecisionModels(models.embedder, {**models.models, "reader": turned})
    backwards = flipped.read(understand(shared_library.searcher, question), paper.id, index, sentences)
    assert backwards.ranked[-1].text == fitted.best.text
    assert np.isclose(backwards.ranked[-1].probability, 1 - fitted.best.probability)


def test_a_sentence_that_needs_the_one_before_is_quoted_with_it():
    def read(text, p, before=None, needs=False, position=0):
        return Read(text, p, 0.5, 0.5, 0.5, before, needs, position)
    reading = Reading("x", (read("This makes it ten times faster.", 0.9, "They prune heads.", True, 3),
                            read("Unrelated remark here.", 0.1, None, False, 1)), ())
    assert reading.quote() == ["They prune heads. This makes it ten times faster."]
    second = Reading("x", (read("Best answer sentence here.", 0.9, position=5),
                           read("Also an answer here.", 0.6, position=2)), ())
    assert second.quote() == ["Best answer sentence here.", "Also an answer here."]  # the likeliest first


def test_answering_sentences_come_from_terms_or_labelled_sentences():
    item = Labelled(id="x", type="single", question="q", answer_terms=("R2D2",),
                    answer_sentences=("MuZero outperforms the model-free algorithms in visually complex games.",))
    assert answering(item, ["It beats R2D2 on Atari.", "MuZero outperforms the model-free algorithms in visually\ncomplex games.",
                            "Unrelated sentence about Go."]) == [True, True, False]


def test_a_figure_next_to_another_methods_figure_is_quoted_whole(shared_library):
    answer = shared_library.ask("how much quicker is the BNAS search compared with pc-darts")
    assert not answer.abstained
    assert "96.53% vs. 97.22% is achieved on the CIFAR-10 dataset" in answer.answer  # never cut at "vs."
    assert "40% faster search" in answer.answer
    paper = _paper(shared_library, "Binarized Neural Architecture Search")
    assert [c.paper_id for c in answer.citations] == [paper.id]
    assert "40% faster search" in answer.citations[0].snippet and is_verbatim(answer.citations[0].snippet, paper)


def test_a_question_naming_a_paper_is_about_that_paper(shared_library):
    answer = shared_library.ask("what batch size did they train fixmatch with")
    fixmatch = _paper(shared_library, "FixMatch")
    assert answer.paper_ids[0] == fixmatch.id
    assert all(c.paper_id == fixmatch.id for c in answer.citations)


def test_a_detail_the_summary_does_not_state_is_graded_with_the_closest_passage(shared_library):
    answer = shared_library.ask("how many GPUs were used to train fixmatch")
    fixmatch = _paper(shared_library, "FixMatch")
    assert answer.abstained
    assert answer.answer.startswith(f"Our summary of “{fixmatch.title}” doesn't state that. The closest it says: “")
    assert answer.answer.endswith("” [1]") and len(answer.citations) == 1
    closest = answer.citations[0]
    assert closest.paper_id == fixmatch.id and is_verbatim(closest.snippet, fixmatch)
    assert closest.snippet in answer.answer


def test_every_part_of_a_multi_part_question_is_answered_and_cited_in_order(shared_library):
    answer = shared_library.ask("what does reformer use in place of dot-product attention? "
                                 "and who presented the lottery ticket paper?")
    first, second = answer.answer.split("\n")
    assert "locality sensitive hashing" in first and first.endswith("[1]")
    assert "Hongbo Tian" in second and "[2]" in second
    reformer, lottery = _paper(shared_library, "Reformer"), _paper(shared_library, "The Lottery Ticket")
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert answer.citations[0].paper_id == reformer.id and answer.citations[1].paper_id == lottery.id
    assert answer.citations[1].snippet == "Presenter:Hongbo Tian"
    assert not answer.abstained


def test_no_heading_caption_or_url_is_ever_quoted(shared_library):
    for question in ("what does batch norm buy you in training", "what is BN exactly",
                     "across benchmarks where does the mobile NAS land on the latency trade-off"):
        answer = shared_library.ask(question)
        for citation in answer.citations:
            for piece in citation.snippet.split(" … "):
                assert not piece.startswith(("#", "http", "![")), (question, piece)


def test_fitted_trees_give_scikit_learns_probabilities_from_plain_arrays():
    from paperbot.retrieval.questions import tree_model
    from paperbot.retrieval.questions.tree_model import TreeModel, fit_tree_model
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 4))
    y = np.where(x[:, 0] * x[:, 1] > 0, "states", "apart")  # an interaction no linear model can fit
    fitted = fit_tree_model(x, y, features=("a", "b", "c", "d"))
    reference = GradientBoostingClassifier(max_depth=tree_model.DEPTH, n_estimators=tree_model.TREES,
                                           learning_rate=tree_model.LEARNING_RATE, subsample=tree_model.SUBSAMPLE,
                                           random_state=0).fit(x, y)
    new = rng.normal(size=(50, 4))
    assert np.allclose(fitted.positive_probabilities(new), reference.predict_proba(new)[:, 1])
    saved = TreeModel.from_dict(fitted.to_dict())
    assert np.allclose(saved.positive_probabilities(new), fitted.positive_probabilities(new), atol=1e-5)
    assert saved.classes == ("apart", "states") and saved.features == ("a", "b", "c", "d")


def test_tldr_of_a_named_paper_quotes_its_main_idea_not_chit_chat_or_people(shared_library):
    fixmatch = _paper(shared_library, "FixMatch")
    answer = shared_library.ask("tldr fixmatch pls")
    assert not answer.abstained and "I answer questions" not in answer.answer
    assert answer.citations[0].paper_id == fixmatch.id
    assert "consistency regularization and pseudo-labeling" in answer.answer  # the main idea ...
    assert "Felix Lau" not in answer.answer and "Kihyuk Sohn" not in answer.answer  # ... not who presented it


def test_parts_joined_by_a_comma_and_a_question_word_are_each_answered(shared_library):
    from paperbot.retrieval.questions.question_parts import split_parts

    question = "who wrote the lottery ticket paper, and what do pruned networks keep?"
    assert split_parts(question) == ["who wrote the lottery ticket paper", "and what do pruned networks keep?"]
    assert split_parts("what is it and how does it work") == ["what is it and how does it work"]
    assert split_parts("who wrote and who presented the reformer paper") == ["who wrote and who presented the reformer paper"]
    assert split_parts("soft sorting: what regularizer do they use and how fast is it compared to sorting networks") == [
        "soft sorting: what regularizer do they use", "and how fast is it compared to sorting networks"]
    answer = shared_library.ask(question)
    first, second = answer.answer.split("\n")
    assert "Jonathan Frankle" in first and "Michael Carbin" in first
    lottery = _paper(shared_library, "The Lottery Ticket")
    assert all(c.paper_id == lottery.id for c in answer.citations)
    assert "[" in second and not answer.abstained


def test_quoted_sentences_that_touch_are_one_piece_without_repeats():
    def read(text, p, before, needs, position):
        return Read(text, p, 0.5, 0.5, 0.5, before, needs, position)
    reading = Reading("x", (read("However, that failed.", 0.9, "Pruning helps.", True, 1),
                            read("This paper fixes it.", 0.8, "However, that failed.", True, 2)), ())
    assert reading.quote() == ["Pruning helps. However, that failed. This paper fixes it."]


def test_asking_whether_we_have_a_persons_paper_answers_about_their_paper_or_says_none(shared_library):
    muzero = _paper(shared_library, "Mastering Atari")
    answer = shared_library.ask("any julian schrittwieser papers on our list?")
    assert answer.answer.startswith("Yes: Julian Schrittwieser is an author of one of our papers: “" + muzero.title)
    assert [c.paper_id for c in answer.citations] == [muzero.id]
    nobody = shared_library.ask("got anything written by fei-fei li?")  # a plain no, naming no other paper
    assert nobody.answer == "No: none of our papers is by Fei-Fei Li, as author or presenter, as far as our notes record."
    assert not nobody.abstained and not nobody.citations and not nobody.paper_ids


def test_a_list_by_source_names_every_paper_of_that_source_and_no_other(shared_library):
    blog = [p for p in shared_library.papers() if p.source == "scale-ai-reading-group.txt"]
    answer = shared_library.ask("can you list all the papers we got from the scale ai reading group blog?")
    assert answer.answer.startswith(f"{len(blog)} of our papers come from scale-ai-reading-group.txt: “")
    assert sorted(answer.paper_ids) == sorted(p.id for p in blog)
    assert all(f"“{p.title}”" in answer.answer for p in blog) and not answer.citations and not answer.abstained


def test_a_nickname_only_one_summary_uses_is_that_paper_even_in_a_tldr(shared_library):
    muzero = _paper(shared_library, "Mastering Atari, Go, Chess and Shogi")
    answer = shared_library.ask("tl;dr muzero")
    assert not answer.abstained, answer.answer  # was: "That's not in our papers"
    assert [c.paper_id for c in answer.citations][:1] == [muzero.id]
    assert "successor to AlphaZero" in answer.answer  # what the paper is, not a detail of it


def test_what_is_x_asked_in_german_gets_the_gist_not_the_people(shared_library):
    pointrend = _paper(shared_library, "PointRend")
    answer = shared_library.ask("was ist pointrend eigentlich?")
    assert not answer.abstained and answer.citations[0].paper_id == pointrend.id
    assert "Felix Lau" not in answer.answer and "Kirillov" not in answer.answer  # was: who presented and wrote it
    assert "point-based segmentation" in answer.answer
