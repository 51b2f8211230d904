"""Benchmark: a burst of simultaneous connections to HTTP mode, and what refusing junk costs.

    python scripts/bench_http.py [--connections 50] [--rounds 5]

Serves the real app (waitress + the Slack gate, offline defaults, empty index) on 127.0.0.1 and
opens --connections sockets at once, each sending one signed Slack request (a url_verification
challenge, answered by Bolt); prints connect+response latency figures. For comparison it runs
the same burst against the standard library's wsgiref server with its default listen backlog
of 5, which paperbot used before. Then it posts three unsigned 20 MB bodies and prints how much
the log grew.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

from slack_sdk.signature import SignatureVerifier

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from paperbot.bot.app import build_app  # noqa: E402
from paperbot.bot.logs import NoSlackPayloads  # noqa: E402
from paperbot.bot.web.server import serve_in_thread, wsgi_app  # noqa: E402
from paperbot.bot.state.store import State  # noqa: E402
from paperbot.config import load_settings  # noqa: E402
from paperbot.retrieval.library import Library  # noqa: E402
from tests.paper_slack_harness import start_fake_slack  # noqa: E402

SECRET = "bench-signing-secret"


def _request(port: int) -> bytes:
    body = json.dumps({"type": "url_verification", "challenge": "c", "token": "t"})
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    return (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()


def burst(port: int, connections: int) -> list[float]:
    """Milliseconds from connect() to the full response, for sockets opened all at once."""
    request, barrier, latencies = _request(port), threading.Barrier(connections), []

    def one():
        barrier.wait()
        start = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(request)
            while s.recv(65536):
                pass
        latencies.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=one) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def _figures(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{name}: {len(samples)} responses, p50 {statistics.median(samples):.0f} ms, p99 {p99:.0f} ms, "
          f"max {ordered[-1]:.0f} ms")


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        fake, slack_server = start_fake_slack()
        settings = load_settings(data_dir=Path(data), slack_api_url=f"http://127.0.0.1:{slack_server.server_port}/api/",
                                 slack_bot_token="xoxb-bench", slack_signing_secret=SECRET)
        app = build_app(settings, Library(settings), State(settings.state_url))

        server = serve_in_thread(app, settings)
        _figures(f"waitress, backlog {settings.http.backlog}",
                 [ms for _ in range(args.rounds) for ms in burst(server.server_port, args.connections)])

        old = make_server("127.0.0.1", 0, wsgi_app(app, settings), server_class=_Threaded, handler_class=_Quiet)
        threading.Thread(target=old.serve_forever, daemon=True).start()
        _figures(f"wsgiref, backlog {old.request_queue_size}",
                 [ms for _ in range(args.rounds) for ms in burst(old.server_port, args.connections)])
        old.shutdown()

        log = io.StringIO()
        handler = logging.StreamHandler(log)
        handler.addFilter(NoSlackPayloads())
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
        junk = b'{"type":"event_callback","event":{"text":"' + b"x" * 20_000_000 + b'"}}'
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", server.server_port), timeout=60) as s:
                s.sendall(f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(junk)}\r\nConnection: close\r\n\r\n".encode())
                try:
                    s.sendall(junk)
                except OSError:
                    pass  # refused before the body was read
                status = s.recv(100).split(b"\r\n", 1)[0].decode()
        print(f"three unsigned 20 MB posts: answered {status!r}; the log grew by {len(log.getvalue())} bytes")
        server.shutdown()
        slack_server.shutdown()


if __name__ == "__main__":
    main()
