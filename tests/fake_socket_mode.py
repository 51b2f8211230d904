"""A local stand-in for Slack's Socket Mode end: a websocket server that greets the app, hands it
envelopes and records the app's acknowledgements (the app finds it through the fake Web API's
`apps.connections.open`, see tests/paper_slack_harness.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid

from websockets.sync.server import ServerConnection, serve


class FakeSocketMode:
    def __init__(self):
        self.acks: list[dict] = []
        self._condition = threading.Condition()
        self._connection: ServerConnection | None = None
        self._server = serve(self._serve, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=local"

    def _serve(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"},
                                    "debug_info": {"host": "local", "approximate_connection_time": 3600}}))
        with self._condition:
            self._connection = connection
            self._condition.notify_all()
        for message in connection:
            with self._condition:
                self.acks.append(json.loads(message))
                self._condition.notify_all()

    def wait_connected(self, timeout: float = 15.0) -> None:
        with self._condition:
            if not self._condition.wait_for(lambda: self._connection is not None, timeout):
                raise AssertionError("the app never opened its Socket Mode connection")

    def send_event(self, body: dict, *, retry_attempt: int = 0) -> str:
        """Deliver an Events API payload as Slack does over Socket Mode; returns the envelope id."""
        envelope_id = str(uuid.uuid4())
        self._connection.send(json.dumps({
            "envelope_id": envelope_id, "type": "events_api", "accepts_response_payload": False,
            "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "", "payload": body}))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"envelope {envelope_id} was never acknowledged")
                self._condition.wait(left)

    def close(self) -> None:
        self._server.shutdown()
