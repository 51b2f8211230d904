"""paperbot's settings: one object, read from the environment (prefix ``PAPERBOT_``) and ``.env``.

Nested sections use ``__`` in variable names, e.g. ``PAPERBOT_LLM__MODEL=gpt-4o-mini``.
Slack's and OpenAI's usual variable names (``SLACK_BOT_TOKEN``, ``OPENAI_API_KEY`` …) are
accepted as they are. Build it once at the entry point (:func:`load_settings`) and pass it down.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
import re
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from .errors import PaperbotError

# Package data, so an installed wheel finds it from any directory.
SHIPPED_CORPUS = Path(str(resources.files("paperbot.data") / "corpus"))
# OpenAI reasoning models by name: o1, o3-mini, o4-mini, gpt-5, gpt-5-mini …
_REASONING_MODEL = re.compile(r"^(o\d+|gpt-5)($|[-.:])", re.I)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(_Section):
    provider: Literal["local", "openai"] = Field(
        "local", description="Embedder: 'local' (all-MiniLM-L6-v2 int8 ONNX, offline) or 'openai'."
    )
    openai_model: str = Field("text-embedding-3-small", description="OpenAI embedding model.")
    batch_size: int = Field(32, ge=1, le=2048, description="Texts embedded per call.")


class ChromaSettings(_Section):
    host: str | None = Field(
        None, description="Chroma server host; unset means an embedded Chroma under the data dir."
    )
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    collection: str = Field(
        "paperbot", min_length=3, max_length=60, description="Prefix of the Chroma collections."
    )


class RetrievalSettings(_Section):
    chunk_size: int = Field(200, ge=32, le=2048, description="Chunk size in tokens.")
    chunk_overlap: int = Field(30, ge=0, le=512, description="Tokens shared by adjacent chunks.")
    top_k: int = Field(6, ge=1, le=50, description="Citations considered per answer.")
    candidates: int = Field(30, ge=1, le=500, description="Chunks each retriever returns before fusion.")
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal-rank-fusion constant.")
    lexical_weight: float = Field(
        1.5, ge=0, le=10,
        description="Weight of whole-summary BM25 against embedding similarity when ranking papers "
        "(chosen on the labelled training split).",
    )
    dense_weight: float = Field(
        1.0, ge=0, le=10, description="Weight of the embedding similarity when ranking papers."
    )
    max_chunks_per_paper: int = Field(
        2, ge=1, le=20, description="At most this many chunks of one paper in the evidence."
    )


# The settings that set the input limits, named in messages about a file or summary that is too large.
FILE_SETTING = "PAPERBOT_INGEST__MAX_FILE_MB"
PAPER_SETTING = "PAPERBOT_INGEST__MAX_PAPER_CHARS"


class IngestSettings(_Section):
    max_file_mb: float = Field(
        5.0, gt=0, le=100_000,
        description="Files larger than this many megabytes are skipped ('skipped: too large'), before they are read.",
    )
    max_paper_chars: int = Field(
        200_000, ge=1_000, le=100_000_000,
        description="A summary longer than this many characters is skipped ('skipped: too large'): "
        "200,000 is ~250 chunks, ~15 s of embedding on 2 cores.",
    )


class ArxivSettings(_Section):
    api_url: str = Field(
        "https://export.arxiv.org/api/query",
        pattern=r"^https?://",
        description="arXiv API query URL; `?id_list=<id>` is added (point at a local server to test).",
    )
    request_spacing_s: float = Field(
        3.0, ge=0, le=60,
        description="Seconds between two requests to the arXiv API from one process (arXiv's terms ask for 3).",
    )
    timeout_s: float = Field(15.0, gt=0, le=120, description="Seconds to wait for the arXiv API's answer.")


# One answer's time with the language model, retries, connecting and reading included.
OPENAI_DEADLINE_S = 20.0
LOCAL_DEADLINE_S = 120.0  # a CPU model reads a few thousand prompt tokens slowly
OPENAI_RETRIES = 2
LOCAL_RETRIES = 0  # a local server still working on the first request gains nothing from a second


class LLMSettings(_Section):
    answerer: Literal["auto", "local", "openai", "llama_cpp"] = Field(
        "auto",
        description="'local' (offline, extractive), 'openai' (OpenAI or any OpenAI-compatible server), "
        "'llama_cpp' (in-process GGUF), or 'auto': openai when an API key or base URL is set, else local.",
    )
    model: str = Field("gpt-4o-mini", description="Chat model name (OpenAI or the server's model).")
    base_url: str | None = Field(
        None, description="OpenAI-compatible server URL, e.g. http://localhost:11434/v1 for Ollama."
    )
    deadline_s: float | None = Field(
        None, gt=0, le=600,
        description=f"Seconds one answer may spend on the language model (retries, connecting and reading "
        f"included); then the extractive answer is shown with a note. Unset: {OPENAI_DEADLINE_S:g} for OpenAI, "
        f"{LOCAL_DEADLINE_S:g} for a server at base_url or the llama_cpp answerer.",
    )
    timeout_s: float | None = Field(
        None, gt=0, le=600,
        description="Seconds one HTTP attempt may take before it is retried; unset: the whole deadline.",
    )
    max_retries: int | None = Field(
        None, ge=0, le=10,
        description=f"Retries (with backoff, within the deadline) on 429/5xx/timeouts. Unset: {OPENAI_RETRIES} "
        f"for OpenAI, {LOCAL_RETRIES} for a server at base_url.",
    )
    stream: bool = Field(
        True, description="Ask for a streamed reply (the deadline is checked between pieces); "
        "turn off for a server that cannot stream.",
    )
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (not sent to reasoning models).")
    max_tokens: int = Field(
        600, ge=16, le=32768,
        description="Longest reply the LLM may write (for reasoning models their hidden reasoning counts too).",
    )
    reasoning_model: bool | None = Field(
        None,
        description="Whether the model is an OpenAI reasoning model (o1, o3, o4-mini, gpt-5 …): it gets "
        "max_completion_tokens instead of max_tokens and no temperature. Unset: decided by the model name.",
    )
    context_length: int = Field(
        4096, ge=512, le=1_048_576,
        description="Tokens the model's context holds (the server's own setting: Ollama num_ctx, llama-server -c, "
        "vLLM --max-model-len); passages that would not fit are left out. The llama_cpp answerer's n_ctx.",
    )
    gguf_path: Path | None = Field(None, description="GGUF model file for the llama_cpp answerer.")
    threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads of the llama_cpp answerer; unset: every core."
    )
    chat_format: str | None = Field(
        None, description="Chat template of the llama_cpp answerer, e.g. chatml or llama-3; "
        "unset: the template the GGUF file carries.",
    )

    @property
    def hosted_openai(self) -> bool:
        """Whether the model is OpenAI's own API (not a server at base_url, not in-process)."""
        return self.base_url is None and self.answerer != "llama_cpp"

    @property
    def deadline(self) -> float:
        if self.deadline_s is not None:
            return self.deadline_s
        return OPENAI_DEADLINE_S if self.hosted_openai else LOCAL_DEADLINE_S

    @property
    def retries(self) -> int:
        if self.max_retries is not None:
            return self.max_retries
        return OPENAI_RETRIES if self.hosted_openai else LOCAL_RETRIES

    @property
    def reasoning(self) -> bool:
        """OpenAI's reasoning models take max_completion_tokens and refuse a temperature."""
        if self.reasoning_model is not None:
            return self.reasoning_model
        return bool(_REASONING_MODEL.match(self.model.rsplit("/", 1)[-1]))


class SlackSettings(_Section):
    allowed_channels: list[str] = Field(
        default_factory=list, description="Channel ids the bot answers in; empty means all."
    )
    add_paper_wait_s: float = Field(
        20.0, ge=0, le=600,
        description="Seconds `/paper add` waits for another writer of an embedded index (e.g. `paperbot ingest`) "
        "before telling the person to try again in a minute.",
    )
    thread_replies: Literal["asker", "anyone", "mentions"] = Field(
        "asker",
        description="Which messages in a channel thread the bot answered get a reply without a mention: "
        "'asker' (questions from whoever asked the bot there), 'anyone' (questions from anyone), "
        "'mentions' (none: only @mentions). Thanks, chatter and messages to someone else never do.",
    )


class DigestSettings(_Section):
    channel: str | None = Field(None, description="Channel id the weekly digest is posted to.")
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = Field(
        "mon", description="Day of the week the digest is posted."
    )
    time: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time, HH:MM.")
    timezone: str = Field("UTC", description="IANA timezone of weekday/time, e.g. Europe/Berlin.")
    skip_empty: bool = Field(
        False, description="Skip a week with no new papers instead of posting an archive pick."
    )


class HttpSettings(_Section):
    max_body_bytes: int = Field(
        1_000_000, ge=10_000, le=100_000_000,
        description="Largest request body HTTP mode accepts (bytes); larger ones get 413 unread.",
    )
    backlog: int = Field(
        1024, ge=16, le=65535,
        description="Connections the kernel queues while every thread is busy (capped by net.core.somaxconn).",
    )
    threads: int = Field(8, ge=1, le=256, description="Threads serving HTTP requests.")
    connection_limit: int = Field(
        200, ge=1, le=10000, description="Open connections served at once; more wait in the backlog."
    )
    idle_timeout_s: int = Field(120, ge=1, le=3600, description="Seconds before an idle connection is closed.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PAPERBOT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        populate_by_name=True,
    )

    data_dir: Path = Field(
        Path(platformdirs.user_data_dir("paperbot")),
        description="Holds the embedded index and the bot's state.",
    )
    corpus_dir: Path = Field(SHIPPED_CORPUS, description="Papers `paperbot ingest` reads by default.")
    port: int = Field(3000, ge=1, le=65535, description="HTTP port of `paperbot serve` in HTTP mode.")
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (point at a local server to test)."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the bot's state; unset means SQLite under the data dir."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    max_question_chars: int = Field(
        2000, ge=10, le=40000,
        description="The longest question answered, in Slack and by `paperbot ask`; longer ones get a polite limit message.",
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "PAPERBOT_SLACK_BOT_TOKEN"),
        description="Bot token (xoxb-…).",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "PAPERBOT_SLACK_SIGNING_SECRET"),
        description="Signing secret, for HTTP mode.",
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "PAPERBOT_SLACK_APP_TOKEN"),
        description="App-level token (xapp-…); set it to run in Socket Mode.",
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "PAPERBOT_OPENAI_API_KEY"),
        description="OpenAI (or compatible server) API key.",
    )

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def state_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'state.sqlite3'}"

    @property
    def answerer_name(self) -> str:
        """The answerer 'auto' resolves to."""
        if self.llm.answerer != "auto":
            return self.llm.answerer
        return "openai" if (self.openai_api_key or self.llm.base_url) else "local"


class SettingsError(PaperbotError, ValueError):
    """A setting has a bad value; the message names the setting."""


def load_settings(**overrides) -> Settings:
    """Read settings from the environment and ``.env``; raise :class:`SettingsError` naming bad ones."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "PAPERBOT_" + "__".join(str(p).upper() for p in err["loc"]) if err["loc"] else "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError("Invalid setting(s):\n  " + "\n  ".join(problems)) from None
