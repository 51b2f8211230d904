"""Fixtures shared by every test: an isolated environment, no network, a shipped-corpus index."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

pytest_plugins = ["tests.postgres_fixtures"]  # a real PostgreSQL for the state tests

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "data" / "corpus"

_ENV_PREFIXES = ("PAPERBOT_", "SLACK_", "OPENAI_")


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(address) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name that would need DNS: not loopback


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse every socket connection that does not stay on this machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def guarded_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise NetworkBlocked(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No setting leaks in from the developer's shell or .env; state goes to a temp dir."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PAPERBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def _shipped_index_dir(tmp_path_factory) -> Path:
    """The shipped corpus ingested once per test session (embedding is the slow part)."""
    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    data_dir = tmp_path_factory.mktemp("shipped") / "data"
    settings = load_settings(data_dir=data_dir, corpus_dir=SHIPPED_CORPUS)
    Library(settings).ingest()
    return data_dir


@pytest.fixture
def shipped_data_dir(_shipped_index_dir, tmp_path, monkeypatch) -> Path:
    """A private copy of the shipped-corpus index, free for the test to change."""
    data_dir = tmp_path / "shipped-data"
    shutil.copytree(_shipped_index_dir, data_dir)
    monkeypatch.setenv("PAPERBOT_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def shipped_library(shipped_data_dir):
    """A Library over a copy of the shipped-corpus index, with the offline defaults."""
    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    return Library(load_settings(data_dir=shipped_data_dir, corpus_dir=SHIPPED_CORPUS))
