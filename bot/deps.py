"""What the Slack listeners share: built once by `bot.app.build_app`, passed to every surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the library and its arXiv client load the index's modules: not at import time
    from ..config import Settings
    from ..retrieval.library import ArxivClient, Library
    from .state.store import State


@dataclass
class Deps:
    settings: Settings
    library: Library
    state: State
    arxiv: ArxivClient  # the process's one arXiv client (its requests are spaced as arXiv asks)
