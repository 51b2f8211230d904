"""Questions about people and titles, answered exactly from the catalog's fields.

The question names people, papers, or both (`retrieval.questions.mentions`); the answer states what the
catalog records about them: a paper's authors and presenter, a person's papers (as author and
as presenter, with counts), and whether a named person wrote or presented a named paper. A field
the catalog doesn't record is said to be unrecorded, never guessed. Where the summary itself
carries the line (the blog's ``Authors:`` / ``Presenter:``), it is quoted as the citation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..types import Answer, Citation, Paper


def header_line(paper: Paper, label: str) -> str | None:
    """The verbatim header text naming the authors or presenter (blog papers carry them)."""
    text = " ".join(paper.header.split())
    if not text:
        return None
    if label == "presenter":
        match = re.search(r"Presenter:\s*\S[^\n]*$", text)
        return match.group(0) if match else None
    match = re.search(r"Authors:.*?(?=\s*Presenter:|$)", text)
    return match.group(0) if match else None


def _names(people: Sequence[str]) -> str:
    people = list(people)
    return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " and " + people[-1]


class _Writer:
    """Collects answer lines and the citations their markers refer to."""

    def __init__(self, asked: str):
        self.asked = asked
        self.lines: list[str] = []
        self.citations: list[Citation] = []
        self.papers: list[str] = []  # the papers the answer speaks of, in order

    def about(self, paper: Paper) -> None:
        if paper.id not in self.papers:
            self.papers.append(paper.id)

    def cite(self, paper: Paper, label: str) -> str:
        quoted = header_line(paper, label)
        if not quoted:
            return ""
        for c in self.citations:
            if c.paper_id == paper.id and c.snippet == quoted:
                return f" [{c.n}]"
        self.citations.append(Citation(len(self.citations) + 1, paper.id, paper.title, paper.source, quoted, 1.0))
        return f" [{len(self.citations)}]"

    def paper_people(self, paper: Paper) -> bool:
        """Who wrote and presented the paper; False when the catalog records neither."""
        self.about(paper)
        parts = []
        for field in (("presenter", "authors") if self.asked == "presenter" else ("authors", "presenter")):
            if field == "authors" and paper.authors:
                parts.append(f"was written by {_names(paper.authors)}{self.cite(paper, 'authors')}")
            if field == "presenter" and paper.presenter:
                parts.append(f"was presented by {paper.presenter}{self.cite(paper, 'presenter')}")
        if not parts:
            self.lines.append(f"Our summary of “{paper.title}” doesn't record who wrote or presented it.")
            return False
        # The field asked for comes first, even when all there is to say is that it isn't recorded.
        if self.asked == "presenter" and not paper.presenter:
            self.lines.append(f"Our notes don't say who presented “{paper.title}”; it {parts[0]}.")
            return True
        if self.asked == "authors" and not paper.authors:
            self.lines.append(f"Our summary of “{paper.title}” doesn't record its authors; it {parts[0]}.")
            return True
        line = f"“{paper.title}” " + " and ".join(parts) + "."
        if not paper.authors:
            line += " Its authors aren't recorded."
        elif not paper.presenter:
            line += " Our notes don't say who presented it."
        self.lines.append(line)
        return True

    def person_papers(self, person: str, papers: Sequence[Paper]) -> None:
        presented = [p for p in papers if p.presenter == person]
        written = [p for p in papers if person in p.authors]
        for paper in (*presented, *written):
            self.about(paper)
        if presented:
            items = "; ".join(f"“{p.title}”{self.cite(p, 'presenter')}" for p in presented)
            self.lines.append(f"{person} presented {len(presented)} of our papers: {items}." if len(presented) > 1
                              else f"{person} presented one of our papers: {items}.")
        if written:
            items = "; ".join(f"“{p.title}”{self.cite(p, 'authors')}" for p in written)
            self.lines.append(f"{person} is an author of {len(written)} of our papers: {items}." if len(written) > 1
                              else f"{person} is an author of one of our papers: {items}.")

    def person_and_paper(self, person: str, paper: Paper) -> None:
        self.about(paper)
        roles = []
        if paper.presenter == person:
            roles.append(f"presented it{self.cite(paper, 'presenter')}")
        if person in paper.authors:
            roles.append(f"is one of its authors{self.cite(paper, 'authors')}")
        if roles:
            self.lines.append(f"Yes: {person} " + " and ".join(roles) + f" (“{paper.title}”).")
            return
        self.lines.append(f"No: {person} neither wrote nor presented “{paper.title}”, as far as our notes record.")
        self.paper_people(paper)


def catalog_answer(question: str, people: Sequence[str], named: Sequence[Paper], all_papers: Sequence[Paper],
                   asked: str = "authors", *, whether: bool = False) -> Answer:
    """The catalog's answer about the named people and/or papers; ``asked`` field first.
    ``whether``: the question asks for a yes or a no ("david silver paper in our list?")."""
    writer = _Writer(asked)
    recorded = True
    if people and named:
        for person in people:
            for paper in named[:2]:
                writer.person_and_paper(person, paper)
    elif people:
        for person in people:
            writer.person_papers(person, all_papers)
        if whether and writer.lines:
            writer.lines[0] = "Yes: " + writer.lines[0]
    else:
        recorded = any([writer.paper_people(paper) for paper in named[:3]])
    return Answer(question=question, answer="\n".join(writer.lines), abstained=not recorded,
                  citations=writer.citations, paper_ids=writer.papers)


def nobody_of_ours(question: str, name: str) -> Answer:
    """A plain no for a person none of our papers names ("anything by geoffrey hinton?")."""
    shown = " ".join("-".join(p[:1].upper() + p[1:] for p in w.split("-")) for w in name.split())
    return Answer(question=question, answer=f"No: none of our papers is by {shown}, as author or presenter, "
                                            "as far as our notes record.", abstained=False)
