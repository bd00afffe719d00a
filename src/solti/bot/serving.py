"""Serving the app: waitress over Bolt's WSGI adapter for HTTP mode, and Socket Mode.

The HTTP side is a tiny route table: ``POST /slack/events`` goes to Bolt's own WSGI adapter
(``slack_bolt.adapter.wsgi.SlackRequestHandler``), ``GET /healthz`` answers at once, and
``GET /metrics`` is mounted where the composition root says (beside Slack, or on a port of
its own). The server is waitress: pure Python, threads in this one process, no fork, so the
scheduler, the pools after the ack and the metrics registry exist exactly once (see
docs/operations.md). Socket Mode takes Slack's traffic over a websocket, but the same kind of
listener still answers ``GET /healthz`` (is the session up?) and ``GET /metrics`` there, so
the image's HEALTHCHECK and Prometheus work in the recommended deployment too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore

from solti.bot import slack_metrics
from solti.bot.request_gate import gate
from solti.bot.runtime import AckGate

__all__ = [
    "EVENTS_PATH",
    "MAX_BODY",
    "SocketModeRunner",
    "SocketModeStatus",
    "WsgiListener",
    "make_health_wsgi_app",
    "make_route_table",
    "make_wsgi_app",
    "socket_mode_handler",
]

log = logging.getLogger("solti.bot.serving")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EVENTS_PATH = "/slack/events"
# A view_submission is at most ~250 kB; leave room, refuse floods before reading them.
MAX_BODY = 512 * 1024


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def make_wsgi_app(
    app: Any,
    acks: AckGate | None = None,
    extra_routes: dict[str, WsgiApp] | None = None,
    *,
    signing_secret: str | None = None,
) -> WsgiApp:
    """Route by path: Slack events to Bolt, health to a constant, the rest to ``extra_routes``.

    Slack's requests pass ``bot.request_gate`` first (size, signature and shape, before Bolt
    parses anything; ``signing_secret`` defaults to the Bolt app's own). Each is computed
    inside ``acks.acknowledging()`` (work after the ack waits for it, see
    ``bot.runtime.AckGate``) and timed into ``solti_ack_latency_seconds``.
    """
    secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", None)
    slack = gate(SlackRequestHandler(app), secret, MAX_BODY)
    routes = dict(extra_routes or {})
    acknowledging = acks.acknowledging if acks is not None else contextlib.nullcontext

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            if environ.get("REQUEST_METHOD") != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            started = time.perf_counter()
            with acknowledging():
                body = slack(environ, start_response)
            # Received -> acknowledged, as the bot sees it (body read, verified, answered).
            slack_metrics.ACK_LATENCY.observe(time.perf_counter() - started)
            return body
        if path == "/healthz":
            return _json(start_response, "200 OK", {"ok": True})
        if path in routes:
            return routes[path](environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def make_route_table(routes: dict[str, WsgiApp]) -> WsgiApp:
    """Just ``routes``, else 404: ``/metrics`` on a port of its own."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return _json(start_response, "404 Not Found", {"error": "not found"})
        return route(environ, start_response)

    return wsgi


def _no_body_for_head(app: WsgiApp) -> WsgiApp:
    """A ``HEAD`` answers the ``GET``'s status and headers alone (waitress leaves it to the app)."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "HEAD":
            return result
        try:
            for _ in result:  # a generator calls start_response on its first step
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return []

    return wsgi


class WsgiListener:
    """A WSGI app served by waitress on ``host:port`` (0 = any free port), on its own thread.

    ``start()`` binds (an ``OSError`` says the port is taken) and serves; ``stop()`` lets the
    requests in progress finish (a few seconds at most), then closes every connection. HTTP/1.1
    keep-alive, chunked request bodies and ``Expect: 100-continue`` are waitress's.
    """

    def __init__(
        self, wsgi: WsgiApp, host: str = "127.0.0.1", port: int = 0, *, threads: int = 8
    ) -> None:
        self.wsgi = wsgi
        self.host = host
        self.port = port
        self.threads = threads
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> WsgiListener:
        if self._server is not None:
            return self
        self._server = waitress.create_server(
            _no_body_for_head(self.wsgi),
            host=self.host,
            port=self.port,
            threads=self.threads,
            ident="solti",
            max_request_body_size=MAX_BODY,
            channel_timeout=60,  # an idle keep-alive connection is closed after a minute
            clear_untrusted_proxy_headers=True,
        )
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(
            target=self._server.run, name=f"solti-http-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.task_dispatcher.shutdown(timeout=5)
        # Closing the sockets is the loop's own business: ask it, through its trigger. A trigger
        # the loop has already closed (a channel error on the way down closes it with the rest)
        # cannot be pulled: then nothing runs the loop's thunks, so close the map from here,
        # which ends the loop (it runs while the map holds a channel).
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        except OSError:
            wasyncore.close_all(server._map, ignore_all=True)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def __enter__(self) -> WsgiListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def socket_mode_handler(app: Any, settings: Any, acks: AckGate | None = None) -> Any:
    """The Socket Mode runner for ``settings.slack_app_token`` (connect() opens the socket).

    Bolt's built-in client (no extra dependency); each envelope's handling is timed into
    ``solti_ack_latency_seconds`` as HTTP requests are, so one metric covers both modes.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    acknowledging = acks.acknowledging if acks is not None else contextlib.nullcontext

    class TimedSocketModeHandler(SocketModeHandler):
        def handle(self, client: Any, req: Any) -> None:
            started = time.perf_counter()
            try:
                with acknowledging():
                    super().handle(client, req)
            finally:
                slack_metrics.ACK_LATENCY.observe(time.perf_counter() - started)

    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    return TimedSocketModeHandler(
        app, settings.slack_app_token.get_secret_value(), web_client=app.client
    )


class SocketModeStatus:
    """Whether the Socket Mode session is up, for ``/healthz`` and the connected gauge.

    Up means: the client is not closed, its current websocket is open, and Slack said
    ``hello`` on that very session. The socket alone is not enough: the handshake succeeds
    before Slack accepts the session, and after a ``disconnect`` request the SDK swaps in a
    new session that is only usable once its own ``hello`` arrives. The SDK closes a socket
    that stopped answering pings without calling any close listener, so the state is read
    from the client on every question instead of being kept from events.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._hello_session: str | None = None
        self._ever_up = False
        client.message_listeners.append(self._on_message)

    def _on_message(self, client: Any, message: dict[str, Any], raw: str | None) -> None:
        if message.get("type") == "hello":
            with self._lock:
                self._hello_session = client.session_id()
                self._ever_up = True

    def state(self) -> tuple[bool, str]:
        """``(True, "ok")`` when up, else ``(False, short reason)``; never raises."""
        try:
            client = self._client
            if getattr(client, "closed", False):
                return False, "Socket Mode client closed"
            with self._lock:
                hello_session, ever_up = self._hello_session, self._ever_up
            if not client.is_connected():
                return False, "reconnecting to Slack" if ever_up else "connecting to Slack"
            if hello_session is None or hello_session != client.session_id():
                return False, "waiting for Slack's hello"
            return True, "ok"
        except Exception:  # a health probe must answer, whatever the SDK's state
            log.debug("Socket Mode state unreadable", exc_info=True)
            return False, "Socket Mode state unknown"

    def connected(self) -> bool:
        return self.state()[0]


def make_health_wsgi_app(
    health: Callable[[], tuple[bool, str]], extra_routes: dict[str, WsgiApp] | None = None
) -> WsgiApp:
    """Socket Mode's listener: ``/healthz`` from ``health()``, ``extra_routes``, else 404.

    ``POST /slack/events`` is deliberately not served: Slack's traffic comes over the socket,
    and in this mode no signing secret is configured to verify a request posted here.
    """
    routes = dict(extra_routes or {})

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            up, reason = health()
            if up:
                return _json(start_response, "200 OK", {"ok": True})
            return _json(start_response, "503 Service Unavailable", {"ok": False, "reason": reason})
        if path in routes:
            return routes[path](environ, start_response)
        if path == EVENTS_PATH:
            body = {"error": "not found: in Socket Mode Slack's events arrive over the websocket"}
            return _json(start_response, "404 Not Found", body)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


class SocketModeRunner:
    """The socket plus the health listener, as `solti bot` runs them with ``SLACK_APP_TOKEN``.

    ``listen()`` binds ``GET /healthz`` and the ``extra_routes`` (``port=None``: no
    listener), ``connect()`` opens the session; ``start()`` does both. Listening first means
    a probe sees 503 while the session is still being opened. The scheduled jobs are the
    composition root's (``solti.composition.Bot``), not the runner's.
    """

    def __init__(
        self,
        app: Any,
        settings: Any,
        *,
        acks: AckGate | None = None,
        host: str = "127.0.0.1",
        port: int | None = 0,
        extra_routes: dict[str, WsgiApp] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.handler = socket_mode_handler(app, settings, acks)
        self.status = SocketModeStatus(self.handler.client)
        self.wsgi = make_health_wsgi_app(self.status.state, extra_routes)
        self._listener: WsgiListener | None = None

    def listen(self) -> SocketModeRunner:
        if self.port is not None and self._listener is None:
            self._listener = WsgiListener(self.wsgi, self.host, self.port, threads=2).start()
            self.port = self._listener.port
            # A scrape before connect() reads 0.
            slack_metrics.watch_socket_mode(self.status.connected)
        return self

    def connect(self) -> SocketModeRunner:
        # The gauge follows the runner that listened or connected last (one in `solti bot`).
        slack_metrics.watch_socket_mode(self.status.connected)
        self.handler.connect()
        return self

    def start(self) -> SocketModeRunner:
        return self.listen().connect()

    def stop(self) -> None:
        """Close the socket first, so the listener reports 503 while the rest shuts down."""
        self.handler.close()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    @property
    def url(self) -> str | None:
        """The listener's base URL, or None when it is turned off or not started."""
        return self._listener.url if self._listener is not None else None

    def __enter__(self) -> SocketModeRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
