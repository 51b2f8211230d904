"""Paper metadata given by users (front matter, sidecars): parsed, validated, with the line of each key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from .common import optional_text, parse_added, split_authors
from .errors import CorpusFormatError

FIELDS = ("title", "authors", "presenter", "url", "date", "added", "added_by")
DATE_FIELDS = ("date", "added")
TEXT_FIELDS = ("title", "presenter", "url", "added_by")

# libyaml's parser when PyYAML was built with it (about ten times faster), else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULL_TAG = "tag:yaml.org,2002:null"


class MetadataLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """Safe YAML where every plain scalar stays text except an empty value or `~` (null).

    Metadata holds only text: `title: 1984` is the title "1984", not a number, and `added:
    2024-02-30` reaches our own date check (which names the line) instead of failing inside
    PyYAML's timestamp constructor.
    """


MetadataLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag == _NULL_TAG]
    for first, resolvers in _SAFE_LOADER.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class PaperMetadata:
    """Only the fields the user set are not None."""

    title: str | None = None
    authors: tuple[str, ...] | None = None
    presenter: str | None = None
    url: str | None = None
    date: datetime | None = None
    added: datetime | None = None
    added_by: str | None = None

    def overrides(self) -> dict[str, object]:
        return {name: value for name in FIELDS if (value := getattr(self, name)) is not None}


def parse_yaml(text: str, path: Path, first_line: int, what: str) -> tuple[yaml.Node | None, object]:
    """(node, data) of a YAML document, parsed once; errors are CorpusFormatErrors at the file line.

    `first_line` is the file line of the text's line 0; `what` names the block in messages.
    """
    loader = MetadataLoader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as error:
        raise yaml_error(path, error, first_line, what) from error
    except (ValueError, TypeError) as error:  # an explicit tag PyYAML cannot build, e.g. `!!timestamp 2024-02-30`
        raise CorpusFormatError(path, first_line, f"invalid value in the {what}: {error}") from error
    except RecursionError as error:
        raise CorpusFormatError(path, first_line, f"the {what} is nested too deeply") from error
    finally:
        loader.dispose()


def key_lines(node: yaml.Node | None, first_line: int) -> dict[str, int]:
    """File line of each key of a YAML mapping node (`first_line` = file line of the node's text line 0)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: first_line + key.start_mark.line for key, _ in node.value if isinstance(key, yaml.ScalarNode)}


def read_metadata(
    data: Mapping[str, object], path: Path, line: int | None, lines: Mapping[str, int],
    *, extra_keys: tuple[str, ...] = (),
) -> PaperMetadata:
    """Validate one mapping of paper metadata; every bad key is reported at once, each with its line."""
    problems: list[tuple[int | None, str]] = []
    for key in sorted(str(k) for k in data if k not in FIELDS and k not in extra_keys):
        problems.append((lines.get(key, line), f"unknown metadata key {key!r} (allowed: {', '.join(FIELDS + extra_keys)})"))
    dates: dict[str, datetime | None] = {}
    for name in DATE_FIELDS:
        try:
            dates[name] = parse_added(data.get(name))
        except ValueError as error:
            problems.append((lines.get(name, line),
                             f"bad `{name}` value {data.get(name)!r}: {error} (expected a date such as 2024-02-29)"))
    for name in TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            problems.append((lines.get(name, line), f"`{name}` must be text, not {_kind(value)}"))
    authors = data.get("authors")
    if authors is not None and not isinstance(authors, (str, list, tuple)):
        problems.append((lines.get("authors", line), "`authors` must be a list or a comma-separated string"))
        authors = None
    elif isinstance(authors, (list, tuple)) and any(not isinstance(a, str) for a in authors if a is not None):
        bad = next(a for a in authors if a is not None and not isinstance(a, str))
        problems.append((lines.get("authors", line), f"each of `authors` must be a name, not {_kind(bad)}"))
    if problems:
        problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
        first_line, first = problems[0]
        rest = [f"line {n}: {reason}" if n is not None else reason for n, reason in problems[1:]]
        raise CorpusFormatError(path, first_line, "; ".join([first, *rest]))
    return PaperMetadata(
        title=optional_text(data.get("title")),
        authors=split_authors(authors) if authors is not None else None,
        presenter=optional_text(data.get("presenter")),
        url=optional_text(data.get("url")),
        date=dates.get("date"),
        added=dates.get("added"),
        added_by=optional_text(data.get("added_by")),
    )


def _kind(value: object) -> str:
    """How a YAML value reads to the person who wrote it."""
    if isinstance(value, Mapping):
        return "a mapping (`key: value` pairs); quote it if it is text"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{value!r} ({type(value).__name__})"


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
