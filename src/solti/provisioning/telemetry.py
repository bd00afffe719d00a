"""Logs and metrics an operator can watch, with no secret ever written out.

The one import for both (``from provisioning import telemetry``): the bot and the provisioning
verbs both log and count, and the redaction rules must be the same everywhere. The parts live
apart, one concern each: ``redaction`` (pure rules), ``logsetup`` (handler, formatters, request
context), ``metrics`` (the Prometheus registry and timers). Names are re-exported here so callers
keep one stable module.
"""

from __future__ import annotations

from solti.provisioning.logsetup import (
    LOG_ENV_VARS,
    JsonFormatter,
    RedactingFilter,
    TextFormatter,
    configure_logging,
    current_context,
    log_context,
)
from solti.provisioning.metrics import (
    ACK_LATENCY,
    APPROVALS_WAITING,
    COMMANDS,
    PROVISIONING_STEP,
    PROXMOX_ERRORS,
    REGISTRY,
    SOCKET_MODE_CONNECTED,
    metrics_wsgi_app,
    render_metrics,
    step_timer,
    track_command,
    watch_socket_mode,
)
from solti.provisioning.redaction import REDACTED, SECRET_ENV_VARS, add_secret, redact

__all__ = [
    "ACK_LATENCY",
    "APPROVALS_WAITING",
    "COMMANDS",
    "LOG_ENV_VARS",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REDACTED",
    "REGISTRY",
    "SECRET_ENV_VARS",
    "SOCKET_MODE_CONNECTED",
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
    "watch_socket_mode",
]
