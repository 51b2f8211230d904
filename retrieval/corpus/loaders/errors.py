"""The one error a corpus file that cannot be parsed raises."""

from __future__ import annotations

from ...errors import CorpusFormatError

__all__ = ["CorpusFormatError"]
