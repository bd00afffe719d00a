"""Everything a listener needs, built once per app and handed over through Bolt's context.

Tests build as many apps as they like; each has its own Runtime (database handle, stores,
scheduler), found with ``runtime_of(app)``. ``start``/``stop`` run the report scheduler and
the approval-expiry sweep, so the servers can switch them on and off with the app.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from solti.bot.approvals import ApprovalStore
from solti.bot.db import BotDatabase
from solti.bot.directory import Directory
from solti.bot.keys import KeyStore
from solti.bot.policy import Rules
from solti.bot.seen import SeenRequests

__all__ = ["AckGate", "Runtime", "runtime_of", "start_background", "stop_background"]

log = logging.getLogger("solti.bot.runtime")
# How long background work may be held back while acknowledgements are in progress.
ACK_PRIORITY_SECONDS = 1.0


class AckGate:
    """Acknowledgements in progress; background work waits (a bounded time) until there are none.

    Why: Slack's deadline is on the acknowledgement (3 s, else the person sees an error), while
    a reply through the response_url may come minutes later. In one process all threads share
    one GIL, so background work (Proxmox calls, replies, their logging) running beside a burst
    of requests makes every acknowledgement wait its turn. Starting that work only when no
    acknowledgement is being computed, or after ``ACK_PRIORITY_SECONDS`` at the latest, keeps
    acks fast under a burst and costs the replies at most that delay.
    """

    def __init__(self) -> None:
        self._idle = threading.Condition(threading.Lock())
        self._busy = 0

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                if self._busy == 0:
                    self._idle.notify_all()

    @property
    def busy(self) -> int:
        return self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until no acknowledgement is in progress or ``timeout`` passed; True if idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)


_RUNTIMES: weakref.WeakKeyDictionary[Any, Runtime] = weakref.WeakKeyDictionary()


@dataclass
class Runtime:
    settings: Any
    provisioner: Any
    policy: Any
    rules: Rules
    audit: Any
    client: Any
    database: BotDatabase
    approvals: ApprovalStore
    keys: KeyStore
    directory: Directory
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    team_keys: tuple[str, ...] = ()
    scheduler: Any = None
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="solti-work")
    )
    # Work that runs after the ack: the listeners hand it over here themselves instead of
    # through Bolt's lazy listeners, which deep-copy every request. Two pools, because the
    # work comes in two kinds. Flows (create, build, remove...) spend minutes mostly asleep on
    # Proxmox tasks and must never wait for each other: many workers. Quick replies (lists,
    # keys, audit, opening a modal) are a few milliseconds of CPU each: a few workers, so a
    # burst of them runs a few at a time instead of all at once beside the acknowledgements
    # under the one GIL (bench_ack: p99 of the mixed burst 67 -> 44 ms with 16 -> 4 workers).
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="solti-flow")
    )
    quick: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="solti-reply")
    )
    seen: SeenRequests | None = None
    sweep_seconds: float = 30.0
    key: str = ""
    acks: AckGate = field(default_factory=AckGate)
    ack_priority_seconds: float = ACK_PRIORITY_SECONDS

    def submit(self, fn: Callable[..., None], *args: object, quick: bool = False) -> Future[None]:
        """Run ``fn(*args)`` after the ack, with the caller's log context; errors are logged.

        ``quick`` work (a few ms, no Proxmox task to wait for) goes to the small pool, the
        rest to the large one. The work starts once no acknowledgement is in progress (at
        most ``ack_priority_seconds`` later): see ``AckGate``.
        """
        context = contextvars.copy_context()
        pool = self.quick if quick else self.background
        return pool.submit(context.run, self._after_acks, fn, *args)

    def _after_acks(self, fn: Callable[..., None], *args: object) -> None:
        self.yield_to_acks()
        _logged(fn, *args)

    def yield_to_acks(self) -> None:
        """Wait (at most ``ack_priority_seconds``) while acknowledgements are in progress."""
        if self.acks.busy:
            self.acks.wait_idle(self.ack_priority_seconds)

    def groups_of(self, user: str) -> frozenset[str]:
        return self.directory.groups_of(user) if self.rules.usergroups else frozenset()

    def start(self) -> None:
        """Start the report cron and the approval-expiry sweep (idempotent)."""
        if self.scheduler is not None:
            return
        from solti.bot.reports import start_scheduler

        self.scheduler = start_scheduler(self)

    def stop(self) -> None:
        """Stop the scheduler and write the pending seen-request keys."""
        if self.seen is not None:
            try:
                self.seen.flush()
            except Exception:
                log.exception("could not persist seen request keys")
        if self.scheduler is not None:
            try:
                self.scheduler.shutdown(wait=False)
            except Exception:  # already stopped
                log.debug("scheduler already stopped")
            self.scheduler = None


def _logged(fn: Callable[..., None], *args: object) -> None:
    try:
        fn(*args)
    except Exception:  # listeners report to the person themselves; this is the last net
        log.exception("background work failed")


_BY_KEY: weakref.WeakValueDictionary[str, Runtime] = weakref.WeakValueDictionary()


def register_runtime(app: Any, runtime: Runtime) -> str:
    """Remember the runtime by app and by a plain key.

    Bolt deep-copies the context for lazy listeners, so the context carries the key (a
    string) and listeners look the runtime up with ``runtime_for``.
    """
    _RUNTIMES[app] = runtime
    key = f"solti-{id(runtime):x}"
    _BY_KEY[key] = runtime
    runtime.key = key
    return key


def runtime_for(context: Any) -> Runtime:
    return _BY_KEY[context["solti_key"]]


def runtime_of(app: Any) -> Runtime | None:
    return _RUNTIMES.get(app)


def start_background(app: Any) -> None:
    runtime = runtime_of(app)
    if runtime is not None:
        runtime.start()


def stop_background(app: Any) -> None:
    runtime = runtime_of(app)
    if runtime is not None:
        runtime.stop()
