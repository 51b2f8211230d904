"""`paperbot serve` as a process: each start-up failure is at most a few lines naming the cause and
the setting to check, without a traceback or a secret; `--debug` shows the traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import sandbox
from tests.paper_slack_harness import start_fake_slack

BOT_TOKEN = "xoxb-1234-very-secret-bot-token"
SIGNING_SECRET = "signing-secret-never-shown"
DB_PASSWORD = "pg-password-never-shown"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def _start(data_dir: Path, *args: str, **settings: str) -> subprocess.Popen:
    # Started from a module fixture, before the per-test isolation: leave out the shell's settings here.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "SLACK_", "OPENAI_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, PAPERBOT_DATA_DIR=str(data_dir),
               PAPERBOT_PORT=str(_closed_port()))
    env.update(settings)
    return subprocess.Popen([sys.executable, "-m", "paperbot.bot.cli", "serve", "--host", "127.0.0.1", *args],
                            env=env, cwd=data_dir.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _assert_short_failure(result: subprocess.CompletedProcess, setting: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert len(output.strip().splitlines()) <= 4, output
    assert "Traceback" not in output
    for secret in (BOT_TOKEN, SIGNING_SECRET, DB_PASSWORD):
        assert secret not in output
    assert setting in output, output
    return output


class _RefusingSlack(BaseHTTPRequestHandler):
    """A Slack Web API that refuses the bot token, as Slack does for a revoked or mistyped one."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"ok": False, "error": "invalid_auth"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def failed(tmp_path_factory):
    """The failing start-ups below, begun at once: each mostly waits (for Slack's retries, a refused
    connection), so together they take about the time of the slowest, not the sum. Each test reads its own."""
    refusing = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingSlack)
    threading.Thread(target=refusing.serve_forever, daemon=True).start()
    fake, slack_server = start_fake_slack()  # answers auth.test, refuses apps.connections.open
    slack_url = f"http://127.0.0.1:{slack_server.server_port}/api/"
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = {"unreachable": _closed_port(), "debug": _closed_port(), "chroma": _closed_port(),
             "postgresql": _closed_port(), "taken": taken.getsockname()[1]}
    unreachable, debug = (f"http://127.0.0.1:{ports[name]}/api/" for name in ("unreachable", "debug"))
    database = f"postgresql+psycopg://paperbot:{DB_PASSWORD}@127.0.0.1:{ports['postgresql']}/paperbot"
    data = tmp_path_factory.mktemp("failed")
    runs = {
        "slack unreachable": _start(data / "1", PAPERBOT_SLACK_API_URL=unreachable),
        "token refused": _start(data / "2", PAPERBOT_SLACK_API_URL=f"http://127.0.0.1:{refusing.server_port}/api/"),
        "chroma down": _start(data / "3", PAPERBOT_SLACK_API_URL=slack_url, PAPERBOT_CHROMA__HOST="127.0.0.1",
                              PAPERBOT_CHROMA__PORT=str(ports["chroma"])),
        "postgresql unreachable": _start(data / "4", PAPERBOT_SLACK_API_URL=slack_url, PAPERBOT_DATABASE_URL=database),
        "port in use": _start(data / "5", PAPERBOT_SLACK_API_URL=slack_url, PAPERBOT_PORT=str(ports["taken"])),
        "debug": _start(data / "6", "--debug", PAPERBOT_SLACK_API_URL=debug),
        "app token refused": _start(data / "7", SLACK_APP_TOKEN=APP_TOKEN, PAPERBOT_SLACK_API_URL=slack_url),
    }
    try:
        results = {name: _finish(process) for name, process in runs.items()}
    finally:
        for process in runs.values():
            process.kill()
        taken.close()
        refusing.shutdown()
        slack_server.shutdown()
    return SimpleNamespace(results=results, ports=ports, unreachable=unreachable)


@pytest.fixture
def slack_url():
    """A fake Slack that answers auth.test with ok (the failure under test is elsewhere)."""
    fake, server = start_fake_slack()
    yield f"http://127.0.0.1:{server.server_port}/api/"
    server.shutdown()


def test_slack_unreachable(failed):
    url = failed.unreachable
    output = _assert_short_failure(failed.results["slack unreachable"], "PAPERBOT_SLACK_API_URL")
    assert output.strip() == (f"Error: cannot reach Slack's Web API at {url} ([Errno 111] Connection refused): "
                              "check the network, or PAPERBOT_SLACK_API_URL if it is set")


def test_slack_refuses_the_token(failed):
    output = _assert_short_failure(failed.results["token refused"], "SLACK_BOT_TOKEN")
    assert "Slack refused auth.test: invalid_auth" in output


def test_chroma_server_down(failed):
    output = _assert_short_failure(failed.results["chroma down"], "PAPERBOT_CHROMA__HOST")
    assert f"cannot reach the Chroma server at 127.0.0.1:{failed.ports['chroma']}" in output


def test_postgresql_unreachable_without_showing_its_password(failed):
    port = failed.ports["postgresql"]
    output = _assert_short_failure(failed.results["postgresql unreachable"], "PAPERBOT_DATABASE_URL")
    assert f"cannot open the state database postgresql+psycopg://paperbot:***@127.0.0.1:{port}/paperbot" in output
    assert "Connection refused" in output


def test_port_in_use(failed):
    output = _assert_short_failure(failed.results["port in use"], "PAPERBOT_PORT")
    assert f"port {failed.ports['taken']} is already in use" in output


@pytest.mark.skipif(sandbox.read_only_technique() is None,
                    reason="running as root where user namespaces are not allowed: no read-only mount can be made")
def test_read_only_data_directory(tmp_path, slack_url):
    data = tmp_path / "data"
    data.mkdir()
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PAPERBOT_SLACK_API_URL": slack_url,
           "PAPERBOT_PORT": str(_closed_port())}
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # sandbox.run_read_only passes this process's environment on
    try:
        (result,) = sandbox.run_read_only(data, sandbox.paperbot_command("serve", "--host", "127.0.0.1"))
    finally:
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
    output = _assert_short_failure(result, "PAPERBOT_DATA_DIR")
    assert f"{data}" in output


def test_debug_shows_the_traceback(failed):
    result = failed.results["debug"]
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "Connection refused" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: cannot reach Slack's Web API")
    assert BOT_TOKEN not in result.stdout + result.stderr


APP_TOKEN = "xapp-1-very-secret-app-token"


def test_socket_mode_with_a_refused_app_token(failed):
    output = _assert_short_failure(failed.results["app token refused"], "SLACK_APP_TOKEN")
    assert "Slack refused apps.connections.open: no_socket" in output and APP_TOKEN not in output


def test_socket_mode_still_connects_and_serves(tmp_path):
    from tests.fake_socket_mode import FakeSocketMode

    socket_mode = FakeSocketMode()
    fake, server = start_fake_slack()
    fake.socket_url = socket_mode.url
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERBOT_", "SLACK_"))}
    env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, PAPERBOT_DATA_DIR=str(tmp_path / "data"),
               PAPERBOT_SLACK_API_URL=f"http://127.0.0.1:{server.server_port}/api/", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "paperbot.bot.cli", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        socket_mode.wait_connected(timeout=120)
        assert process.stdout.readline().strip() == "paperbot: Socket Mode"
        time.sleep(1)
        assert process.poll() is None  # connected, and still serving
    finally:
        process.kill()
        process.communicate(timeout=30)
        socket_mode.close()
        server.shutdown()
