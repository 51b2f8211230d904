"""The App Home tab: published on app_home_opened with corpus size, latest additions, how to ask."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from paperbot.retrieval.corpus.loaders import paper_from_text
from tests.paper_slack_harness import paper_app, send_event  # noqa: F401 (fixture)


def _texts(view: dict) -> str:
    return "\n".join(b["text"]["text"] for b in view["blocks"] if "text" in b)


def test_opening_home_publishes_corpus_size_latest_additions_and_how_to_ask(paper_app):
    newest = paper_from_text("Sets of sets, summarised for the group.", title="Deep Sets <!here> & friends",
                             source="slack", added=datetime(2099, 1, 2, tzinfo=timezone.utc), added_by="carol")
    paper_app.library.add_paper(newest)
    response = send_event(paper_app.url, {"type": "app_home_opened", "user": "U1ALICE", "channel": "D1", "tab": "home"})
    assert response.status_code == 200
    (published,) = paper_app.slack.wait_for("views.publish")
    assert published.args["user_id"] == "U1ALICE"
    view = published.args["view"]
    text = _texts(view)
    assert view["type"] == "home"
    assert "*65 papers* from 4 sources" in text
    latest = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"][2]
    assert latest.startswith("*Deep Sets &lt;!here&gt; &amp; friends* · added Jan 2 by carol")
    assert "/paper ask" in text and "Mention me" in text
    assert "<!here>" not in json.dumps(view)
    # Usage placeholders are escaped: Slack would read a raw <title, …> as markup and drop it.
    assert "`/paper &lt;title, author, presenter or topic&gt;`" in text and "`/paper ask &lt;question&gt;`" in text
    assert "<title" not in text and "<question" not in text


def test_the_messages_tab_publishes_nothing(paper_app):
    send_event(paper_app.url, {"type": "app_home_opened", "user": "U1ALICE", "channel": "D1", "tab": "messages"})
    time.sleep(0.3)
    assert paper_app.slack.of("views.publish") == []
