"""A question on the offline defaults loads neither openai nor the ingest-only libraries (a cold
`paperbot ask` pays for every module it imports)."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_paperbot_ask_imports_no_openai_llama_index_or_pdf_reader(shipped_data_dir):
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "paperbot.bot.cli", "ask", "who wrote reformer?"],
                         capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert run.returncode == 0 and "Nikita Kitaev" in run.stdout, run.stderr[-2000:]
    imported = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", run.stderr, re.M))
    assert "paperbot.retrieval.answering.pipeline" in imported  # the measurement saw the question path
    assert not {"openai", "llama_index", "pypdf", "feedparser"} & {name.split(".")[0] for name in imported}
