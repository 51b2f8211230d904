"""The fast lane: tests here build no index. A test that needs the shipped-corpus index (an ingest,
the embedder over the whole corpus) belongs in tests/integration or tests/slack."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _shipped_index_dir():
    pytest.fail("tests/unit builds no index: move a test that needs the shipped-corpus index to tests/integration")
