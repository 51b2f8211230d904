"""`paperbot digest` from cron: a readable dry run, and --post that posts once per week."""

from __future__ import annotations

from click.testing import CliRunner

from paperbot.bot.cli import main
from tests.paper_slack_harness import start_fake_slack


def test_dry_run_prints_a_readable_digest(shipped_data_dir):
    result = CliRunner().invoke(main, ["digest", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Reading group digest" in result.output
    # A fresh install's papers are the library, not this week's news; one of them is the archive pick.
    assert "New this week: no new summaries" in result.output and "From the archive:" in result.output
    assert "64 papers in the library" in result.output and "/paper" in result.output


def test_post_twice_posts_once(shipped_data_dir, monkeypatch):
    fake, server = start_fake_slack()
    monkeypatch.setenv("PAPERBOT_SLACK_API_URL", f"http://127.0.0.1:{server.server_port}/api/")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cron")
    monkeypatch.setenv("PAPERBOT_DIGEST__CHANNEL", "C9DIGEST")
    runner = CliRunner()
    first = runner.invoke(main, ["digest", "--post"])
    second = runner.invoke(main, ["digest", "--post"])
    server.shutdown()
    assert first.exit_code == 0 and "Posted" in first.output, first.output
    assert second.exit_code == 0 and "already posted" in second.output
    posts = fake.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].args["channel"] == "C9DIGEST"


def test_post_without_channel_is_a_clear_error(shipped_data_dir, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cron")
    result = CliRunner().invoke(main, ["digest", "--post"])
    assert result.exit_code == 1 and "PAPERBOT_DIGEST__CHANNEL" in result.output


def test_a_first_run_prints_the_digest_without_migration_chatter(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "SLACK_", "OPENAI_"))}
    env["PAPERBOT_DATA_DIR"] = str(tmp_path / "fresh")
    run = subprocess.run([sys.executable, "-m", "paperbot.bot.cli", "digest", "--dry-run"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Reading group digest")
    assert run.stderr == ""  # the state database was created and migrated, silently
