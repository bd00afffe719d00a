"""Logs and metrics an operator can watch, with no secret ever written out.

One small package that imports nothing else of solti, so every part (provisioning, the bot,
the CLI) can log and count the same way, and the redaction rules are the same everywhere.
One concern per module: ``redaction`` (pure rules), ``logs`` (handler, formatters, request
context), ``metrics`` (the series callers count into, and timers; prometheus_client and the
registry, in ``prometheus_registry``, load only when something reads ``REGISTRY`` or serves
``/metrics``). The names
callers use are re-exported here: ``from solti import telemetry`` or
``from solti.telemetry import configure_logging``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from solti.telemetry.logs import (
    LOG_ENV_VARS,
    JsonFormatter,
    RedactingFilter,
    TextFormatter,
    configure_logging,
    current_context,
    log_context,
)
from solti.telemetry.metrics import (
    COMMANDS,
    PROVISIONING_STEP,
    PROXMOX_ERRORS,
    metrics_wsgi_app,
    render_metrics,
    step_timer,
    track_command,
)
from solti.telemetry.redaction import REDACTED, SECRET_ENV_VARS, add_secret, redact

__all__ = [
    "COMMANDS",
    "LOG_ENV_VARS",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REDACTED",
    "REGISTRY",
    "SECRET_ENV_VARS",
    "JsonFormatter",
    "RedactingFilter",
    "TextFormatter",
    "add_secret",
    "configure_logging",
    "current_context",
    "log_context",
    "metrics_wsgi_app",
    "redact",
    "render_metrics",
    "step_timer",
    "track_command",
]

if TYPE_CHECKING:  # for type checkers and "go to definition"; read through __getattr__
    from solti.telemetry.prometheus_registry import REGISTRY


def __getattr__(name: str) -> object:
    """``REGISTRY`` loads prometheus_client, so it is read on demand (PEP 562), not at import."""
    if name == "REGISTRY":
        from solti.telemetry import metrics

        return metrics.prometheus().REGISTRY
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
