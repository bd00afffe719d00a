"""The Prometheus registry every part of solti counts into, and the standard series.

Loaded on first need by `solti.telemetry.metrics` (the names callers use): a server that
serves `/metrics` loads it, an operator command that only records a few step timings does not
(prometheus_client is ~3 % of a `solti vm create`).

One `CollectorRegistry` (`REGISTRY`) of our own rather than prometheus_client's global one, so
`/metrics` shows exactly what is registered here and a test's registry is not shared with a
library's. It carries what operators expect of any Python service (`process_*`, `python_gc_*`,
`python_info`) and `solti_build_info{version=...}`, plus the provisioning series. The bot adds
its Slack series (`solti.bot.slack_metrics`) to the same registry. `track_command` and
`step_timer` (in `metrics`) also log one line per command or step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.core import InfoMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "COMMANDS",
    "DISTRIBUTION",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REGISTRY",
    "BuildInfo",
    "metrics_wsgi_app",
    "render_metrics",
]

# The distribution whose version `solti_build_info` reports (pyproject's `name`).
DISTRIBUTION = "solti-chatops"

REGISTRY = CollectorRegistry(auto_describe=True)


class BuildInfo(Collector):
    """`solti_build_info{version="..."} 1`: which release is running, for dashboards and alerts.

    The version is read at scrape time (not at import) so the operator CLI, which never serves
    metrics, does not pay for reading the installed distribution's metadata.
    """

    def __init__(self, distribution: str = DISTRIBUTION) -> None:
        self.distribution = distribution

    def describe(self) -> Iterable[InfoMetricFamily]:
        return [InfoMetricFamily("solti_build", "The running solti release.")]

    def collect(self) -> Iterable[InfoMetricFamily]:
        return [
            InfoMetricFamily(
                "solti_build", "The running solti release.", value={"version": _version(self)}
            )
        ]


def _version(info: BuildInfo) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(info.distribution)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


# The standard collectors prometheus_client puts on its global registry, here on ours.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
REGISTRY.register(BuildInfo())

COMMANDS = Counter(
    "solti_commands",
    "Commands handled, by verb (e.g. 'vm create') and outcome (ok, failed, denied, invalid).",
    ["verb", "outcome"],
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


def render_metrics() -> tuple[bytes, str]:
    """The `/metrics` body and its content type, for servers that are not WSGI."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def metrics_wsgi_app() -> Any:
    """A WSGI app serving the registry; mount it at `/metrics` or serve it on its own port."""
    return make_wsgi_app(registry=REGISTRY)
