"""The bot's own Prometheus series: Slack acknowledgement latency, Socket Mode, approvals.

They live in the bot because only the bot talks to Slack; they are registered on the one
`solti.telemetry.REGISTRY`, so `/metrics` shows them beside the process and provisioning series.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import Gauge, Histogram

from solti.telemetry import REGISTRY

__all__ = ["ACK_LATENCY", "APPROVALS_WAITING", "SOCKET_MODE_CONNECTED", "watch_socket_mode"]

ACK_LATENCY = Histogram(
    "solti_ack_latency_seconds",
    "Time from receiving a Slack request to acknowledging it (Slack allows 3 s).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0),
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
