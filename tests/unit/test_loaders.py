"""Corpus loaders: exact parsing of the shipped files, generic files, sidecars, errors."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from paperbot.retrieval.corpus.loaders import (
    CorpusFormatError,
    InputLimits,
    TooLargeError,
    corpus_files,
    load_file,
    paper_from_text,
)
from paperbot.retrieval.types import Paper, paper_id_for

from tests.conftest import FIXTURES, SHIPPED_CORPUS
LOADER_FIXTURES = FIXTURES / "loaders"
CORPUS = SHIPPED_CORPUS
BLOG = CORPUS / "scale-ai-reading-group.txt"
SHORTSCIENCE = CORPUS / "shortscience-summaries.txt"
HF_DAILY = CORPUS / "hf-daily-papers.txt"
CATALOG = json.loads((FIXTURES / "catalog.json").read_text(encoding="utf-8"))


def collapse(text: str) -> str:
    return " ".join(text.split())


def file_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def covered_lines(papers: list[Paper], lines: list[str]) -> list[int]:
    """0-based file lines each paper's verbatim header+text occupies, checking they sit at `paper.line`."""
    covered = []
    for paper in papers:
        own = paper.source_text.split("\n")
        start = paper.line - 1
        assert lines[start:start + len(own)] == own, paper.title
        covered.extend(range(start, start + len(own)))
    return covered


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[Paper]]:
    return {path.name: load_file(path) for path in corpus_files([CORPUS])}


# -- the shipped corpus against the gold catalog ---------------------------------------------


def test_shipped_corpus_has_every_catalog_paper_with_its_title(shipped):
    papers = [p for file_papers in shipped.values() for p in file_papers]
    assert len(papers) == len(CATALOG) == 64
    assert Counter((p.source, p.title) for p in papers) == Counter((c["source"], c["title"]) for c in CATALOG)
    assert {name: len(ps) for name, ps in shipped.items()} == {
        "hf-daily-papers.txt": 51, "scale-ai-reading-group.txt": 8, "shortscience-summaries.txt": 5,
    }
    assert len({p.id for p in papers}) == 64
    assert all(p.id == paper_id_for(p.source, p.title) for p in papers)


def test_shipped_texts_equal_catalog_texts(shipped):
    by_title = {c["title"]: c["text"] for c in CATALOG}
    last_blog = shipped[BLOG.name][-1]
    for papers in shipped.values():
        for paper in papers:
            if paper is last_blog:
                continue  # the catalog keeps the post's outro in the last paper; checked below
            # The catalog joins the wrapped FixMatch title onto one line; text is otherwise identical.
            assert collapse(paper.source_text) == collapse(by_title[paper.title]), paper.title
    outro = collapse(by_title[last_blog.title]).removeprefix(collapse(last_blog.source_text))
    assert outro.startswith(" If you’re interested in joining our growing engineering team")
    assert outro.endswith("our careers page for open positions.")


def test_loading_is_stable(shipped):
    again = {path.name: load_file(path) for path in corpus_files([CORPUS])}
    assert again == shipped


# -- the reading-group blog -------------------------------------------------------------------


def test_blog_authors_and_presenters(shipped):
    papers = {p.title: p for p in shipped[BLOG.name]}
    assert {title: p.presenter for title, p in papers.items()} == {
        "The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks": "Hongbo Tian",
        "Mastering Atari, Go, Chess and Shogi by Planning with a Learned Model": "Hongbo Tian",
        "FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence": "Felix Lau",
        "Reformer: The Efficient Transformer": None,  # `Presenter:` with no name
        "The Case for Learned Index Structures": "Hongbo Tian",
        "PointRend: Image Segmentation as Rendering": "Felix Lau",
        "RangeNet++: Fast and Accurate LiDAR Semantic Segmentation": "Daniel Havir",
        "Fast Differentiable Sorting and Ranking": "Chiao-Lun Cheng",
    }
    assert papers["The Lottery Ticket Hypothesis: Finding Sparse, Trainable Neural Networks"].authors == (
        "Jonathan Frankle", "Michael Carbin")
    assert papers["Mastering Atari, Go, Chess and Shogi by Planning with a Learned Model"].authors == (
        "Julian Schrittwieser", "Ioannis Antonoglou", "Thomas Hubert", "Karen Simonyan", "Laurent Sifre",
        "Simon Schmitt", "Arthur Guez", "Edward Lockhart", "Demis Hassabis", "Thore Graepel",
        "Timothy Lillicrap", "David Silver")
    assert papers["FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence"].authors == (
        "Kihyuk Sohn", "David Berthelot", "Chun-Liang Li", "Zizhao Zhang", "Nicholas Carlini", "Ekin D. Cubuk",
        "Alex Kurakin", "Han Zhang", "Colin Raffel")
    assert papers["Reformer: The Efficient Transformer"].authors == ("Nikita Kitaev", "Łukasz Kaiser", "Anselm Levskaya")
    assert papers["The Case for Learned Index Structures"].authors == (
        "Tim Kraska", "Alex Beutel", "Ed H. Chi", "Jeffrey Dean", "Neoklis Polyzotis")
    assert papers["RangeNet++: Fast and Accurate LiDAR Semantic Segmentation"].authors == (
        "Andres Milioto", "Ignacio Vizzo", "Jens Behley", "Cyrill Stachniss")


def test_blog_headers_are_verbatim_and_bodies_start_after_them(shipped):
    fixmatch = next(p for p in shipped[BLOG.name] if p.title.startswith("FixMatch"))
    assert fixmatch.header == (
        "FixMatch: Simplifying Semi-Supervised Learning with Consistency and\n"
        "Confidence\n"
        "Authors: Kihyuk Sohn, David Berthelot, Chun-Liang Li, Zizhao\n"
        "Zhang, Nicholas Carlini, Ekin D. Cubuk, Alex Kurakin, Han Zhang, Colin Raffel\n"
        "Presenter:Felix Lau"
    )
    assert fixmatch.text.startswith("The general architecture of FixMatch.")
    for paper in shipped[BLOG.name]:
        assert "Authors:" not in paper.text and "Presenter:" not in paper.text
        assert paper.header.split("\n")[-1].rstrip().endswith(paper.presenter or "Presenter:")


def test_blog_papers_cover_everything_between_intro_and_outro(shipped):
    lines = file_lines(BLOG)
    papers = shipped[BLOG.name]
    covered = covered_lines(papers, lines)
    assert len(covered) == len(set(covered)), "papers overlap"
    first, last = min(covered), max(covered)
    assert covered == list(range(first, last + 1)), "a line between papers is lost"
    intro = " ".join(lines[:first])
    outro = " ".join(lines[last + 1:])
    assert intro.startswith("Machine learning is a field of study") and intro.endswith("when\nrelevant.".replace("\n", " "))
    assert outro.strip() == ("If you’re interested in joining our growing engineering team, take a look at "
                             "our careers page for open positions.")
    for paper in papers:
        assert "reading groups" not in paper.source_text and "careers page" not in paper.source_text


# -- ShortScience -----------------------------------------------------------------------------


def test_shortscience_titles_and_metadata_come_from_the_sidecar(shipped):
    papers = {p.title: p for p in shipped[SHORTSCIENCE.name]}
    assert papers["Identity Mappings in Deep Residual Networks"].authors == (
        "Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun")
    assert papers["Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"].authors == (
        "Sergey Ioffe", "Christian Szegedy")
    assert papers["MnasNet: Platform-Aware Neural Architecture Search for Mobile"].authors[0] == "Mingxing Tan"
    assert papers["Nerfies: Deformable Neural Radiance Fields"].url == "https://arxiv.org/abs/2011.12948"
    assert all(p.url and p.url.startswith("https://arxiv.org/abs/") for p in papers.values())


def test_shortscience_texts_are_the_entries_without_placeholders(shipped):
    lines = file_lines(SHORTSCIENCE)
    papers = shipped[SHORTSCIENCE.name]
    entries = [line for line in lines[lines.index("[link]"):] if line.strip() and line != "[link]"]
    assert len(entries) == len(papers)
    for paper, entry in zip(papers, entries):
        assert "![]()" not in paper.text and not paper.text.endswith("|")
        assert paper.header == ""
        assert entry == paper.text + " ![]() |"  # verbatim: only the placeholder is gone
        assert lines[paper.line - 1] == entry
    assert not any("ShortScience.org" in p.text for p in papers)


def test_sidecar_matches_entries_in_any_order(tmp_path, shipped):
    lines = file_lines(SHORTSCIENCE)
    first_entry = lines.index("[link]")
    header, entries = lines[:first_entry], lines[first_entry:]
    pairs = [entries[i:i + 2] for i in range(0, len(entries) - 1, 2)]
    reordered = tmp_path / SHORTSCIENCE.name
    reordered.write_text("\n".join(header + [line for pair in reversed(pairs) for line in pair]), encoding="utf-8")
    shutil.copy(CORPUS / "shortscience-summaries.meta.yaml", tmp_path)

    expected = {p.text: p.title for p in shipped[SHORTSCIENCE.name]}
    papers = load_file(reordered)
    assert [p.title for p in papers] == [expected[p.text] for p in papers]
    assert [p.title for p in papers] == [p.title for p in reversed(shipped[SHORTSCIENCE.name])]


def test_summaries_without_sidecar_match_get_derived_titles(tmp_path, caplog, shipped):
    copy = tmp_path / SHORTSCIENCE.name
    shutil.copy(SHORTSCIENCE, copy)
    (tmp_path / "shortscience-summaries.meta.yaml").write_text(
        "papers:\n"
        "  - match: The main contribution of this paper is introducing\n"
        "    title: Batch Normalization\n"
        "  - match: A summary that is no longer in the file\n"
        "    title: Gone\n",
        encoding="utf-8",
    )
    papers = load_file(copy)
    assert len(papers) == 5
    assert [p.text for p in papers] == [p.text for p in shipped[SHORTSCIENCE.name]]
    titles = [p.title for p in papers]
    assert titles[0] == "This is follow-up work to the ResNets paper"
    assert titles[2] == "Batch Normalization"
    # A long first sentence is cut at a word, and the title says it was cut.
    assert titles[1].endswith("…") and len(titles[1]) <= 81
    assert titles[1].startswith("When machine learning models need to run on personal devices")
    assert len(set(titles)) == 5
    assert "matches no summary" in caplog.text and "sidecar" in caplog.text.lower()


def test_ambiguous_sidecar_match_is_an_error(tmp_path):
    copy = tmp_path / SHORTSCIENCE.name
    shutil.copy(SHORTSCIENCE, copy)
    (tmp_path / "shortscience-summaries.meta.yaml").write_text(
        "papers:\n  - match: This\n    title: Too vague\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as caught:
        load_file(copy)
    assert caught.value.line == 2 and caught.value.path.endswith("shortscience-summaries.meta.yaml")


# -- HF daily papers --------------------------------------------------------------------------


def test_hf_daily_titles_and_abstracts_alternate(shipped):
    lines = file_lines(HF_DAILY)
    papers = shipped[HF_DAILY.name]
    assert papers[0].title == "Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation"
    assert lines[papers[0].line - 1] == "Subscribe" + papers[0].header
    assert "U$^2$-Net: Going Deeper with Nested U-Structure for Salient Object Detection" in {p.title for p in papers}
    for paper in papers[1:]:
        assert lines[paper.line - 1] == paper.header == paper.title
    for paper in papers:
        assert lines[paper.line] == paper.text
        assert not paper.title.startswith("Subscribe") and "Get trending papers" not in paper.source_text
    body_lines = {i for i, line in enumerate(lines) if line.strip()} - {0, 1}  # minus the two page-header lines
    covered = {paper.line - 1 for paper in papers} | {paper.line for paper in papers}
    assert covered == body_lines


# -- generic text and markdown ----------------------------------------------------------------


def test_front_matter_supplies_metadata():
    (paper,) = load_file(LOADER_FIXTURES / "front_matter.md")
    assert paper.title == "Attention Is All You Need"
    assert paper.authors == ("Ashish Vaswani", "Noam Shazeer", "Niki Parmar")
    assert paper.presenter == "Ada Lovelace"
    assert paper.url == "https://arxiv.org/abs/1706.03762"
    assert paper.added == datetime(2024, 3, 5, tzinfo=timezone.utc)
    assert paper.text.startswith("# Notes on the Transformer\n\nThe Transformer replaces recurrence")
    assert paper.text.endswith("several subspaces at once.")
    assert paper.line == 8 and paper.source == "front_matter.md"
    assert paper.id == paper_id_for("front_matter.md", "Attention Is All You Need")


def test_front_matter_authors_list_and_datetime(tmp_path):
    path = tmp_path / "week-12.txt"
    path.write_text(
        "---\ntitle: Deep Sets\nauthors:\n  - Manzil Zaheer\n  - Satwik Kottur\npresenter: ''\n"
        "added: 2024-05-01T09:30:00+02:00\n---\nPermutation-invariant functions of sets.\n",
        encoding="utf-8",
    )
    (paper,) = load_file(path)
    assert paper.authors == ("Manzil Zaheer", "Satwik Kottur")
    assert paper.presenter is None
    assert paper.added == datetime(2024, 5, 1, 7, 30, tzinfo=timezone.utc)
    assert paper.text == "Permutation-invariant functions of sets."


def test_title_falls_back_to_heading_then_first_line(tmp_path):
    (from_heading,) = load_file(LOADER_FIXTURES / "heading_only_title.md")
    assert from_heading.title == "Deep Residual Learning for Image Recognition"
    assert from_heading.header == "# Deep Residual Learning for Image Recognition"
    assert from_heading.text.startswith("Residual connections let very deep networks train")
    assert from_heading.line == 2 and from_heading.added is None

    plain = tmp_path / "notes.txt"
    plain.write_text("Sparse Mixture of Experts\nRoutes each token to two experts.\nScales well.\n", encoding="utf-8")
    (paper,) = load_file(plain)
    assert paper.title == "Sparse Mixture of Experts"
    assert paper.text == "Routes each token to two experts.\nScales well."

    paragraph = tmp_path / "paragraph.txt"
    paragraph.write_text("A single line summary. It has no title line at all.\n", encoding="utf-8")
    (paper,) = load_file(paragraph)
    assert paper.title == "A single line summary"
    assert paper.text == "A single line summary. It has no title line at all."


def test_front_matter_wins_over_content_signatures(tmp_path):
    path = tmp_path / "talk.md"
    path.write_text("---\ntitle: My Talk\n---\nTitle Line\nAuthors: A, B Presenter:C\nBody.\n", encoding="utf-8")
    (paper,) = load_file(path)
    assert paper.title == "My Talk" and "Authors: A, B" in paper.text


def test_blog_format_is_recognised_by_content_under_any_name(tmp_path):
    renamed = tmp_path / "q3-reading-group.txt"
    shutil.copy(BLOG, renamed)
    papers = load_file(renamed)
    assert [p.title for p in papers] == [p.title for p in load_file(BLOG)]
    assert all(p.source == "q3-reading-group.txt" for p in papers)


# -- blog layout variations -------------------------------------------------------------------


def test_blog_variations(tmp_path):
    path = tmp_path / "scale-ai-reading-group.txt"
    path.write_text(
        "Welcome to this quarter's papers.\n"
        "Do Vision Transformers See Like\n"
        "Convolutional Neural Networks?\n"
        "Authors: Maithra Raghu, Thomas Unterthiner,\n"
        "Simon Kornblith\n"
        "Presenter:\n"
        "A study of what ViTs learn.\n"
        "They differ from CNNs in lower layers\n"
        "Why do we always need\n"
        "bigger models\n"
        "Authors: Ann Author\n"
        "Presenter: Bo\n"
        "\n"
        "Summary line one.\n"
        "Summary line two, the last one.\n",
        encoding="utf-8",
    )
    first, second = load_file(path)
    assert first.title == "Do Vision Transformers See Like Convolutional Neural Networks?"
    assert first.authors == ("Maithra Raghu", "Thomas Unterthiner", "Simon Kornblith")
    assert first.presenter is None and first.line == 2
    # A sentence-case title wrapped mid-phrase still takes its first line from the summary above.
    assert first.text == "A study of what ViTs learn.\nThey differ from CNNs in lower layers"
    assert second.title == "Why do we always need bigger models"
    assert second.presenter == "Bo" and second.line == 9
    # Without a call-to-action outro the last summary keeps every line.
    assert second.text == "Summary line one.\nSummary line two, the last one."


# -- PDF --------------------------------------------------------------------------------------


def _write_pdf(path: Path, lines: list[str], *, title: str | None = None, author: str | None = None) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()


def test_pdf_title_from_metadata(tmp_path):
    path = tmp_path / "ppo.pdf"
    _write_pdf(path, ["We propose a new family of policy gradient methods.", "It alternates sampling and optimisation."],
               title="Proximal Policy Optimization Algorithms", author="John Schulman, Filip Wolski")
    (paper,) = load_file(path)
    assert paper.title == "Proximal Policy Optimization Algorithms"
    assert paper.authors == ("John Schulman", "Filip Wolski")
    assert "We propose a new family of policy gradient methods." in paper.text
    assert "It alternates sampling and optimisation." in paper.text
    assert paper.source == "ppo.pdf" and paper.path == str(path)


def test_pdf_title_from_first_line(tmp_path):
    path = tmp_path / "untitled.pdf"
    _write_pdf(path, ["Denoising Diffusion Probabilistic Models", "Image synthesis with diffusion models."])
    (paper,) = load_file(path)
    assert paper.title == "Denoising Diffusion Probabilistic Models"


def test_pdf_without_text_is_an_error(tmp_path):
    path = tmp_path / "scan.pdf"
    _write_pdf(path, [])
    with pytest.raises(CorpusFormatError, match="no extractable text") as caught:
        load_file(path)
    assert caught.value.path == str(path)


def test_unreadable_pdf_is_an_error():
    with pytest.raises(CorpusFormatError, match="unreadable PDF") as caught:
        load_file(LOADER_FIXTURES / "broken.pdf")
    assert caught.value.path.endswith("broken.pdf")
    assert "broken.pdf" in str(caught.value)


# -- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "reason"),
    [
        ("bad_front_matter.md", 4, "invalid YAML in the front matter"),
        ("empty.txt", 1, "file is empty"),
        ("blog_missing_title.txt", 4, "`Authors:` line with no paper title above it"),
    ],
)
def test_malformed_fixture_names_file_and_line(name, line, reason):
    path = LOADER_FIXTURES / name
    with pytest.raises(CorpusFormatError) as caught:
        load_file(path)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.path, error.line) == (str(path), line)
    assert str(error).startswith(f"{path}:{line}: ") and reason in str(error)


def test_bad_front_matter_points_at_where_the_yaml_went_wrong():
    with pytest.raises(CorpusFormatError, match="started on line 3"):
        load_file(LOADER_FIXTURES / "bad_front_matter.md")


@pytest.mark.parametrize(
    ("name", "content", "line", "reason"),
    [
        ("unknown-key.md", "---\ntitle: T\ntags: [x]\n---\nBody.\n", 3, "unknown metadata key 'tags'"),
        ("bad-date.md", "---\ntitle: T\n\nadded: last tuesday\n---\nBody.\n", 4, "bad `added` value"),
        ("unclosed.md", "---\ntitle: T\nBody.\n", 1, "never closed"),
        ("only-front-matter.md", "---\ntitle: T\n---\n\n", 4, "no summary text after the front matter"),
        ("not-a-mapping.md", "---\n- a\n- b\n---\nBody.\n", 2, "must be a mapping"),
        ("heading.md", "\n\n# Just A Heading\n", 3, "only a heading"),
        ("latin1.txt", "Title\nna\u00efve body\n".encode("latin-1"), 2, "not UTF-8"),
        ("hf-daily-papers.txt", "Get trending papers!\nSubscribeA Title\nIts abstract.\nOrphan Title\n", 4,
         "has no abstract"),
        ("scale-ai-reading-group.txt", "Intro.\nA Title\nAuthors: X Presenter:Y\nA Title Two\nAuthors: Z\nBody.\n", 3,
         "no summary"),
    ],
)
def test_malformed_content_names_file_and_line(tmp_path, name, content, line, reason):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(CorpusFormatError) as caught:
        load_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert reason in str(caught.value) and str(caught.value).startswith(f"{path}:{line}: ")


def test_named_source_file_without_its_signature_is_an_error(tmp_path):
    path = tmp_path / "hf-daily-papers.txt"
    path.write_text("A Title\nAn abstract.\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match="Subscribe"):
        load_file(path)


def test_unsupported_file_type_is_an_error(tmp_path):
    path = tmp_path / "paper.docx"
    path.write_bytes(b"PK")
    with pytest.raises(CorpusFormatError, match="unsupported file type"):
        load_file(path)


# -- pasted text ------------------------------------------------------------------------------


def test_paper_from_text():
    added = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    paper = paper_from_text(
        "  LoRA freezes the weights and trains low-rank updates.\r\nIt cuts memory.  \n",
        title="  LoRA:  Low-Rank Adaptation ", source="slack", authors="Edward Hu, Yelong Shen",
        presenter="", url="https://arxiv.org/abs/2106.09685", added=added, added_by="U123",
    )
    assert paper.title == "LoRA: Low-Rank Adaptation"
    assert paper.text == "LoRA freezes the weights and trains low-rank updates.\nIt cuts memory."
    assert paper.authors == ("Edward Hu", "Yelong Shen")
    assert paper.presenter is None
    assert (paper.source, paper.added, paper.added_by, paper.url) == ("slack", added, "U123", "https://arxiv.org/abs/2106.09685")
    assert paper.id == paper_id_for("slack", "LoRA: Low-Rank Adaptation")
    assert paper_from_text("x", title="T", source="s", authors=["A", "B"]).authors == ("A", "B")
    with pytest.raises(ValueError, match="empty"):
        paper_from_text("   ", title="T", source="slack")
    with pytest.raises(ValueError, match="title"):
        paper_from_text("text", title=" ", source="slack")


# -- corpus_files -----------------------------------------------------------------------------


def test_corpus_files_expands_directories(tmp_path):
    root = tmp_path / "corpus"
    (root / "2024" / "q1").mkdir(parents=True)
    (root / ".git").mkdir()
    wanted = [root / "b.md", root / "2024" / "a.txt", root / "2024" / "q1" / "c.PDF", root / "d.markdown"]
    for path in wanted:
        path.write_text("x", encoding="utf-8")
    for skipped in ["b.meta.yaml", ".hidden.txt", ".git/config.txt", "image.png", "notes.rst"]:
        (root / skipped).write_text("x", encoding="utf-8")
    single = tmp_path / "single.txt"
    single.write_text("x", encoding="utf-8")

    assert corpus_files([root]) == sorted(wanted)
    assert corpus_files([single, root, single]) == sorted([*wanted, single])
    assert corpus_files([CORPUS]) == [HF_DAILY, BLOG, SHORTSCIENCE]


def test_corpus_files_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist: .*nowhere"):
        corpus_files([tmp_path / "nowhere"])


def test_corpus_files_rejects_an_explicit_unsupported_file(tmp_path):
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"x")
    with pytest.raises(CorpusFormatError, match="unsupported file type '.pptx'"):
        corpus_files([path])


def test_blog_paper_without_presenter_does_not_borrow_the_next_one(tmp_path):
    path = tmp_path / "scale-ai-reading-group.txt"
    path.write_text(
        "Sparse Transformers\nAuthors: Rewon Child, Scott Gray\nShort summary.\n"
        "Longformer\nAuthors: Iz Beltagy Presenter:Kim\nAnother summary.\n",
        encoding="utf-8",
    )
    first, second = load_file(path)
    assert (first.authors, first.presenter, first.text) == (("Rewon Child", "Scott Gray"), None, "Short summary.")
    assert (second.title, second.presenter) == ("Longformer", "Kim")


# -- metadata values, YAML, input limits ------------------------------------------------------


def _front_matter_file(tmp_path: Path, front: str, body: str = "The summary.\n") -> Path:
    path = tmp_path / "paper.md"
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return path


def test_impossible_date_names_its_file_and_line(tmp_path):
    path = _front_matter_file(tmp_path, "title: Contrastive Decoding\nauthors: [A, B]\nadded: 2024-02-30\n")
    with pytest.raises(CorpusFormatError) as caught:
        load_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), 4)
    assert str(caught.value).startswith(f"{path}:4: bad `added` value '2024-02-30'")
    assert "day is out of range" in str(caught.value)


def test_impossible_date_in_a_sidecar_names_the_sidecar_line(tmp_path):
    copy = tmp_path / SHORTSCIENCE.name
    shutil.copy(SHORTSCIENCE, copy)
    sidecar = tmp_path / "shortscience-summaries.meta.yaml"
    sidecar.write_text("papers:\n  - match: This is follow-up work\n    title: Identity Mappings\n"
                       "    added: 2023-13-01\n", encoding="utf-8")
    with pytest.raises(CorpusFormatError) as caught:
        load_file(copy)
    assert (caught.value.path, caught.value.line) == (str(sidecar), 4)
    assert "bad `added` value '2023-13-01'" in str(caught.value)


@pytest.mark.parametrize(
    ("front", "line", "reason"),
    [
        ("title: {x: y}\n", 2, "`title` must be text, not a mapping"),
        ("title: T\npresenter: [Ada, Grace]\n", 3, "`presenter` must be text, not a list"),
        ("title: T\nurl:\n  href: https://example.org\n", 3, "`url` must be text, not a mapping"),
        ("title: T\nauthors:\n  - Ada\n  - {name: Grace}\n", 3, "each of `authors` must be a name"),
        ("title: T\nadded: {day: 3}\n", 3, "bad `added` value"),
    ],
)
def test_wrong_front_matter_types_name_their_line(tmp_path, front, line, reason):
    path = _front_matter_file(tmp_path, front)
    with pytest.raises(CorpusFormatError) as caught:
        load_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert reason in str(caught.value)


def test_metadata_values_are_the_text_as_written(tmp_path):
    path = _front_matter_file(tmp_path, "title: 1984\npresenter: no\nauthors: [3.10, Null Hypothesis]\n"
                                        "added: 2024-02-29\n")
    (paper,) = load_file(path)
    assert paper.title == "1984" and paper.presenter == "no"
    assert paper.authors == ("3.10", "Null Hypothesis")  # not 3.1, not None
    assert paper.added == datetime(2024, 2, 29, tzinfo=timezone.utc)


def test_front_matter_is_parsed_once_with_libyaml(tmp_path, monkeypatch):
    import yaml

    from paperbot.retrieval.corpus.loaders import metadata

    if yaml.__with_libyaml__:
        assert issubclass(metadata.MetadataLoader, yaml.CSafeLoader)
    parses = []
    real = metadata.MetadataLoader.get_single_node
    monkeypatch.setattr(metadata.MetadataLoader, "get_single_node", lambda self: parses.append(1) or real(self))
    for name in ("load", "safe_load", "compose"):  # no second parse through PyYAML's module functions
        monkeypatch.setattr(yaml, name, lambda *a, **k: pytest.fail("YAML parsed a second time"))
    (paper,) = load_file(LOADER_FIXTURES / "front_matter.md")
    assert paper.title == "Attention Is All You Need" and len(parses) == 1
    assert len(load_file(SHORTSCIENCE)) == 5 and len(parses) == 2  # the sidecar: once too


def test_file_over_the_size_limit_is_skipped(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # 50 MB, sparse: nothing of it needs to be read
        handle.truncate(50_000_000)
    with pytest.raises(TooLargeError) as caught:
        load_file(path, InputLimits(max_file_bytes=5_000_000))
    assert str(caught.value) == (f"{path}: skipped: too large (50.0 MB; the limit is 5 MB, "
                                 "set by PAPERBOT_INGEST__MAX_FILE_MB)")


def test_summary_over_the_character_limit_is_skipped(tmp_path):
    path = tmp_path / "scale-ai-reading-group.txt"
    path.write_text("Intro.\n\nShort Paper\nAuthors: A Presenter:B\nA short summary.\n\n"
                    "Long Paper\nAuthors: C Presenter:D\n" + "A long summary sentence. " * 100 + "\n", encoding="utf-8")
    assert len(load_file(path, InputLimits(max_paper_chars=5000))) == 2
    with pytest.raises(TooLargeError) as caught:
        load_file(path, InputLimits(max_paper_chars=1000))
    assert (caught.value.path, caught.value.line) == (str(path), 7)
    assert "skipped: too large (a summary of 2,500 characters; the limit is 1,000" in str(caught.value)
    assert "PAPERBOT_INGEST__MAX_PAPER_CHARS" in str(caught.value)


def test_pdf_over_the_character_limit_stops_extracting_pages(tmp_path, monkeypatch):
    from pypdf import PageObject
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "book.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for page in range(30):
        pdf.drawString(72, 800, f"Page {page} of a long book that nobody summarised for the reading group.")
        pdf.showPage()
    pdf.save()
    extracted = []
    real = PageObject.extract_text
    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: extracted.append(1) or real(self, *a, **k))
    assert "Page 29" in load_file(path, InputLimits(max_paper_chars=100_000))[0].text
    extracted.clear()
    with pytest.raises(TooLargeError, match=r"more than 500 characters; the limit is 500"):
        load_file(path, InputLimits(max_paper_chars=500))
    assert len(extracted) < 10  # stopped at the limit, not after all 30 pages


def test_long_line_of_image_markers_is_parsed_in_linear_time(tmp_path):
    import signal

    path = tmp_path / "shortscience-summaries.txt"
    junk = "![" * 200_000  # an unbounded `!\[[^\]]*\]` rescans the rest of the line from each `![`
    path.write_text(f"[link]\nA summary. ![]() |\n[link]\n{junk}\n", encoding="utf-8")

    def hung(*_):
        raise TimeoutError("parsing a long line took over 20 s: a regular expression backtracks")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)  # a hang guard, not a timing goal: linear time is milliseconds, quadratic hours
    try:
        first, second = load_file(path)
    finally:
        signal.alarm(0)
    assert first.text == "A summary." and second.text == junk


def test_every_bad_front_matter_field_is_reported_at_once_each_with_its_line(tmp_path):
    path = _front_matter_file(tmp_path, "title: {x: y}\nauthors: {a: b}\npresenter: [Ada]\nadded: 2024-02-30\nvenue: NeurIPS\n")
    with pytest.raises(CorpusFormatError) as caught:
        load_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:2: `title` must be text, not a mapping")
    for part in ("line 3: `authors` must be a list or a comma-separated string",
                 "line 4: `presenter` must be text, not a list",
                 "line 5: bad `added` value '2024-02-30'", "line 6: unknown metadata key 'venue'"):
        assert part in message
    assert "\n" not in message  # one line in the ingest's report
