"""PDFs shared in Slack, over real HTTP: "@paperbot add this" on a message with a PDF and the message
shortcut "Add to our papers" download the file from the fake Slack with the bot token, read it
with pypdf under the input limits and add it. Every chat.* call's content is checked."""

from __future__ import annotations

import io
import json
import time

import pytest

from tests.paper_slack_harness import make_bot, send_interaction  # noqa: F401 (fixture)

TITLE = "Wombat Normalisation for Deep Burrowing Networks"
TEXT = ["Wombat Normalisation for Deep Burrowing Networks",
        "We normalise activations per burrow instead of per batch.",
        "Wombat Normalisation trains a 50-layer burrowing network 2.4 times faster than batch normalisation."]


def pdf_bytes(lines: list[str], *, title: str | None = None, author: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    for n, line in enumerate(lines):
        pdf.drawString(72, 800 - 16 * n, line)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@pytest.fixture
def bot(make_bot):
    return make_bot()


def _file(bot, path: str, data: bytes, name: str = "wombat.pdf", size: int | None = None) -> dict:
    bot.fake.files[path] = data
    return {"id": "F1", "name": name, "filetype": "pdf", "mimetype": "application/pdf",
            "size": len(data) if size is None else size,
            "url_private_download": f"{bot.fake_server_base.rstrip('/')}{path}"}


def _mention(bot, text: str, files: list[dict], ts: str, event_id: str):
    event = {"type": "app_mention", "channel": "C1READING", "user": "U1ALICE", "text": text, "ts": ts,
             "files": files}
    assert bot.event(event, event_id).status_code == 200


def test_add_this_on_a_shared_pdf_downloads_reads_and_adds_it(bot):
    file = _file(bot, "/files-pri/T1-F1/download/wombat.pdf",
                 pdf_bytes(TEXT, title=TITLE, author="Ada Lovelace, Alan Turing"))
    _mention(bot, "<@UBOT> add this", [file], "1700000002.000100", "Ev-pdf")
    (reply,) = bot.fake.wait_for("chat.postMessage")
    (download,) = bot.fake.of("file_download")
    assert download.path == "/files-pri/T1-F1/download/wombat.pdf"
    assert download.args["authorization"] == "Bearer xoxb-test"  # the bot token, as Slack requires

    paper = bot.library.paper_titled(TITLE)
    assert paper is not None and paper.authors == ("Ada Lovelace", "Alan Turing") and paper.source == "slack"
    assert reply.args["channel"] == "C1READING" and reply.args["thread_ts"] == "1700000002.000100"
    assert reply.args["text"] == f"Added “{TITLE}” to our papers from a shared PDF"
    blocks = reply.args["blocks"]
    assert blocks[1]["text"]["text"].startswith(f"*{TITLE}*\n")
    assert blocks[2]["elements"][0]["text"] == "Ada Lovelace, Alan Turing  ·  _slack_"
    assert [(e["action_id"], e["value"]) for e in blocks[3]["elements"]] == [
        ("paper_ask_about", paper.id), ("paper_edit", paper.id)]
    assert "<@" not in json.dumps(blocks)  # whoever shared it is not pinged
    answer = bot.library.ask("How much faster does Wombat Normalisation train?")
    assert answer.citations[0].paper_id == paper.id and "2.4 times faster" in answer.citations[0].snippet

    # Slack re-sends the event: added once, answered once.
    _mention(bot, "<@UBOT> add this", [file], "1700000002.000100", "Ev-pdf-again")
    time.sleep(0.5)
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage"]

    # The same PDF shared again is reported, not added twice.
    _mention(bot, "<@UBOT> add this please", [file], "1700000003.000100", "Ev-pdf-2")
    second = bot.fake.wait_for("chat.postMessage", 2)[1]
    assert second.args["text"] == f"“{TITLE}” is already in our papers." and second.args["thread_ts"] == "1700000003.000100"


def test_a_pdf_over_the_size_limit_is_refused_before_the_download(make_bot):
    bot = make_bot(ingest={"max_file_mb": 1})
    file = _file(bot, "/files-pri/T1-F2/download/big.pdf", pdf_bytes(TEXT), name="big.pdf", size=3_000_000)
    _mention(bot, "<@UBOT> add this", [file], "1700000004.000100", "Ev-big")
    (reply,) = bot.fake.wait_for("chat.postMessage")
    assert reply.args["text"] == ("“big.pdf” is too large to add (3.0 MB; the limit is 1 MB, "
                                  "set by PAPERBOT_INGEST__MAX_FILE_MB).")
    assert bot.fake.of("file_download") == []


def test_a_pdf_with_no_text_is_explained(bot):
    file = _file(bot, "/files-pri/T1-F3/download/scan.pdf", pdf_bytes([]), name="scan.pdf")
    _mention(bot, "<@UBOT> add this", [file], "1700000005.000100", "Ev-scan")
    (reply,) = bot.fake.wait_for("chat.postMessage")
    assert reply.args["text"] == ("I couldn't read “scan.pdf”: PDF has no extractable text "
                                  "(a scanned PDF? run OCR on it first)")
    assert [c.method for c in bot.fake.chat_calls()] == ["chat.postMessage"]


def test_the_message_shortcut_adds_the_pdf_and_opens_its_form(bot):
    file = _file(bot, "/files-pri/T1-F4/download/wombat.pdf", pdf_bytes(TEXT))  # no metadata: the first line
    payload = {"type": "message_action", "callback_id": "paper_add_shared_pdf", "trigger_id": "trigger-pdf",
               "user": {"id": "U2BOB", "username": "bob", "name": "bob"}, "team": {"id": "T1"}, "api_app_id": "A1",
               "channel": {"id": "C1READING"}, "message_ts": "1700000006.000100",
               "message": {"type": "message", "user": "U1ALICE", "ts": "1700000006.000100", "text": "", "files": [file]},
               "response_url": bot.fake_server_base + "response/1"}
    assert send_interaction(bot.url, payload).status_code == 200
    (opened,) = bot.fake.wait_for("views.open")
    assert opened.args["view"]["external_id"] == "paper-add-pdf-trigger-pdf"
    assert opened.args["view"]["blocks"][0]["text"]["text"] == "Reading “wombat.pdf” …"
    (form,) = bot.fake.wait_for("views.update")
    assert form.args["external_id"] == "paper-add-pdf-trigger-pdf"
    initial = {b["block_id"]: b["element"].get("initial_value", "")
               for b in form.args["view"]["blocks"] if b["type"] == "input"}
    paper = bot.library.paper_titled(TITLE)
    # reportlab's placeholder author "anonymous" is no author; a text this short fits the form's summary.
    assert initial == {"title": TITLE, "authors": "", "presenter": "", "summary": bot.library.paper(paper.id).text}
    (post,) = bot.fake.chat_calls()
    assert post.method == "chat.postMessage" and post.args["thread_ts"] == "1700000006.000100"
    assert post.args["text"] == f"bob added “{TITLE}” to our papers from a shared PDF"
    assert paper.added_by == "bob"
