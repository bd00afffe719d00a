"""The importable WSGI app factory, for any WSGI server an operator prefers to run.

    waitress-serve --host 0.0.0.0 --port 3000 --threads 8 --call solti.bot.wsgi:create_app

``create_app()`` builds the bot from the environment through the composition root, as
`solti bot` does in HTTP mode, and starts its scheduled jobs (report cron, approval sweep):
serve it from one process only (see docs/operations.md). With ``SOLTI_METRICS_PORT`` set,
``/metrics`` is served on that port by a listener of its own instead of beside Slack's route.
A configuration error raises ``solti.composition.ConfigurationError`` naming every problem.
"""

from __future__ import annotations

from solti import telemetry
from solti.bot.serving import WsgiApp
from solti.composition import (
    ConfigurationError,
    bot_from_configuration,
    load_configuration,
    metrics_listener,
)

__all__ = ["ConfigurationError", "create_app"]


def create_app() -> WsgiApp:
    """The HTTP-mode WSGI app (``POST /slack/events``, ``GET /healthz``, ``GET /metrics``)."""
    try:
        telemetry.configure_logging()  # SOLTI_LOG_FORMAT / SOLTI_LOG_LEVEL; redacts secrets
    except ValueError as exc:
        raise ConfigurationError([str(exc)]) from None
    config = load_configuration()
    bot = bot_from_configuration(config)
    if config.metrics_port is not None:
        listener = metrics_listener("0.0.0.0", config.metrics_port)
        if listener is not None:
            listener.start()
    bot.scheduler.start()
    return bot.wsgi(metrics=config.metrics_port is None)
