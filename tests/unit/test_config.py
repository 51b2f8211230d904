"""Settings: environment and .env support, clear errors, secrets kept secret, docs in step."""

from __future__ import annotations


import pytest

from paperbot.config import SettingsError, load_settings
from paperbot.config.env_example import render

from tests.conftest import REPO


def test_nested_setting_from_environment(monkeypatch):
    monkeypatch.setenv("PAPERBOT_LLM__MODEL", "llama3.1:8b")
    monkeypatch.setenv("PAPERBOT_RETRIEVAL__TOP_K", "4")
    settings = load_settings()
    assert settings.llm.model == "llama3.1:8b"
    assert settings.retrieval.top_k == 4


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("PAPERBOT_PORT=4567\nSLACK_BOT_TOKEN=xoxb-from-file\n")
    settings = load_settings()
    assert settings.port == 4567
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"


def test_bad_value_names_the_setting(monkeypatch):
    monkeypatch.setenv("PAPERBOT_RETRIEVAL__TOP_K", "0")
    with pytest.raises(SettingsError, match="PAPERBOT_RETRIEVAL__TOP_K"):
        load_settings()


def test_unknown_nested_key_is_refused(monkeypatch):
    monkeypatch.setenv("PAPERBOT_LLM__MODLE", "typo")
    with pytest.raises(SettingsError, match="MODLE"):
        load_settings()


def test_secrets_do_not_show_in_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


def test_answerer_auto_resolves_from_credentials(monkeypatch):
    assert load_settings().answerer_name == "local"
    monkeypatch.setenv("PAPERBOT_LLM__BASE_URL", "http://127.0.0.1:11434/v1")
    assert load_settings().answerer_name == "openai"
    monkeypatch.setenv("PAPERBOT_LLM__ANSWERER", "local")
    assert load_settings().answerer_name == "local"


def test_env_example_lists_every_setting():
    assert (REPO / ".env.example").read_text() == render(), (
        ".env.example is stale: run `python -m config.env_example > .env.example`"
    )
