"""Whole-collection reads from Chroma, a page at a time.

One read of a large collection (76,000 records) exceeds SQLite's variable limit, so the store and
its file records read every record of a collection through here.
"""

from __future__ import annotations

from typing import Any

PAGE = 5000  # records per read


def get_all(collection: Any, include: list[str]) -> dict[str, list]:
    """Every record of a collection: ``ids`` and the ``include``d fields, in Chroma's order."""
    got: dict[str, list] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        page = collection.get(include=include, limit=PAGE, offset=offset)
        for field in got:
            got[field].extend(page[field])
        if len(page["ids"]) < PAGE:
            return got
        offset += PAGE
