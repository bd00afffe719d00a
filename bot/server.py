"""Serving the app: a pooled WSGI server for HTTP mode, Socket Mode, and `solti bot`.

The WSGI app is a route table so others can mount more paths (``/metrics``) beside
``POST /slack/events`` and ``GET /healthz`` without touching the Slack part.
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

from bot.httpserver import PooledWsgiServer
from bot.runtime import runtime_of, start_background, stop_background
from provisioning import telemetry

__all__ = ["HttpServer", "bot_command", "make_wsgi_app", "socket_mode_handler"]

log = logging.getLogger("bot.server")
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
            telemetry.ACK_LATENCY.observe(time.perf_counter() - started)
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
                telemetry.ACK_LATENCY.observe(time.perf_counter() - started)

    if settings.slack_app_token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    runtime = runtime_of(app)
    acknowledging = runtime.acks.acknowledging if runtime is not None else contextlib.nullcontext
    return TimedSocketModeHandler(
        app, settings.slack_app_token.get_secret_value(), web_client=app.client
    )


def _fail(message: str) -> None:
    click.echo(f"solti bot: {message}", err=True)
    sys.exit(2)


@click.command(name="bot")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP mode: address to bind.")
def bot_command(host: str) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on SOLTI_HTTP_PORT."""
    from bot.app import create_app
    from bot.settings import SettingsError, load_settings
    from provisioning import ConfigError, Provisioner, ProxmoxSettings, load_policy
    from provisioning.telemetry import configure_logging, metrics_wsgi_app

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
    if settings.socket_mode:
        handler = socket_mode_handler(app, settings)
        start_background(app)
        handler.connect()
        click.echo("solti bot: connected to Slack in Socket Mode", err=True)
        stop.wait()
        handler.close()
        stop_background(app)
        return
    server = HttpServer(
        app,
        host=host,
        port=settings.solti_http_port,
        extra_routes={"/metrics": metrics_wsgi_app()},
    ).start()
    click.echo(f"solti bot: listening on {server.url}/slack/events", err=True)
    stop.wait()
    server.stop()
