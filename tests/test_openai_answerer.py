"""The OpenAI answerer through the real `openai` client against a fake OpenAI-compatible server."""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback

import pytest

from paperbot import prompts
from paperbot.config import SettingsError, load_settings
from paperbot.retrieval.answerers.base import AnswererUnavailable, Evidence
from paperbot.retrieval.answerers.openai_chat import OpenAIAnswerer, draft_from_reply
from paperbot.retrieval.answering import UNCITED_NOTE
from paperbot.retrieval.library import Library
from paperbot.retrieval.types import Answer, Paper, Turn
from tests.conftest import SHIPPED_CORPUS
from tests.fake_openai import FakeOpenAI, Reply

API_KEY = "sk-test-9f8e7d6c5b4a-do-not-leak"

RESNET = Paper(
    id="resnet-1", title="Deep Residual Learning for Image Recognition", source="scale-ai-reading-group.txt",
    text="ResNets add identity shortcut connections so that very deep networks train well.",
    authors=("Kaiming He", "Xiangyu Zhang"), presenter="Hongbo Tian",
)
DROPOUT = Paper(
    id="dropout-2", title="Dropout: A Simple Way to Prevent Overfitting", source="shortscience-summaries.txt",
    text="Dropout randomly drops units during training to prevent co-adaptation.",
)
EVIDENCE = [
    Evidence(n=1, paper=RESNET, text=RESNET.text, score=0.9),
    Evidence(n=2, paper=DROPOUT, text=DROPOUT.text, score=0.5),
]


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as server:
        yield server


def make_answerer(server: FakeOpenAI, *, api_key: str | None = API_KEY, **llm) -> OpenAIAnswerer:
    llm = {"answerer": "openai", "base_url": server.base_url, "model": "fake-chat", "timeout_s": 2.0,
           "max_retries": 1, "temperature": 0.2, "max_tokens": 321, **llm}
    return OpenAIAnswerer(load_settings(openai_api_key=api_key, llm=llm))


def run_stream(answerer: OpenAIAnswerer, question: str, history=()):
    """The chunks the stream yields and the Draft it returns."""
    chunks: list[str] = []

    def consume():
        draft = yield from answerer.stream(question, EVIDENCE, history)
        return draft

    gen = consume()
    try:
        while True:
            chunks.append(next(gen))
    except StopIteration as stop:
        return chunks, stop.value


def answer_or_stream(answerer: OpenAIAnswerer, mode: str, question: str = "What do ResNets add?"):
    if mode == "answer":
        return answerer.answer(question, EVIDENCE, [])
    return run_stream(answerer, question)


# -- answers ---------------------------------------------------------------------------------


def test_answer_keeps_markers_and_sends_numbered_evidence(fake_openai):
    fake_openai.script(Reply.answer("ResNets add identity shortcut connections [1]."))
    draft = make_answerer(fake_openai).answer("What do ResNets add?", EVIDENCE, [])

    assert draft.text == "ResNets add identity shortcut connections [1]."
    assert draft.abstained is False
    (request,) = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert (request.body["model"], request.body["temperature"], request.body["max_tokens"]) == ("fake-chat", 0.2, 321)
    system, user = request.messages
    assert system["role"] == "system" and prompts.CANNOT_ANSWER in system["content"]
    assert user["role"] == "user"
    prompt = user["content"]
    assert f'[1] "{RESNET.title}" ({RESNET.source})' in prompt
    assert f'[2] "{DROPOUT.title}" ({DROPOUT.source})' in prompt
    assert RESNET.text in prompt and DROPOUT.text in prompt
    assert "Kaiming He, Xiangyu Zhang" in prompt and "Hongbo Tian" in prompt
    assert prompt.index("[1]") < prompt.index("[2]") < prompt.index("Question: What do ResNets add?")


@pytest.mark.parametrize("reply, text", [
    (prompts.CANNOT_ANSWER, ""),
    (f"{prompts.CANNOT_ANSWER}. The passages do not give the error.", "The passages do not give the error."),
])
def test_sentinel_means_abstained(fake_openai, reply, text):
    fake_openai.script(Reply.answer(reply))
    draft = make_answerer(fake_openai).answer("What top-5 error did ResNet reach?", EVIDENCE, [])
    assert draft.abstained is True
    assert draft.text == text


def test_history_goes_in_as_prior_messages(fake_openai):
    fake_openai.script(Reply.answer("Kaiming He and Xiangyu Zhang wrote it [1]."))
    history = [Turn("What do ResNets add?", "Identity shortcut connections [1].", ("resnet-1",))]
    make_answerer(fake_openai).answer("Who wrote it?", EVIDENCE, history)

    roles = [m["role"] for m in fake_openai.requests[0].messages]
    assert roles == ["system", "user", "assistant", "user"]
    _, earlier_q, earlier_a, current = fake_openai.requests[0].messages
    assert earlier_q["content"] == "What do ResNets add?"
    # Old markers refer to old evidence numbers: they are dropped so the model can't confuse them.
    assert earlier_a["content"] == "Identity shortcut connections."
    assert current["content"].endswith("Question: Who wrote it?")


def test_base_url_alone_needs_no_key(fake_openai):
    fake_openai.script(Reply.answer("Dropout drops units [2]."))
    draft = make_answerer(fake_openai, api_key=None).answer("What is dropout?", EVIDENCE, [])
    assert draft.text == "Dropout drops units [2]."
    assert fake_openai.requests[0].headers["authorization"] == "Bearer not-needed"


def test_neither_key_nor_base_url_is_a_settings_error():
    settings = load_settings(llm={"answerer": "openai"})
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        OpenAIAnswerer(settings)


def test_empty_reply_is_unavailable(fake_openai):
    fake_openai.script(Reply.answer("   "))
    with pytest.raises(AnswererUnavailable, match="empty answer"):
        make_answerer(fake_openai).answer("What is dropout?", EVIDENCE, [])


# -- streaming -------------------------------------------------------------------------------


def test_stream_yields_sse_chunks_in_order(fake_openai):
    pieces = ("ResNets add ", "identity shortcut ", "connections [1", "].")
    fake_openai.script(Reply.answer("".join(pieces), chunks=pieces))
    chunks, draft = run_stream(make_answerer(fake_openai), "What do ResNets add?")

    assert fake_openai.requests[0].body["stream"] is True
    assert len(chunks) > 1  # delivered as it arrived, not in one piece at the end
    assert "".join(chunks) == "ResNets add identity shortcut connections [1]."
    assert draft == draft_from_reply("".join(chunks))
    assert draft.abstained is False


def test_stream_delivers_the_sentinel_whole_and_abstains(fake_openai):
    fake_openai.script(Reply.answer(prompts.CANNOT_ANSWER, chunks=("CANNOT", "_ANS", "WER")))
    chunks, draft = run_stream(make_answerer(fake_openai), "What top-5 error did ResNet reach?")
    assert chunks == [prompts.CANNOT_ANSWER]
    assert draft.abstained is True


def test_stream_text_that_starts_like_the_sentinel_is_released(fake_openai):
    fake_openai.script(Reply.answer("CAN be trained deeper [1].", chunks=("CAN", " be", " trained deeper [1].")))
    chunks, draft = run_stream(make_answerer(fake_openai), "Can ResNets be deep?")
    assert "".join(chunks) == "CAN be trained deeper [1]."
    assert chunks[0] == "CAN be"  # held back only while it could still be the sentinel
    assert draft.abstained is False


@pytest.mark.parametrize("reply, note", [
    (Reply(content="ResNets add identity", stream_error="The server had an error while processing"), "failed"),
    (Reply(content="ResNets add identity", stream_cut=True), "cut off"),
    (Reply(content="ResNets add identity", stall_s=5), "timed out"),
])
def test_stream_failing_midway_is_unavailable(fake_openai, reply, note):
    fake_openai.script(reply)
    received: list[str] = []
    answerer = make_answerer(fake_openai, timeout_s=0.3, max_retries=0)
    with pytest.raises(AnswererUnavailable, match=note):
        for chunk in answerer.stream("What do ResNets add?", EVIDENCE, []):
            received.append(chunk)
    assert "".join(received) == "ResNets add identity"  # the failure came after real text


# -- failures --------------------------------------------------------------------------------


def assert_secret_safe(err: AnswererUnavailable, caplog) -> None:
    assert API_KEY not in err.user_note
    assert "\n" not in err.user_note and err.user_note.endswith("here is the extractive answer.")
    assert API_KEY not in caplog.text
    assert API_KEY not in "".join(traceback.format_exception(err))


@pytest.mark.parametrize("mode", ["answer", "stream"])
def test_429_is_retried_then_answered(fake_openai, mode):
    fake_openai.script(Reply.failure(429, "Rate limit reached", retry_after_s=0.05),
                       Reply.answer("Dropout drops units [2]."))
    result = answer_or_stream(make_answerer(fake_openai, max_retries=2), mode)

    draft = result if mode == "answer" else result[1]
    assert draft.text == "Dropout drops units [2]."
    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[1].headers.get("x-stainless-retry-count") == "1"


@pytest.mark.parametrize("mode", ["answer", "stream"])
@pytest.mark.parametrize("replies, note", [
    ([Reply.failure(429, "Rate limit reached", retry_after_s=0.05)] * 2, "rate-limited"),
    ([Reply.failure(500, "boom", retry_after_s=0.05)] * 2, "server had an error"),
    ([Reply.failure(503, "overloaded", retry_after_s=0.05)] * 2, "server had an error"),
    ([Reply.bad_key()], "rejected the API key"),
    ([Reply.failure(404, "The model `fake-chat` does not exist")], "not found"),
])
def test_failures_become_a_safe_one_line_note(fake_openai, caplog, mode, replies, note):
    caplog.set_level(logging.DEBUG)
    fake_openai.script(*replies)
    with pytest.raises(AnswererUnavailable, match=note) as raised:
        answer_or_stream(make_answerer(fake_openai, max_retries=1), mode)

    assert fake_openai.unused_replies == 0  # 429/5xx were retried once; 401/404 were not retried
    assert len(fake_openai.requests) == len(replies)
    assert_secret_safe(raised.value, caplog)


def test_bad_key_echoed_by_the_server_never_reaches_logs_or_tracebacks(fake_openai, caplog):
    caplog.set_level(logging.DEBUG)
    fake_openai.script(Reply.bad_key())
    with pytest.raises(AnswererUnavailable) as raised:
        make_answerer(fake_openai).answer("What is dropout?", EVIDENCE, [])
    assert "LLM call" in caplog.text and "AuthenticationError" in caplog.text  # the cause is logged …
    assert "***" in caplog.text  # … with the echoed key redacted
    assert_secret_safe(raised.value, caplog)


@pytest.mark.parametrize("mode", ["answer", "stream"])
def test_timeout_is_unavailable_quickly(fake_openai, caplog, mode):
    fake_openai.script(Reply.answer("too late [1]", delay_s=5))
    started = time.monotonic()
    with pytest.raises(AnswererUnavailable, match="timed out") as raised:
        answer_or_stream(make_answerer(fake_openai, timeout_s=0.3, max_retries=0), mode)
    assert time.monotonic() - started < 2
    assert_secret_safe(raised.value, caplog)


def test_unreachable_server_is_unavailable(caplog):
    with FakeOpenAI() as server:
        answerer = make_answerer(server, max_retries=0)
    # The server is shut down now: nothing listens on its port any more.
    with pytest.raises(AnswererUnavailable, match="could not be reached") as raised:
        answerer.answer("What is dropout?", EVIDENCE, [])
    assert_secret_safe(raised.value, caplog)


# -- the optional in-process llama.cpp answerer ----------------------------------------------


def test_llama_cpp_without_gguf_path_says_which_setting():
    from paperbot.retrieval.answerers.llama_cpp import LlamaCppAnswerer

    with pytest.raises(SettingsError, match="PAPERBOT_LLM__GGUF_PATH"):
        LlamaCppAnswerer(load_settings(llm={"answerer": "llama_cpp"}))
    with pytest.raises(SettingsError, match="no GGUF file"):
        LlamaCppAnswerer(load_settings(llm={"answerer": "llama_cpp", "gguf_path": "missing.gguf"}))


def test_llama_cpp_without_the_package_says_how_to_install(monkeypatch, tmp_path):
    from paperbot.retrieval.answerers.llama_cpp import LlamaCppAnswerer

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed
    with pytest.raises(SettingsError, match=r"pip install 'paperbot\[llama-cpp\]'"):
        LlamaCppAnswerer(load_settings(llm={"answerer": "llama_cpp", "gguf_path": gguf}))


# -- end to end: Library.ask with the openai answerer over the shipped corpus -----------------

REFORMER_QUESTION = "How much text can Reformer process in a single training example?"
_PASSAGE_HEAD = re.compile(r'^\[(\d+)\] "(.*)" \(', re.M)
_ANSWER_MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture
def openai_library(shipped_data_dir, fake_openai):
    def build(**llm) -> Library:
        llm = {"answerer": "openai", "base_url": fake_openai.base_url, "model": "fake-chat",
               "timeout_s": 2.0, "max_retries": 0, **llm}
        settings = load_settings(data_dir=shipped_data_dir, corpus_dir=SHIPPED_CORPUS, openai_api_key=API_KEY, llm=llm)
        return Library(settings)

    return build


def passage_titles(server: FakeOpenAI) -> dict[int, str]:
    """Evidence number -> paper title, as the last request's prompt showed them to the model."""
    return {int(n): title for n, title in _PASSAGE_HEAD.findall(server.requests[-1].messages[-1]["content"])}


def assert_verified(answer: Answer, library: Library) -> None:
    assert answer.citations, "an answer must cite"
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {int(n) for n in _ANSWER_MARKER.findall(answer.answer)} <= {c.n for c in answer.citations}
    for citation in answer.citations:
        paper = library.paper(citation.paper_id)
        assert paper is not None and paper.title == citation.title
        assert " ".join(citation.snippet.split()) in " ".join(paper.source_text.split())


def test_ask_uses_the_model_answer_with_verified_citations(openai_library, fake_openai):
    fake_openai.script(Reply.answer("Reformer can process a whole novel [1]. It relies on hashing [2]."))
    library = openai_library()
    answer = library.ask(REFORMER_QUESTION)

    titles = passage_titles(fake_openai)
    assert len(titles) >= 2 and REFORMER_QUESTION in fake_openai.requests[0].messages[-1]["content"]
    assert (answer.answerer, answer.abstained, answer.note) == ("openai", False, None)
    assert answer.answer.startswith("Reformer can process a whole novel [")
    first, second = (int(n) for n in _ANSWER_MARKER.findall(answer.answer))
    assert answer.citations[first - 1].title == titles[1]
    assert answer.citations[second - 1].title == titles[2]
    assert any("Reformer" in c.title for c in answer.citations)
    assert_verified(answer, library)


def test_ask_drops_a_marker_that_points_at_no_passage(openai_library, fake_openai):
    fake_openai.script(Reply.answer("Reformer can process a whole novel [1]. It is fast [9]."))
    library = openai_library()
    answer = library.ask(REFORMER_QUESTION)

    assert 9 not in passage_titles(fake_openai)  # [9] really pointed at nothing
    assert "[9]" not in answer.answer and "It is fast." in answer.answer
    assert len(answer.citations) == 1 and answer.citations[0].title == passage_titles(fake_openai)[1]
    assert_verified(answer, library)


def test_ask_replaces_a_model_answer_citing_nothing(openai_library, fake_openai):
    fake_openai.script(Reply.answer("Reformer handles really long texts."))
    library = openai_library()
    answer = library.ask(REFORMER_QUESTION)

    assert "Reformer handles really long texts" not in answer.answer
    assert answer.note == UNCITED_NOTE
    assert_verified(answer, library)


def test_ask_abstains_when_the_model_says_it_cannot_answer(openai_library, fake_openai):
    fake_openai.script(Reply.answer(prompts.CANNOT_ANSWER))
    answer = openai_library().ask(REFORMER_QUESTION)
    assert answer.abstained is True
    assert "not in our papers" in answer.answer and prompts.CANNOT_ANSWER not in answer.answer
    assert answer.citations == []


@pytest.mark.parametrize("reply, llm, note", [
    (Reply.failure(500, "boom"), {}, "server had an error"),
    (Reply.answer("too late [1]", delay_s=5), {"timeout_s": 0.3}, "timed out"),
    (Reply.bad_key(), {}, "rejected the API key"),
])
def test_ask_falls_back_to_the_extractive_answer_with_a_note(openai_library, fake_openai, caplog, reply, llm, note):
    caplog.set_level(logging.DEBUG)
    fake_openai.script(reply)
    library = openai_library(**llm)
    answer = library.ask(REFORMER_QUESTION)

    assert note in answer.note and API_KEY not in answer.note and API_KEY not in caplog.text
    assert answer.abstained is False and "too late" not in answer.answer
    assert_verified(answer, library)


def test_ask_stream_yields_model_text_then_the_verified_answer(openai_library, fake_openai):
    pieces = ("Reformer can ", "process a ", "whole novel [1].")
    fake_openai.script(Reply.answer("".join(pieces), chunks=pieces))
    library = openai_library()
    *deltas, answer = list(library.ask_stream(REFORMER_QUESTION))

    assert "".join(deltas) == "Reformer can process a whole novel [1]."
    assert isinstance(answer, Answer) and answer.answerer == "openai"
    assert answer.answer == "Reformer can process a whole novel [1]."
    assert_verified(answer, library)


def test_ask_stream_abstains_when_the_model_says_it_cannot_answer(openai_library, fake_openai):
    fake_openai.script(Reply.answer(prompts.CANNOT_ANSWER, chunks=("CANNOT_", "ANSWER")))
    *_, answer = list(openai_library().ask_stream(REFORMER_QUESTION))
    assert isinstance(answer, Answer) and answer.abstained is True
    assert "not in our papers" in answer.answer and answer.citations == []
