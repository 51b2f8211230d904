"""The weekly digest as a Slack message (Block Kit) and as plain text (`paperbot digest --dry-run`)."""

from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from typing import TYPE_CHECKING

from .slack_text import escape, link

if TYPE_CHECKING:
    from ...retrieval.library import Digest, DigestPaper

MAX_NEW_PAPERS_SHOWN = 10  # a first import adds dozens at once: show a few, count the rest


def _shown_new_papers(digest: Digest) -> list[DigestPaper]:
    """Papers people added by hand first, then the latest, taking turns between sources
    (a first import of several files then shows a bit of each)."""
    ranked = sorted(digest.new_papers, key=lambda p: (p.added_by is None, -(p.added.timestamp() if p.added else 0)))
    by_source: dict[str, list[DigestPaper]] = {}
    for paper in ranked:
        by_source.setdefault(paper.source, []).append(paper)
    turns = [paper for group in zip_longest(*by_source.values()) for paper in group if paper is not None]
    return turns[:MAX_NEW_PAPERS_SHOWN]


def _new_count(digest: Digest) -> str:
    """'3' — or, for a large import, '64: 51 from hf-daily-papers.txt, 8 from …'."""
    count = len(digest.new_papers)
    sources = Counter(p.source for p in digest.new_papers)
    if count <= MAX_NEW_PAPERS_SHOWN or len(sources) < 2:
        return str(count)
    return f"{count}: " + ", ".join(f"{n} from {source}" for source, n in sources.most_common())


def _more_line(digest: Digest, shown: int) -> str:
    return f"…and {len(digest.new_papers) - shown} more — find them with `/paper <title, author or topic>`."


def _week_label(digest: Digest) -> str:
    return f"week of {digest.period.start:%b} {digest.period.start.day}, {digest.period.start.year}"


def digest_message(digest: Digest) -> tuple[str, list[dict]]:
    """(notification text, blocks) of the digest post."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Reading group digest — {_week_label(digest)}"}}
    ]
    if digest.new_papers:
        shown = _shown_new_papers(digest)
        blocks.append(_section(f"*New this week* ({escape(_new_count(digest))})"))
        blocks.extend(_section(_paper_mrkdwn(p, with_adder=True)) for p in shown)
        if len(digest.new_papers) > len(shown):
            blocks.append(_context(escape(_more_line(digest, len(shown)))))
    else:
        blocks.append(_section("*New this week*\nNo new summaries this week — add one with `/paper add`."))
    if digest.questions:
        lines = [f"• {escape(q.text)}" + (f"  _(asked {q.count}×)_" if q.count > 1 else "") for q in digest.questions]
        blocks.append({"type": "divider"})
        blocks.append(_section("*Asked most this week*\n" + "\n".join(lines)))
    if digest.archive_pick:
        blocks.append({"type": "divider"})
        blocks.append(_section("*From the archive*\n" + _paper_mrkdwn(digest.archive_pick, with_adder=False)))
    if digest.topics:
        blocks.append(_context("Topics this week: " + " · ".join(escape(t) for t in digest.topics)))
    blocks.append(
        _context(escape(f"{digest.corpus_size} papers in the library · look one up with `/paper <title, author or topic>` "
                        "· ask with `/paper ask <question>`"))
    )
    return _notification(digest), blocks


def digest_text(digest: Digest) -> str:
    """The digest as plain text, for a terminal or an e-mail."""
    lines = [f"Reading group digest — {_week_label(digest)}", ""]
    if digest.new_papers:
        lines.append(f"New this week ({_new_count(digest)}):")
        shown = _shown_new_papers(digest)
        for paper in shown:
            lines.append(f"  • {paper.title}" + (f" (added by {paper.added_by})" if paper.added_by else ""))
            lines.append(f"    {paper.tldr}")
            if paper.url:
                lines.append(f"    {paper.url}")
        if len(digest.new_papers) > len(shown):
            lines.append(f"  {_more_line(digest, len(shown))}")
    else:
        lines.append("New this week: no new summaries — add one with `/paper add` or `paperbot ingest`.")
    if digest.questions:
        lines += ["", "Asked most this week:"]
        lines += [f"  • {q.text}" + (f" (asked {q.count}×)" if q.count > 1 else "") for q in digest.questions]
    if digest.archive_pick:
        pick = digest.archive_pick
        lines += ["", "From the archive:", f"  • {pick.title}", f"    {pick.tldr}"]
        if pick.url:
            lines.append(f"    {pick.url}")
    if digest.topics:
        lines += ["", "Topics this week: " + " · ".join(digest.topics)]
    lines += ["", f"{digest.corpus_size} papers in the library. In Slack: `/paper <title, author or topic>` "
              "finds one, `/paper ask <question>` answers from them, `/paper add` adds this week's summary."]
    return "\n".join(lines)


def _notification(digest: Digest) -> str:
    if digest.new_papers:
        count = len(digest.new_papers)
        return f"Reading group digest: {count} new paper{'s' if count != 1 else ''} this week"
    return "Reading group digest: a paper from the archive"


def _paper_mrkdwn(paper: DigestPaper, *, with_adder: bool) -> str:
    title = f"*{link(paper.url, paper.title)}*" if paper.url else f"*{escape(paper.title)}*"
    adder = f" — added by {escape(paper.added_by)}" if with_adder and paper.added_by else ""
    return f"{title}{adder}\n{escape(paper.tldr)}"[:3000]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
