"""Paper metadata given by users (front matter, sidecars): validated, with the line of each key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from paperbot.retrieval.loaders.common import optional_text, parse_added, split_authors
from paperbot.retrieval.loaders.errors import CorpusFormatError

FIELDS = ("title", "authors", "presenter", "url", "added", "added_by")


@dataclass(frozen=True)
class PaperMetadata:
    """Only the fields the user set are not None."""

    title: str | None = None
    authors: tuple[str, ...] | None = None
    presenter: str | None = None
    url: str | None = None
    added: datetime | None = None
    added_by: str | None = None

    def overrides(self) -> dict[str, object]:
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}


def key_lines(node: yaml.Node | None, first_line: int) -> dict[str, int]:
    """File line of each key of a YAML mapping node (`first_line` = file line of the node's text line 0)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: first_line + key.start_mark.line for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def read_metadata(
    data: Mapping[str, object], path: Path, line: int | None, lines: Mapping[str, int],
    *, extra_keys: tuple[str, ...] = (),
) -> PaperMetadata:
    """Validate one mapping of paper metadata; errors name the file and the line of the bad key."""
    unknown = sorted(str(k) for k in data if k not in FIELDS and k not in extra_keys)
    if unknown:
        raise CorpusFormatError(
            path, lines.get(unknown[0], line),
            f"unknown metadata key {unknown[0]!r} (allowed: {', '.join(FIELDS + extra_keys)})",
        )
    try:
        added = parse_added(data.get("added"))
    except ValueError as error:
        raise CorpusFormatError(path, lines.get("added", line), f"bad `added` value: {error}") from error
    authors = data.get("authors")
    if authors is not None and not isinstance(authors, (str, list, tuple)):
        raise CorpusFormatError(path, lines.get("authors", line), "`authors` must be a list or a comma-separated string")
    return PaperMetadata(
        title=optional_text(data.get("title")),
        authors=split_authors(authors) if authors is not None else None,
        presenter=optional_text(data.get("presenter")),
        url=optional_text(data.get("url")),
        added=added,
        added_by=optional_text(data.get("added_by")),
    )


def yaml_error(path: Path, error: yaml.YAMLError, first_line: int, what: str) -> CorpusFormatError:
    """A YAML syntax error as a CorpusFormatError at the file line where YAML noticed it."""
    problem_mark = getattr(error, "problem_mark", None)
    context_mark = getattr(error, "context_mark", None)
    mark = problem_mark or context_mark
    line = first_line + mark.line if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    if context and context_mark is not None and context_mark is not mark:
        problem = f"{problem} ({context} started on line {first_line + context_mark.line})"
    return CorpusFormatError(path, line, f"invalid YAML in the {what}: {problem}")
