"""Serving the app: a pooled WSGI server for HTTP mode, Socket Mode, and `solti bot`.

The WSGI app is a route table so others can mount more paths (``/metrics``) beside
``POST /slack/events`` and ``GET /healthz`` without touching the Slack part. Socket Mode
takes Slack's traffic over a websocket, but the same pooled server still answers
``GET /healthz`` (is the session up?) and ``GET /metrics`` there, so the image's HEALTHCHECK
and Prometheus work in the recommended deployment too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import click
from slack_bolt.adapter.wsgi import SlackRequestHandler

from solti.bot import slack_metrics
from solti.bot.httpserver import PooledWsgiServer
from solti.bot.runtime import runtime_of, start_background, stop_background

__all__ = [
    "HttpServer",
    "SocketModeRunner",
    "SocketModeStatus",
    "bot_command",
    "make_health_wsgi_app",
    "make_wsgi_app",
    "socket_mode_handler",
]

log = logging.getLogger("solti.bot.server")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EVENTS_PATH = "/slack/events"


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def make_wsgi_app(app: Any, extra_routes: dict[str, WsgiApp] | None = None) -> WsgiApp:
    """Route by path: Slack events to Bolt, health to a constant, the rest to ``extra_routes``."""
    slack = SlackRequestHandler(app)
    routes = dict(extra_routes or {})
    runtime = runtime_of(app)
    acknowledging = runtime.acks.acknowledging if runtime is not None else contextlib.nullcontext

    def health(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        return _json(start_response, "200 OK", {"ok": True})

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            started = time.perf_counter()
            with acknowledging():  # background work waits for the acks (bot.runtime.AckGate)
                body = slack(environ, start_response)
            # Received -> acknowledged, as the bot sees it (body read, verified, answered).
            slack_metrics.ACK_LATENCY.observe(time.perf_counter() - started)
            return body
        if path == "/healthz":
            return health(environ, start_response)
        if path in routes:
            return routes[path](environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


class HttpServer:
    """``POST /slack/events`` and ``GET /healthz`` on a port (0 = any free one)."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_routes: dict[str, WsgiApp] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.wsgi = make_wsgi_app(app, extra_routes)
        self._server: PooledWsgiServer | None = None

    def start(self) -> HttpServer:
        self._server = PooledWsgiServer(self.host, self.port, self.wsgi).start()
        self.port = self._server.port
        start_background(self.app)
        return self

    def stop(self) -> None:
        stop_background(self.app)
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def socket_mode_handler(app: Any, settings: Any) -> Any:
    """The Socket Mode runner for ``settings.slack_app_token`` (connect() opens the socket).

    Bolt's built-in client (no extra dependency); each envelope's handling is timed into
    ``solti_ack_latency_seconds`` as HTTP requests are, so one metric covers both modes.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

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
    runtime = runtime_of(app)
    acknowledging = runtime.acks.acknowledging if runtime is not None else contextlib.nullcontext
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
    """What `solti bot` runs with ``SLACK_APP_TOKEN``: the socket plus the health listener.

    ``listen()`` binds ``GET /healthz`` and ``GET /metrics`` (``port=None``: no listener),
    ``connect()`` starts the background jobs and opens the session; ``start()`` does both.
    Listening first means a probe sees 503 while the session is still being opened.
    """

    def __init__(
        self,
        app: Any,
        settings: Any,
        *,
        host: str = "127.0.0.1",
        port: int | None = 0,
        extra_routes: dict[str, WsgiApp] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.handler = socket_mode_handler(app, settings)
        self.status = SocketModeStatus(self.handler.client)
        self.wsgi = make_health_wsgi_app(self.status.state, extra_routes)
        self._server: PooledWsgiServer | None = None
        self._background = False

    def listen(self) -> SocketModeRunner:
        if self.port is not None and self._server is None:
            self._server = PooledWsgiServer(self.host, self.port, self.wsgi).start()
            self.port = self._server.port
            slack_metrics.watch_socket_mode(
                self.status.connected
            )  # a scrape before connect() reads 0
        return self

    def connect(self) -> SocketModeRunner:
        # The gauge follows the runner that listened or connected last (one in `solti bot`).
        slack_metrics.watch_socket_mode(self.status.connected)
        if not self._background:
            start_background(self.app)
            self._background = True
        self.handler.connect()
        return self

    def start(self) -> SocketModeRunner:
        return self.listen().connect()

    def stop(self) -> None:
        """Close the socket first, so the listener reports 503 while the rest shuts down."""
        self.handler.close()
        if self._background:
            stop_background(self.app)
            self._background = False
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str | None:
        """The listener's base URL, or None when it is turned off or not started."""
        return f"http://{self.host}:{self.port}" if self._server is not None else None

    def __enter__(self) -> SocketModeRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _fail(message: str) -> None:
    click.echo(f"solti bot: {message}", err=True)
    sys.exit(2)


def _socket_error(exc: Exception) -> str:
    """A one-line reason for a failed connect; Slack's error code, never a token."""
    response = getattr(exc, "response", None)
    code = response.get("error") if response is not None and hasattr(response, "get") else None
    if code:
        return f"SLACK_APP_TOKEN: apps.connections.open answered {code}"
    return f"cannot reach Slack to open Socket Mode ({type(exc).__name__})"


def _listen_error(host: str, port: int, exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return f"SOLTI_HTTP_PORT: cannot listen on {host}:{port} ({reason}); choose another port"


@click.command(name="bot")
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    help="Address of the HTTP listener (Slack events in HTTP mode; /healthz and /metrics).",
)
def bot_command(host: str) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on SOLTI_HTTP_PORT."""
    from slack_sdk.errors import SlackClientError

    from solti.bot.app import create_app
    from solti.bot.settings import SettingsError, load_settings
    from solti.provisioning import ConfigError, Provisioner, ProxmoxSettings, load_policy
    from solti.telemetry import configure_logging, metrics_wsgi_app

    try:
        configure_logging()  # SOLTI_LOG_FORMAT / SOLTI_LOG_LEVEL; redacts secrets
    except ValueError as exc:
        _fail(str(exc))
        return
    try:
        settings = load_settings()
        if not settings.socket_mode:
            settings.require_http()
        policy = load_policy(settings.solti_config)
        provisioner = Provisioner.from_settings(
            ProxmoxSettings.from_env(), policy, settings.solti_db
        )
    except SettingsError as exc:
        _fail(str(exc))
        return
    except ConfigError as exc:
        _fail(str(exc))
        return
    app = create_app(settings, provisioner, policy)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    routes = {"/metrics": metrics_wsgi_app()}
    port = settings.solti_http_port
    if settings.socket_mode:
        runner = SocketModeRunner(app, settings, host=host, port=port, extra_routes=routes)
        try:
            runner.listen()
        except OSError as exc:
            runner.stop()
            _fail(_listen_error(host, port, exc))
            return
        try:
            runner.connect()
        except (SlackClientError, OSError) as exc:
            runner.stop()
            _fail(_socket_error(exc))
            return
        where = f"; /healthz and /metrics on {runner.url}" if runner.url else ""
        click.echo(f"solti bot: Socket Mode, connecting to Slack{where}", err=True)
        stop.wait()
        runner.stop()
        return
    try:
        server = HttpServer(app, host=host, port=port, extra_routes=routes).start()
    except OSError as exc:
        _fail(_listen_error(host, port, exc))
        return
    click.echo(f"solti bot: listening on {server.url}/slack/events", err=True)
    stop.wait()
    server.stop()
