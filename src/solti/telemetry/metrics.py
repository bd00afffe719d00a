"""The metrics every part of solti counts into, loading prometheus_client only when needed.

The registry and its series live in `prometheus_registry` (which imports prometheus_client).
An operator command such as `solti vm create` records a few step timings and never serves them,
and prometheus_client is ~3 % of what such a command executes. So the three series callers
use (`COMMANDS`, `PROVISIONING_STEP`, `PROXMOX_ERRORS`) are stand-ins here: what they record is
kept in a short list until something asks for the registry (`REGISTRY`, `render_metrics`,
`metrics_wsgi_app`, a server's Slack series), which loads the real series and replays the list
into them, so `/metrics` shows every observation as if the series had been real all along. From
then on every call goes straight to the real series. Label names and negative counter
increments are checked when recorded, as prometheus_client checks them, so a wrong call fails
where it is made. After `PENDING_LIMIT` pending observations the registry loads anyway: a
process that records without ever serving cannot grow the list without bound.

`track_command` and `step_timer` also log one line per command or step (through the redacting
handler).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and "go to definition"; read through __getattr__
    from solti.telemetry.prometheus_registry import DISTRIBUTION, REGISTRY, BuildInfo

__all__ = [
    "COMMANDS",
    "DISTRIBUTION",
    "PENDING_LIMIT",
    "PROVISIONING_STEP",
    "PROXMOX_ERRORS",
    "REGISTRY",
    "BuildInfo",
    "metrics_wsgi_app",
    "prometheus",
    "render_metrics",
    "step_timer",
    "track_command",
]

PENDING_LIMIT = 10_000

# Names served by the real module: reading any of them loads prometheus_client.
_REAL_NAMES = frozenset({"REGISTRY", "BuildInfo", "DISTRIBUTION"})

_lock = threading.RLock()
_pending: list[tuple[str, dict[str, str], str, float]] = []
_loaded: ModuleType | None = None


def prometheus() -> ModuleType:
    """`prometheus_registry`, loaded (and the pending observations replayed) on first call."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                from solti.telemetry import prometheus_registry

                for series, labels, method, amount in _pending:
                    child = getattr(prometheus_registry, series).labels(**labels)
                    getattr(child, method)(amount)
                _pending.clear()
                _loaded = prometheus_registry
    return _loaded


def _record(series: str, labels: dict[str, str], method: str, amount: float) -> None:
    with _lock:
        if _loaded is None and len(_pending) < PENDING_LIMIT:
            _pending.append((series, labels, method, amount))
            return
    getattr(getattr(prometheus(), series).labels(**labels), method)(amount)


class _PendingChild:
    """One labelled child of a series not loaded yet: records `inc` or `observe` for later."""

    def __init__(self, series: str, labels: dict[str, str]) -> None:
        self._series = series
        self._labels = labels

    def inc(self, amount: float = 1) -> None:
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        _record(self._series, self._labels, "inc", amount)

    def observe(self, amount: float) -> None:
        _record(self._series, self._labels, "observe", amount)

    def __getattr__(self, name: str) -> Any:  # anything else: the real child
        return getattr(getattr(prometheus(), self._series).labels(**self._labels), name)


class _Series:
    """Stands for the real series of the same name in `prometheus_registry` (see the module)."""

    def __init__(self, name: str, labelnames: tuple[str, ...]) -> None:
        self._name = name
        self._labelnames = labelnames

    def labels(self, *values: Any, **labels: Any) -> Any:
        if _loaded is not None:
            return getattr(_loaded, self._name).labels(*values, **labels)
        if values and labels:
            raise ValueError("Can't pass both *args and **kwargs")
        if values:
            if len(values) != len(self._labelnames):
                raise ValueError("Incorrect label count")
            labels = dict(zip(self._labelnames, values, strict=True))
        elif sorted(labels) != sorted(self._labelnames):
            raise ValueError("Incorrect label names")
        return _PendingChild(self._name, {name: str(value) for name, value in labels.items()})

    def __getattr__(self, name: str) -> Any:  # anything else: the real series
        return getattr(getattr(prometheus(), self._name), name)

    def __repr__(self) -> str:
        return f"<solti.telemetry series {self._name} ({'loaded' if _loaded else 'pending'})>"


COMMANDS = _Series("COMMANDS", ("verb", "outcome"))
PROVISIONING_STEP = _Series("PROVISIONING_STEP", ("operation", "step"))
PROXMOX_ERRORS = _Series("PROXMOX_ERRORS", ("kind",))


def __getattr__(name: str) -> Any:
    """`REGISTRY`, `BuildInfo` and `DISTRIBUTION` come from the real module (PEP 562)."""
    if name in _REAL_NAMES:
        return getattr(prometheus(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_metrics() -> tuple[bytes, str]:
    """The `/metrics` body and its content type, for servers that are not WSGI."""
    return prometheus().render_metrics()  # type: ignore[no-any-return]


def metrics_wsgi_app() -> Any:
    """A WSGI app serving the registry; mount it at `/metrics` or serve it on its own port."""
    return prometheus().metrics_wsgi_app()


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
