"""Fixtures shared by every test: an isolated environment, no network, a shipped-corpus index."""

from __future__ import annotations

import ctypes
import gc
import ipaddress
import os
import shutil
import socket
import sys
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


@pytest.fixture(autouse=True)
def _release_chroma(tmp_path):
    """Stop the embedded Chroma systems a test opened under its own tmp dir. chromadb keeps every
    path's system in a process-wide cache for good, so over a run each test's index copy would
    stay in memory (gigabytes by the end)."""
    yield
    shared = sys.modules.get("chromadb.api.shared_system_client")
    if shared is None:
        return
    cache = shared.SharedSystemClient
    stopped = [i for i in cache._identifier_to_system if Path(i).is_relative_to(tmp_path)]
    for identifier in stopped:
        cache._identifier_to_refcount.pop(identifier, None)
        cache._identifier_to_system.pop(identifier).stop()
    _stopped_since_trim[0] += len(stopped)
    if _stopped_since_trim[0] >= TRIM_EVERY:  # hand freed indexes back, so a worker's memory doesn't only grow
        _stopped_since_trim[0] = 0
        gc.collect()
        _malloc_trim()


TRIM_EVERY = 10  # stopped Chroma systems between two collections (each costs a full gc pass)
_stopped_since_trim = [0]


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is freed, just not returned at once
        pass


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    """The user cache dir (word-rarity table) of the run's own, not the developer's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session", autouse=True)
def _prompt_server_shutdown():
    """In-process waitress servers (most Slack tests start one) see their shutdown on the next wake-up
    of their loop: once a second by default, which each test's teardown waited out. A 50 ms wake-up
    changes only that wait (`paperbot serve` processes keep waitress's default)."""
    from waitress.adjustments import Adjustments

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Adjustments, "asyncore_loop_timeout", 0.05)
        yield


def pytest_collection_modifyitems(items):
    """The longest tests first: in a parallel run (-n 2) no worker is left with one of them at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def _shipped_index_dir(tmp_path_factory) -> Path:
    """The shipped corpus ingested once per run (embedding is the slow part). Parallel workers share
    it: the first builds it under a lock in the run's common temp dir, the others wait and reuse it."""
    from filelock import FileLock

    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent  # every worker's temp dir sits in the run's
    data_dir = run_dir / "shipped-index" / "data"
    with FileLock(run_dir / "shipped-index.lock"):
        if not (data_dir.parent / "built").exists():
            Library(load_settings(data_dir=data_dir, corpus_dir=SHIPPED_CORPUS)).ingest()
            (data_dir.parent / "built").touch()
    return data_dir


@pytest.fixture(scope="session")
def shared_library(_shipped_index_dir, tmp_path_factory):
    """One Library over the shipped-corpus index for the whole run, for tests that only read it
    (ask, look up, search): the embedder is loaded and each paper's sentences embedded once.
    A test that changes the index or swaps a component uses ``shipped_library`` or monkeypatch."""
    from paperbot.config import load_settings
    from paperbot.retrieval.library import Library

    data_dir = tmp_path_factory.mktemp("shared") / "data"
    shutil.copytree(_shipped_index_dir, data_dir)
    return Library(load_settings(data_dir=data_dir, corpus_dir=SHIPPED_CORPUS))


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
