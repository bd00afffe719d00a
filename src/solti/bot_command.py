"""`solti bot`: read the configuration, build the bot through the composition root, serve until
SIGTERM or Ctrl-C.

Apart from ``composition`` because it is an entry point (a click command that prints and exits),
not wiring: every start-up problem is printed as one line per setting and exits 1.
"""

from __future__ import annotations

import signal
import sys
import threading

import click

from solti import telemetry
from solti.composition import (
    METRICS_PORT_VARIABLE,
    ConfigurationError,
    HttpService,
    SocketModeService,
    bot_from_configuration,
    load_configuration,
)
from solti.provisioning import ConfigError

__all__ = ["bot_command"]


def _fail(*problems: str) -> None:
    for problem in problems:
        click.echo(f"solti bot: {problem}", err=True)
    sys.exit(1)


def _socket_error(exc: Exception) -> str:
    """A one-line reason for a failed connect; Slack's error code, never a token."""
    response = getattr(exc, "response", None)
    code = response.get("error") if response is not None and hasattr(response, "get") else None
    if code:
        return f"SLACK_APP_TOKEN: apps.connections.open answered {code}"
    return f"cannot reach Slack to open Socket Mode ({type(exc).__name__})"


def _listen_error(host: str, exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return f"cannot listen on {host} ({reason}); choose another port"


def _serve_until_stopped(service: HttpService | SocketModeService) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    service.stop()


@click.command(name="bot")
@click.option(
    "--host",
    default="0.0.0.0",
    show_default=True,
    help="Address of the HTTP listeners (Slack events in HTTP mode; /healthz and /metrics).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help=f"Serve /metrics on this port alone, not beside Slack's [env: {METRICS_PORT_VARIABLE}].",
)
def bot_command(host: str, metrics_port: int | None) -> None:
    """Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on SOLTI_HTTP_PORT."""
    from slack_sdk.errors import SlackClientError

    problems: list[str] = []
    try:
        telemetry.configure_logging()  # SOLTI_LOG_FORMAT / SOLTI_LOG_LEVEL; redacts secrets
    except ValueError as exc:
        problems.append(str(exc))
    try:
        config = load_configuration()
    except ConfigurationError as exc:
        problems.extend(exc.problems)
    if problems:
        _fail(*problems)
    try:
        bot = bot_from_configuration(config)
    except ConfigError as exc:
        _fail(str(exc))
    metrics_port = metrics_port if metrics_port is not None else config.metrics_port
    port = config.settings.solti_http_port
    where = f"SOLTI_HTTP_PORT: {host}:{port}"
    if metrics_port is not None:
        where += f" or {METRICS_PORT_VARIABLE}: {host}:{metrics_port}"
    if config.settings.socket_mode:
        service: HttpService | SocketModeService = SocketModeService(bot, host, port, metrics_port)
        try:
            service.listen()
        except OSError as exc:
            service.stop()
            _fail(_listen_error(where, exc))
        try:
            service.connect()
        except (SlackClientError, OSError) as exc:
            service.stop()
            _fail(_socket_error(exc))
        listening = f"; /healthz on {service.url}" if service.url else ""
        click.echo(f"solti bot: Socket Mode, connecting to Slack{listening}", err=True)
    else:
        service = HttpService(bot, host, port, metrics_port)
        try:
            service.start()
        except OSError as exc:
            _fail(_listen_error(where, exc))
        click.echo(f"solti bot: listening on {service.events_url}", err=True)
    if metrics_port is not None:
        click.echo(f"solti bot: /metrics on {service.metrics_url}", err=True)
    _serve_until_stopped(service)
