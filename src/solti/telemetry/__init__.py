"""Logs and metrics an operator can watch, with no secret ever written out.

One small package that imports nothing else of solti, so every part (provisioning, the bot,
the CLI) can log and count the same way, and the redaction rules are the same everywhere.
One concern per module: ``redaction`` (pure rules), ``logs`` (handler, formatters, request
context), ``metrics`` (the Prometheus registry, the standard collectors, timers). The names
callers use are re-exported here: ``from solti import telemetry`` or
``from solti.telemetry import configure_logging``.
"""

from __future__ import annotations

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
    REGISTRY,
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
