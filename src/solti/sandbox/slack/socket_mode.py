"""A local Socket Mode endpoint: what `apps.connections.open` hands out, on loopback.

Slack's Socket Mode is a websocket the app opens to a URL it gets from
`apps.connections.open` (app-level `xapp-` token). Slack speaks first with a `hello`, then
sends envelopes (`{"envelope_id", "type", "payload", "accepts_response_payload"}`); the app
answers each with an ack `{"envelope_id", "payload"?}` within 3 seconds. This server plays
Slack's side so `solti bot` in Socket Mode is tested over a real socket: tests push
envelopes with `send()` and wait for the ack with `wait_ack()`.

The websocket protocol itself comes from the `websockets` package (its threaded server);
only Slack's message shapes are ours. Tickets in the URL are single use, as on Slack.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

__all__ = ["Ack", "SocketModeServer"]

LINK_PATH = "/link/"


@dataclass
class Ack:
    """One acknowledgement the app sent: the envelope it answers and its payload (if any)."""

    envelope_id: str
    payload: dict[str, Any] | None
    raw: dict[str, Any] = field(default_factory=dict)


class SocketModeServer:
    """Slack's side of Socket Mode on ``ws://127.0.0.1:PORT/link/``.

    ``issue_url(app_id)`` mints the URL `apps.connections.open` answers with; a connection
    must present one unused ticket. ``send()`` pushes an envelope to the connected app,
    ``wait_ack()`` waits (on a condition, not a sleep loop) for its ack.
    """

    def __init__(self, app_id: str = "A0SOLTI") -> None:
        self.app_id = app_id
        self.changed = threading.Condition()
        self.acks: list[Ack] = []
        self.sent: list[dict[str, Any]] = []
        self.other: list[str] = []  # messages from the app that are not acks
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SocketModeServer:
        if self._server is None:
            self._server = serve(
                self._session,
                "127.0.0.1",
                0,
                process_request=self._check_ticket,
                ping_interval=None,  # the app pings; Slack's own keepalive is not needed here
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="slack-socket-mode", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget acks and sent envelopes; open connections stay open."""
        with self.changed:
            self.acks.clear()
            self.sent.clear()
            self.other.clear()
            self.changed.notify_all()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SocketModeServer is not started")
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{LINK_PATH}"

    def issue_url(self) -> str:
        """A fresh connection URL with a single-use ticket (what `apps.connections.open` says)."""
        ticket = secrets.token_hex(8)
        with self.changed:
            self._tickets.add(ticket)
        query = urllib.parse.urlencode({"ticket": ticket, "app_id": self.app_id})
        return f"{self.url}?{query}"

    # -- the websocket side ----------------------------------------------------------------

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the handshake unless the path is ``/link/`` with an unused ticket."""
        url = urllib.parse.urlsplit(request.path)
        ticket = urllib.parse.parse_qs(url.query).get("ticket", [""])[0]
        with self.changed:
            valid = url.path == LINK_PATH and ticket in self._tickets
            self._tickets.discard(ticket)
        if valid:
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")

    def _session(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-local", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        connection.send(json.dumps(hello))
        with self.changed:
            self._connections.append(connection)
            self.changed.notify_all()
        try:
            for message in connection:
                self._received(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        finally:
            with self.changed:
                if connection in self._connections:
                    self._connections.remove(connection)
                self.changed.notify_all()

    def _received(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        with self.changed:
            if isinstance(data, dict) and isinstance(data.get("envelope_id"), str):
                payload = data.get("payload")
                self.acks.append(
                    Ack(data["envelope_id"], payload if isinstance(payload, dict) else None, data)
                )
            else:
                self.other.append(text)
            self.changed.notify_all()

    # -- what tests use --------------------------------------------------------------------

    @property
    def connections(self) -> int:
        with self.changed:
            return len(self._connections)

    def wait_connected(self, timeout: float = 10.0) -> None:
        """Until an app is connected (and has been sent its `hello`)."""
        self._wait(lambda: bool(self._connections), timeout, "no app connected")

    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        retry_reason: str = "",
    ) -> str:
        """Push one envelope to the connected app; returns its envelope_id.

        As on Slack, `events_api` envelopes carry `retry_attempt` (0 on first delivery, more
        on a retry); other envelopes are never retried, so a retry of one is refused.
        `accepts_response_payload` is Slack's value unless given (``accepts_payload``).
        """
        if retry_attempt and envelope_type != "events_api":
            raise ValueError(
                f"Slack never retries a {envelope_type} envelope: only events_api ones are"
            )
        if accepts_response_payload is None:
            accepts_response_payload = accepts_payload(envelope_type, payload)
        with self.changed:
            if not self._connections:
                raise RuntimeError("no app is connected to the Socket Mode server")
            self._counter += 1
            envelope_id = f"{self._counter:04d}-{secrets.token_hex(6)}"
            envelope: dict[str, Any] = {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
            }
            if retry_attempt is None and envelope_type == "events_api":
                retry_attempt = 0
            if retry_attempt is not None:
                envelope["retry_attempt"] = retry_attempt
                envelope["retry_reason"] = retry_reason
            self.sent.append(envelope)
            connection = self._connections[-1]
        connection.send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        """The app's ack of ``envelope_id``, waiting for it to arrive."""
        found: list[Ack] = []

        def acked() -> bool:
            found[:] = [a for a in self.acks if a.envelope_id == envelope_id]
            return bool(found)

        self._wait(acked, timeout, f"no ack for envelope {envelope_id}")
        return found[0]

    def _wait(self, predicate: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{what} within {timeout}s")
                self.changed.wait(remaining)


# Interactive payload types whose ack may carry a body (a view submission's response_action,
# options for a select); Slack says false for block_actions, shortcuts and view_closed.
_PAYLOAD_ACKS = frozenset({"view_submission", "block_suggestion"})


def accepts_payload(envelope_type: str, payload: dict[str, Any]) -> bool:
    """Slack's ``accepts_response_payload`` for an envelope: true for slash commands and the
    interactive kinds whose ack carries data, false for events and other interactions.

    https://docs.slack.dev/apis/events-api/using-socket-mode (acknowledging envelopes)
    """
    if envelope_type == "slash_commands":
        return True
    if envelope_type == "interactive":
        return payload.get("type") in _PAYLOAD_ACKS
    return False
