"""Prometheus metrics of the bot and the provisioning verbs, and the timers that feed them.

The metrics use their own `CollectorRegistry` (`REGISTRY`), so `/metrics` shows only ours and
tests are not disturbed by the default process collectors. `track_command` and `step_timer`
also log one line per command or step (through the redacting handler).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)

__all__ = [
    "ACK_LATENCY",
    "APPROVALS_WAITING",
    "COMMANDS",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REGISTRY",
    "SOCKET_MODE_CONNECTED",
    "metrics_wsgi_app",
    "render_metrics",
    "step_timer",
    "track_command",
    "watch_socket_mode",
]

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "solti_commands",
    "Commands handled, by verb (e.g. 'vm create') and outcome (ok, failed, denied, invalid).",
    ["verb", "outcome"],
    registry=REGISTRY,
)
ACK_LATENCY = Histogram(
    "solti_ack_latency_seconds",
    "Time from receiving a Slack request to acknowledging it (Slack allows 3 s).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
    registry=REGISTRY,
)
PROVISIONING_STEP = Histogram(
    "solti_provisioning_step_seconds",
    "Duration of each provisioning step (clone, resize, cloud-init, start, download, ...).",
    ["operation", "step"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
    registry=REGISTRY,
)
PROXMOX_ERRORS = Counter(
    "solti_proxmox_errors",
    "Errors from the Proxmox VE API, by kind (the error class, e.g. TaskFailed, Unreachable).",
    ["kind"],
    registry=REGISTRY,
)
APPROVALS_WAITING = Gauge(
    "solti_approvals_waiting",
    "Approval requests currently waiting for a decision.",
    registry=REGISTRY,
)

# Not in REGISTRY until `watch_socket_mode` is called: in HTTP mode there is no socket, and a
# gauge stuck at 0 there would look like an outage to an alert written for Socket Mode.
SOCKET_MODE_CONNECTED = Gauge(
    "solti_socket_mode_connected",
    "1 while the Socket Mode session with Slack is up (socket open, Slack said hello), else 0.",
    registry=None,
)
_socket_mode_lock = threading.Lock()
_socket_mode_registered = False


def watch_socket_mode(connected: Callable[[], bool]) -> None:
    """Export `solti_socket_mode_connected`, read from ``connected()`` at every scrape.

    Read at scrape time rather than set on events because the Slack SDK drops a stale socket
    without telling any listener; asking the client when Prometheus asks cannot go stale.
    The last call wins (one Socket Mode client per process).
    """
    global _socket_mode_registered
    SOCKET_MODE_CONNECTED.set_function(lambda: 1.0 if connected() else 0.0)
    with _socket_mode_lock:
        if not _socket_mode_registered:
            REGISTRY.register(SOCKET_MODE_CONNECTED)
            _socket_mode_registered = True


def render_metrics() -> tuple[bytes, str]:
    """The `/metrics` body and its content type, for servers that are not WSGI."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def metrics_wsgi_app() -> Any:
    """A WSGI app serving the registry; mount it at `/metrics`."""
    return make_wsgi_app(registry=REGISTRY)


_log = logging.getLogger("solti.telemetry")


@contextlib.contextmanager
def track_command(verb: str, logger: logging.Logger | None = None) -> Iterator[dict[str, str]]:
    """Count one command and log one line for it when it ends.

    The block may set `outcome` in the yielded dict (e.g. 'denied'); an exception counts as
    'failed' and is re-raised.
    """
    state = {"outcome": "ok"}
    started = time.monotonic()
    try:
        yield state
    except BaseException:
        state["outcome"] = "failed"
        raise
    finally:
        COMMANDS.labels(verb=verb, outcome=state["outcome"]).inc()
        (logger or _log).info(
            "command %s: %s",
            verb,
            state["outcome"],
            extra={
                "verb": verb,
                "outcome": state["outcome"],
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )


@contextlib.contextmanager
def step_timer(operation: str, step: str, logger: logging.Logger | None = None) -> Iterator[None]:
    """Time one provisioning step into the histogram and log one line when it ends."""
    started = time.monotonic()
    outcome = "ok"
    try:
        yield
    except BaseException:
        outcome = "failed"
        raise
    finally:
        elapsed = time.monotonic() - started
        PROVISIONING_STEP.labels(operation=operation, step=step).observe(elapsed)
        (logger or _log).info(
            "%s step %s: %s",
            operation,
            step,
            outcome,
            extra={
                "operation": operation,
                "step": step,
                "outcome": outcome,
                "duration_ms": round(elapsed * 1000),
            },
        )
