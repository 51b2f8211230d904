"""What the Slack listeners share: built once by `bot.app.build_app`, passed to every surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Deps:
    """What every listener needs; built once by `bot.app.build_app`."""

    settings: Any
    library: Any
    state: Any
    arxiv: Any = None  # the process's one arXiv client (its requests are spaced as arXiv asks)
