"""Aligned plain-text columns for the terminal: the last-but-one wide column gives way to fit."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

MAX_WIDTH = 100  # columns when the terminal's width is unknown (output piped to a file)
GAP = "  "


def terminal_width() -> int:
    return shutil.get_terminal_size((MAX_WIDTH, 24)).columns


def shorten(text: str, width: int) -> str:
    """``text`` cut at a word boundary with "…" so that it fits ``width`` characters."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    if " " in cut and text[width - 1] != " ":
        cut = cut[: cut.rfind(" ")]  # never end inside a word
    return cut.rstrip(" ,;:—-") + "…"


def columns(header: Sequence[str], rows: Sequence[Sequence[str]], *, flexible: int = 0,
            width: int | None = None, max_other: int = 24) -> list[str]:
    """Lines of aligned columns; column ``flexible`` takes what the others leave of ``width``.

    The other columns are as wide as their widest cell, each at most ``max_other``.
    """
    width = width or terminal_width()
    cells = [list(header), *[list(row) for row in rows]]
    widths = [min(max(len(row[i]) for row in cells), max_other) for i in range(len(header))]
    others = sum(w for i, w in enumerate(widths) if i != flexible) + len(GAP) * (len(header) - 1)
    widths[flexible] = max(len(header[flexible]), min(max(len(row[flexible]) for row in cells), width - others))
    lines = []
    for row in cells:
        shown = [shorten(cell, widths[i]).ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append(GAP.join(shown).rstrip())
    return lines
